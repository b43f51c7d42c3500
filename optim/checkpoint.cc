#include "optim/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "autograd/error.h"

namespace recgrad::optim {

namespace {

constexpr char kMagic[6] = {'R', 'G', 'C', 'K', 'P', 'T'};
constexpr uint16_t kVersion = 1;
constexpr uint32_t kFlagOptimizer = 1;
constexpr size_t kHeaderBytes = 48;
constexpr uint32_t kMaxNameBytes = 1 << 16;
constexpr uint32_t kMaxRank = 16;

bool host_is_little_endian() {
  const uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

std::string errno_text() { return std::strerror(errno); }

// ---------------------------------------------------------------------------------------------
// Writing

// Writes through a FILE*, keeping a running CRC of the current record. Every failure throws
// an Error naming the checkpoint; the caller removes the temporary file.
class Writer {
 public:
  Writer(std::FILE* f, const std::string& path) : f_(f), path_(path) {}

  void bytes(const void* data, size_t n) {
    crc_ = detail::crc32(data, n, crc_);
    if (n > 0 && std::fwrite(data, 1, n, f_) != n)
      throw Error("checkpoint '" + path_ + "': write failed: " + errno_text());
  }
  void le(uint64_t v, int n) {
    std::string b;
    put_le(b, v, n);
    bytes(b.data(), b.size());
  }
  void str(const std::string& s) {
    le(s.size(), 4);
    bytes(s.data(), s.size());
  }
  void floats(const float* data, int64_t n) {
    if (host_is_little_endian()) return bytes(data, sizeof(float) * static_cast<size_t>(n));
    std::vector<unsigned char> buf(4096 * sizeof(float));
    for (int64_t i = 0; i < n; i += 4096) {
      const int64_t m = std::min<int64_t>(4096, n - i);
      for (int64_t k = 0; k < m; ++k) {
        uint32_t u;
        std::memcpy(&u, data + i + k, 4);
        for (int b = 0; b < 4; ++b) buf[4 * k + b] = static_cast<unsigned char>(u >> (8 * b));
      }
      bytes(buf.data(), 4 * static_cast<size_t>(m));
    }
  }
  /// Ends a record: appends the CRC of its bytes so far, and starts the next record's CRC.
  void end_record() {
    const uint32_t crc = crc_;
    le(crc, 4);
    crc_ = 0;
  }

 private:
  std::FILE* f_;
  const std::string& path_;
  uint32_t crc_ = 0;
};

void write_tensor(Writer& w, const std::string& name, const Tensor& t) {
  w.str(name);
  w.le(t.shape().size(), 4);
  for (int64_t d : t.shape()) w.le(static_cast<uint64_t>(d), 8);
  w.floats(t.data(), t.numel());
  w.end_record();
}

void write_contents(Writer& w, const NamedTensors& module, const OptimizerState* opt,
                    const Metadata& meta) {
  w.bytes(kMagic, sizeof(kMagic));
  w.le(kVersion, 2);
  w.le(opt ? kFlagOptimizer : 0, 4);
  w.le(module.size(), 8);
  w.le(opt ? opt->tensors.size() : 0, 8);
  w.le(opt ? opt->counters.size() : 0, 8);
  w.le(meta.entries().size(), 8);
  w.end_record();
  for (const auto& [name, t] : module) write_tensor(w, name, t);
  if (opt) {
    for (const auto& [name, t] : opt->tensors) write_tensor(w, name, t);
    for (const auto& [name, value] : opt->counters) {
      w.str(name);
      w.le(static_cast<uint64_t>(value), 8);
      w.end_record();
    }
  }
  for (const auto& [key, value] : meta.entries()) {
    w.str(key);
    w.str(value);
    w.end_record();
  }
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void check_names(const NamedTensors& tensors, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    RECGRAD_CHECK(!name.empty() && name.size() <= kMaxNameBytes, "checkpoint '", path,
                  "': tensor name '", name, "' is empty or longer than ", kMaxNameBytes, " bytes");
    RECGRAD_CHECK(seen.insert(name).second, "checkpoint '", path, "': tensor '", name,
                  "' appears twice");
    RECGRAD_CHECK(t.defined(), "checkpoint '", path, "': tensor '", name, "' is undefined");
    RECGRAD_CHECK(t.dim() <= static_cast<int64_t>(kMaxRank), "checkpoint '", path, "': tensor '",
                  name, "' has rank ", t.dim(), " (at most ", kMaxRank, ")");
  }
}

// Generator positions travel as metadata "generator.<path>" (u64 values).
constexpr const char* kGeneratorPrefix = "generator.";

void save_impl(const nn::Module& module, const Optimizer* optimizer, const std::string& path,
               const Metadata& user_meta) {
  Metadata meta = user_meta;
  for (const auto& [name, gen] : module.named_generators())
    meta.set_u64(kGeneratorPrefix + name, gen->state());
  const NamedTensors tensors = module.state();
  OptimizerState opt;
  if (optimizer) opt = optimizer->state();
  check_names(tensors, path);
  if (optimizer) check_names(opt.tensors, path);

  const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(getpid()));
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw Error("checkpoint '" + path + "': cannot create '" + tmp + "': " + errno_text());
  try {
    Writer w(f, path);
    write_contents(w, tensors, optimizer ? &opt : nullptr, meta);
    if (std::fflush(f) != 0)
      throw Error("checkpoint '" + path + "': write failed: " + errno_text());
    if (fsync(fileno(f)) != 0)
      throw Error("checkpoint '" + path + "': fsync failed: " + errno_text());
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    const std::string why = errno_text();
    std::remove(tmp.c_str());
    throw Error("checkpoint '" + path + "': close failed: " + why);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    std::remove(tmp.c_str());
    throw Error("checkpoint '" + path + "': cannot rename '" + tmp + "' over it: " + why);
  }
  // Make the rename itself durable: the directory entry lives in the directory's data.
  const std::string dir = directory_of(path);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  const bool synced = fd >= 0 && fsync(fd) == 0;
  const std::string why = synced ? "" : errno_text();
  if (fd >= 0) ::close(fd);
  if (!synced)
    throw Error("checkpoint '" + path + "': written, but syncing directory '" + dir +
                "' failed: " + why);
}

// ---------------------------------------------------------------------------------------------
// Reading

// Reads a file front to back, keeping a running CRC of the current record and refusing to read
// past the end (a truncated file), so corrupted sizes never cause huge allocations.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw Error("checkpoint '" + path + "': cannot open: " + errno_text());
    struct stat st;
    if (fstat(fileno(f_), &st) != 0) {
      std::fclose(f_);
      throw Error("checkpoint '" + path + "': cannot stat: " + errno_text());
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~Reader() { std::fclose(f_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  uint64_t remaining() const { return size_ - offset_; }

  /// Reads n bytes of `what` (for the truncation message).
  void bytes(void* out, size_t n, const std::string& what) {
    if (n > remaining() || (n > 0 && std::fread(out, 1, n, f_) != n))
      fail("truncated: the file ends inside " + what);
    offset_ += n;
    crc_ = detail::crc32(out, n, crc_);
  }
  uint64_t le(int n, const std::string& what) {
    unsigned char b[8];
    bytes(b, static_cast<size_t>(n), what);
    return get_le(b, n);
  }
  std::string str(const std::string& what) {
    const uint64_t n = le(4, what);
    if (n == 0 || n > kMaxNameBytes)
      fail("corrupted: " + what + " has length " + std::to_string(n));
    std::string s(n, '\0');
    bytes(s.data(), n, what);
    return s;
  }
  void floats(float* out, int64_t n, const std::string& what) {
    bytes(out, sizeof(float) * static_cast<size_t>(n), what);
    if (host_is_little_endian()) return;
    for (int64_t i = 0; i < n; ++i) {
      unsigned char b[4];
      std::memcpy(b, out + i, 4);
      const uint32_t u = static_cast<uint32_t>(get_le(b, 4));
      std::memcpy(out + i, &u, 4);
    }
  }
  /// Ends a record: reads its stored CRC and compares it with the CRC of the bytes read.
  void end_record(const std::string& what) {
    const uint32_t computed = crc_;
    const uint32_t stored = static_cast<uint32_t>(le(4, what + " (checksum)"));
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // fuzzers get past checksums to what follows
    (void)computed, (void)stored;
#else
    if (stored != computed) fail("corrupted: checksum mismatch in " + what);
#endif
    crc_ = 0;
  }
  void expect_end() {
    if (remaining() != 0)
      fail("corrupted: " + std::to_string(remaining()) + " unexpected bytes after the last record");
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw Error("checkpoint '" + path_ + "': " + why);
  }

 private:
  const std::string& path_;
  std::FILE* f_;
  uint64_t size_ = 0, offset_ = 0;
  uint32_t crc_ = 0;
};

std::pair<std::string, Tensor> read_tensor(Reader& r, const char* section, uint64_t index) {
  const std::string record = std::string(section) + " tensor record " + std::to_string(index);
  const std::string name = r.str(record + " (name)");
  const std::string what = "tensor '" + name + "'";
  const uint64_t rank = r.le(4, what + " (rank)");
  if (rank > kMaxRank) r.fail("corrupted: " + what + " has rank " + std::to_string(rank));
  Shape shape;
  uint64_t numel = 1;
  for (uint64_t d = 0; d < rank; ++d) {
    const auto dim = static_cast<int64_t>(r.le(8, what + " (shape)"));
    if (dim < 0) r.fail("corrupted: " + what + " has a negative dimension");
    shape.push_back(dim);
    // A size the rest of the file cannot hold means truncation (or a corrupted dim): stop before
    // allocating it. Dividing keeps the product from overflowing.
    if (dim > 0 && numel > r.remaining() / 4 / static_cast<uint64_t>(dim))
      r.fail("truncated: the file ends inside " + what + " (shape " + shape.str() + "...)");
    numel *= static_cast<uint64_t>(dim);
  }
  if (numel * 4 > r.remaining())
    r.fail("truncated: the file ends inside " + what + " (data of shape " + shape.str() + ")");
  Tensor t = Tensor::empty(shape);
  r.floats(t.data(), t.numel(), what + " (data)");
  r.end_record(what);
  return {name, t};
}

void check_unique(const NamedTensors& tensors, const Reader& r) {
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors)
    if (!seen.insert(name).second) r.fail("tensor '" + name + "' appears twice");
}

// Names and shapes of the file's module tensors against the module's, before anything is copied.
void check_module(const NamedTensors& file, const NamedTensors& module, const std::string& path) {
  std::map<std::string, const Tensor*> in_file;
  for (const auto& [name, t] : file) in_file[name] = &t;
  std::set<std::string> wanted;
  for (const auto& [name, t] : module) {
    wanted.insert(name);
    auto it = in_file.find(name);
    RECGRAD_CHECK(it != in_file.end(), "checkpoint '", path, "': missing tensor '", name,
                  "' (the module has it, the file does not)");
    RECGRAD_CHECK(it->second->shape() == t.shape(), "checkpoint '", path, "': tensor '", name,
                  "' has shape ", it->second->shape(), " in the file but ", t.shape(),
                  " in the module");
  }
  for (const auto& [name, t] : file)
    RECGRAD_CHECK(wanted.count(name) > 0, "checkpoint '", path, "': unexpected tensor '", name,
                  "' (the file has it, the module does not)");
}

void copy_into(const NamedTensors& file, const NamedTensors& module) {
  std::map<std::string, const Tensor*> in_file;
  for (const auto& [name, t] : file) in_file[name] = &t;
  for (const auto& [name, t] : module) {
    Tensor dst = t;
    std::memcpy(dst.data(), in_file.at(name)->data(), sizeof(float) * static_cast<size_t>(t.numel()));
  }
}

Metadata load_impl(nn::Module& module, Optimizer* optimizer, const std::string& path) {
  CheckpointContents c = read_checkpoint(path);
  const NamedTensors targets = module.state();
  check_module(c.module, targets, path);
  if (optimizer) {
    RECGRAD_CHECK(c.has_optimizer, "checkpoint '", path,
                  "': holds no optimizer state (it was saved without an optimizer)");
    try {
      optimizer->check_state(c.optimizer);
    } catch (const Error& e) {
      throw Error("checkpoint '" + path + "': optimizer state: " + e.what());
    }
  }
  // Generators the module has must be in the file (older files without them are refused by
  // name, like a missing tensor).
  std::vector<std::pair<Generator*, uint64_t>> streams;
  for (const auto& [name, gen] : module.named_generators()) {
    const std::string key = kGeneratorPrefix + name;
    RECGRAD_CHECK(c.metadata.has(key), "checkpoint '", path, "': no state for generator '", name,
                  "'");
    streams.emplace_back(gen, c.metadata.get_u64(key));
  }
  // Everything is verified: from here on nothing throws (but bad_alloc in load_state's maps).
  copy_into(c.module, targets);
  for (auto& [gen, state] : streams) gen->set_state(state);
  if (optimizer) optimizer->load_state(c.optimizer);
  return c.metadata;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Metadata

void Metadata::set(const std::string& key, const std::string& value) {
  RECGRAD_CHECK(!key.empty() && key.size() <= kMaxNameBytes, "Metadata: key '", key,
                "' is empty or too long");
  for (auto& [k, v] : entries_)
    if (k == key) {
      v = value;
      return;
    }
  entries_.emplace_back(key, value);
}

void Metadata::set_u64(const std::string& key, uint64_t value) { set(key, std::to_string(value)); }

bool Metadata::has(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return true;
  return false;
}

const std::string& Metadata::get(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v;
  throw Error("Metadata: no key '" + key + "'");
}

uint64_t Metadata::get_u64(const std::string& key) const {
  const std::string& v = get(key);
  const bool digits = !v.empty() && v.size() <= 20 &&
                      v.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  char* end = nullptr;
  const unsigned long long x = digits ? std::strtoull(v.c_str(), &end, 10) : 0;
  RECGRAD_CHECK(digits && errno == 0, "Metadata: key '", key, "' holds '", v,
                "', not a decimal uint64");
  return static_cast<uint64_t>(x);
}

// ---------------------------------------------------------------------------------------------
// Public entry points

void save(const nn::Module& module, const std::string& path, const Metadata& meta) {
  save_impl(module, nullptr, path, meta);
}

void save(const nn::Module& module, const Optimizer& optimizer, const std::string& path,
          const Metadata& meta) {
  save_impl(module, &optimizer, path, meta);
}

Metadata load(nn::Module& module, const std::string& path) {
  return load_impl(module, nullptr, path);
}

Metadata load(nn::Module& module, Optimizer& optimizer, const std::string& path) {
  return load_impl(module, &optimizer, path);
}

CheckpointContents read_checkpoint(const std::string& path) {
  Reader r(path);
  char magic[sizeof(kMagic)];
  r.bytes(magic, sizeof(magic), "the header");
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0)
    r.fail("not a recgrad checkpoint (bad magic; expected \"RGCKPT\")");
  const uint64_t version = r.le(2, "the header");
  if (version != kVersion)
    r.fail("format version " + std::to_string(version) + ", but this build reads version " +
           std::to_string(kVersion));
  const uint64_t flags = r.le(4, "the header");
  const uint64_t n_module = r.le(8, "the header");
  const uint64_t n_optimizer = r.le(8, "the header");
  const uint64_t n_counters = r.le(8, "the header");
  const uint64_t n_meta = r.le(8, "the header");
  r.end_record("the header");
  static_assert(sizeof(kMagic) + 2 + 4 + 4 * 8 + 4 == kHeaderBytes, "header layout");
  if ((flags & ~uint64_t{kFlagOptimizer}) != 0) r.fail("corrupted: unknown header flags");

  CheckpointContents c;
  c.has_optimizer = (flags & kFlagOptimizer) != 0;
  if (!c.has_optimizer && (n_optimizer != 0 || n_counters != 0))
    r.fail("corrupted: optimizer records in a file flagged as holding none");
  // Each record takes at least 4 bytes, so counts beyond the file size are corruption; checking
  // here keeps a corrupted count from reserving memory.
  for (uint64_t n : {n_module, n_optimizer, n_counters, n_meta})
    if (n > r.remaining() / 4) r.fail("truncated: the header announces more records than the file holds");

  for (uint64_t i = 0; i < n_module; ++i) c.module.push_back(read_tensor(r, "module", i));
  for (uint64_t i = 0; i < n_optimizer; ++i)
    c.optimizer.tensors.push_back(read_tensor(r, "optimizer", i));
  for (uint64_t i = 0; i < n_counters; ++i) {
    const std::string name = r.str("counter record " + std::to_string(i) + " (name)");
    const auto value = static_cast<int64_t>(r.le(8, "counter '" + name + "'"));
    r.end_record("counter '" + name + "'");
    c.optimizer.counters.emplace_back(name, value);
  }
  for (uint64_t i = 0; i < n_meta; ++i) {
    const std::string key = r.str("metadata record " + std::to_string(i) + " (key)");
    const uint64_t n = r.le(4, "metadata '" + key + "'");
    if (n > r.remaining()) r.fail("truncated: the file ends inside metadata '" + key + "'");
    std::string value(n, '\0');
    r.bytes(value.data(), n, "metadata '" + key + "'");
    r.end_record("metadata '" + key + "'");
    RECGRAD_CHECK(!c.metadata.has(key), "checkpoint '", path, "': metadata key '", key,
                  "' appears twice");
    c.metadata.set(key, value);
  }
  r.expect_end();
  check_unique(c.module, r);
  check_unique(c.optimizer.tensors, r);
  return c;
}

}  // namespace recgrad::optim

namespace recgrad::detail {
using namespace recgrad::optim;  // this file's package types, unqualified

namespace {
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

// Slicing-by-8 tables: T[0] is the classic byte table; T[k] advances a byte k more positions,
// so eight input bytes are folded per iteration (~4x the byte-at-a-time speed).
CrcTables make_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}
}  // namespace

uint32_t crc32(const void* data, size_t n, uint32_t crc) {
  static const CrcTables t = make_tables();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    const uint32_t lo = c ^ (p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24);
    const uint32_t hi = p[4] | p[5] << 8 | p[6] << 16 | static_cast<uint32_t>(p[7]) << 24;
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) c = t[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return ~c;
}

}  // namespace recgrad::detail

namespace recgrad::optim {
}  // namespace recgrad::optim
