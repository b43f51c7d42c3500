#include "optim/checkpoint.h"

#include "nn/dropout.h"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;
namespace fs = std::filesystem;

namespace {

// A fresh directory under TEST_TMPDIR, removed with everything in it at the end of the test.
struct TempDir {
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    path = std::string(base ? base : "/tmp") + "/ckpt_XXXXXX";
    REQUIRE(mkdtemp(path.data()) != nullptr);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string path;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// w [3,4], b [b_size], buffer count [1]; `extra` adds a parameter c [2]; `drop_b` leaves out b.
struct Net : nn::Module {
  explicit Net(uint64_t seed, int64_t b_size = 4, bool extra = false, bool drop_b = false) {
    Generator gen(seed);
    w = register_parameter("w", randn({3, 4}, gen));
    if (!drop_b) b = register_parameter("b", randn({b_size}, gen));
    count = register_buffer("count", full({1}, static_cast<float>(seed)));
    if (extra) c = register_parameter("c", zeros({2}));
  }
  Tensor w, b, count, c;
};

// Copies of every state tensor, to check later that a failed load changed nothing.
std::vector<Tensor> snapshot(const nn::Module& m) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : m.state()) out.push_back(t.clone());
  return out;
}

bool unchanged(const nn::Module& m, const std::vector<Tensor>& snap) {
  const nn::NamedTensors now = m.state();
  for (size_t i = 0; i < now.size(); ++i)
    if (!same_bits(now[i].second, snap[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("checkpoint: crc32 is zlib's CRC-32") {
  CHECK(recgrad::detail::crc32("123456789", 9) == 0xCBF43926u);
  CHECK(recgrad::detail::crc32("", 0) == 0u);
  // Extending in pieces equals one pass (the slicing-by-8 path and the byte path agree).
  const std::string s = "The quick brown fox jumps over the lazy dog, twice over.";
  CHECK(recgrad::detail::crc32(s.data() + 5, s.size() - 5, recgrad::detail::crc32(s.data(), 5)) ==
        recgrad::detail::crc32(s.data(), s.size()));
  CHECK(recgrad::detail::crc32("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
}

TEST_CASE("checkpoint: a round trip into a fresh module is bit-identical and keeps its handles") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt";
  Net saved(1), fresh(2);
  Metadata meta;
  meta.set_u64("epoch", 12);
  meta.set("note", "");
  save(saved, path, meta);
  CHECK(files_in(dir) == std::vector<std::string>{"net.ckpt"});  // the temp file is gone

  const float* w_storage = fresh.w.data();
  const Metadata back = load(fresh, path);
  CHECK(fresh.w.data() == w_storage);  // copied into the same storage: layers' handles stay valid
  CHECK(same_bits(fresh.w, saved.w));
  CHECK(same_bits(fresh.b, saved.b));
  CHECK(same_bits(fresh.count, saved.count));
  CHECK(back.get_u64("epoch") == 12);
  CHECK(back.get("note").empty());
  CHECK(back.entries().size() == 2);
  // The documented layout: 48-byte header, then w's record: len, "w", rank, 2 dims, 12 floats, crc.
  const std::string bytes = read_bytes(path);
  CHECK(bytes.substr(0, 6) == "RGCKPT");
  CHECK(bytes[48] == 1);
  CHECK(bytes[52] == 'w');
  float w00;
  std::memcpy(&w00, bytes.data() + 48 + 4 + 1 + 4 + 16, 4);
  CHECK(w00 == saved.w.at({0, 0}));
}

TEST_CASE("checkpoint: saving over an existing checkpoint replaces it") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt";
  Net a(1), b(2), c(3);
  save(a, path);
  save(b, path);
  load(c, path);
  CHECK(same_bits(c.w, b.w));
  CHECK(files_in(dir) == std::vector<std::string>{"net.ckpt"});
}

TEST_CASE("checkpoint: names and shapes that do not match are rejected and nothing is loaded") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt";
  save(Net(1), path);
  {
    Net m(2, 4, /*extra=*/true);
    const auto snap = snapshot(m);
    CHECK_THROWS_WITH_AS(load(m, path), doctest::Contains("': missing tensor 'c'"), Error);
    CHECK(unchanged(m, snap));
  }
  {
    Net m(2, 4, false, /*drop_b=*/true);
    const auto snap = snapshot(m);
    CHECK_THROWS_WITH_AS(load(m, path), doctest::Contains("unexpected tensor 'b'"), Error);
    CHECK(unchanged(m, snap));
  }
  {
    Net m(2, /*b_size=*/5);
    const auto snap = snapshot(m);
    CHECK_THROWS_WITH_AS(load(m, path),
                         doctest::Contains("tensor 'b' has shape [4] in the file but [5] in the module"),
                         Error);
    CHECK(unchanged(m, snap));
  }
  Net m(2);
  CHECK_THROWS_WITH_AS(load(m, dir + "/absent.ckpt"),
                       doctest::Contains("absent.ckpt': cannot open: No such file"), Error);
}

TEST_CASE("checkpoint: every truncation is rejected, naming the tensor it cut") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt", cut = dir + "/cut.ckpt";
  save(Net(1), path);
  const std::string bytes = read_bytes(path);
  Net m(2);
  const auto snap = snapshot(m);
  for (size_t n = 0; n < bytes.size(); ++n) {
    write_bytes(cut, bytes.substr(0, n));
    CHECK_THROWS_AS_MESSAGE(load(m, cut), Error, "prefix of ", n, " bytes");
  }
  CHECK(unchanged(m, snap));
  // b's record starts after the header (48) and w's record (4 + 1 + 4 + 16 + 48 + 4 = 77).
  write_bytes(cut, bytes.substr(0, 48 + 77 + 20));
  CHECK_THROWS_WITH_AS(load(m, cut),
                       doctest::Contains("cut.ckpt': truncated: the file ends inside tensor 'b'"),
                       Error);
  write_bytes(cut, bytes + "x");
  CHECK_THROWS_WITH_AS(load(m, cut), doctest::Contains("1 unexpected bytes after the last record"),
                       Error);
}

TEST_CASE("checkpoint: a flipped byte fails the checksum of the tensor it hit; any flipped bit is caught") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt", bad = dir + "/bad.ckpt";
  save(Net(1), path);
  const std::string bytes = read_bytes(path);
  Net m(2);
  const auto snap = snapshot(m);
  std::string flipped = bytes;
  flipped[48 + 77 + 17 + 5] ^= 0x10;  // inside b's data (after len 4, name 1, rank 4, dim 8)
  write_bytes(bad, flipped);
  CHECK_THROWS_WITH_AS(load(m, bad), doctest::Contains("bad.ckpt': corrupted: checksum mismatch in tensor 'b'"),
                       Error);
  for (size_t i = 0; i < bytes.size(); ++i)
    for (int bit : {0, 7}) {
      flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      write_bytes(bad, flipped);
      CHECK_THROWS_AS_MESSAGE(load(m, bad), Error, "byte ", i, " bit ", bit);
    }
  CHECK(unchanged(m, snap));
}

TEST_CASE("checkpoint: wrong magic and wrong version are named as such") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt";
  save(Net(1), path);
  const std::string bytes = read_bytes(path);
  Net m(2);
  const auto snap = snapshot(m);
  std::string b = bytes;
  b[0] = 'X';
  write_bytes(path, b);
  CHECK_THROWS_WITH_AS(load(m, path), doctest::Contains("not a recgrad checkpoint (bad magic"), Error);
  b = bytes;
  b[6] = 2;  // u16 version, little-endian
  write_bytes(path, b);
  CHECK_THROWS_WITH_AS(load(m, path),
                       doctest::Contains("format version 2, but this build reads version 1"), Error);
  write_bytes(path, "hello");
  CHECK_THROWS_WITH_AS(load(m, path), doctest::Contains("truncated: the file ends inside the header"),
                       Error);
  CHECK(unchanged(m, snap));
}

TEST_CASE("checkpoint: optimizer state is checked before anything is loaded") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string with_opt = dir + "/opt.ckpt", without = dir + "/plain.ckpt";
  Net a(1);
  Adam adam(a.named_parameters());
  set_grad(a.w, ones({3, 4}));
  adam.step();
  save(a, adam, with_opt);
  save(a, without);

  Net m(2);
  const auto snap = snapshot(m);
  SGDOptions o;
  o.momentum = 0.9;
  SGD sgd(m.named_parameters(), o);
  CHECK_THROWS_WITH_AS(load(m, sgd, with_opt),
                       doctest::Contains("opt.ckpt': optimizer state: SGD: state: unexpected tensor 'w.exp_avg'"),
                       Error);
  CHECK(unchanged(m, snap));
  CHECK(sgd.steps() == 0);
  Adam adam2(m.named_parameters());
  CHECK_THROWS_WITH_AS(load(m, adam2, without), doctest::Contains("holds no optimizer state"), Error);
  CHECK(unchanged(m, snap));
  Net module_only(3);
  load(module_only, with_opt);  // a module alone may load from a file with optimizer state
  CHECK(same_bits(module_only.w, a.w));

  // A flipped byte in the optimizer section names the state tensor. Its records follow the
  // module's: w (77), b (4+1+4+8+16+4 = 37), count (4+5+4+8+4+4 = 29).
  std::string bytes = read_bytes(with_opt);
  const size_t exp_avg = 48 + 77 + 37 + 29;
  CHECK(bytes.substr(exp_avg + 4, 9) == "w.exp_avg");
  bytes[exp_avg + 4 + 9 + 4 + 16 + 3] ^= 1;
  write_bytes(with_opt, bytes);
  CHECK_THROWS_WITH_AS(load(m, adam2, with_opt), doctest::Contains("checksum mismatch in tensor 'w.exp_avg'"),
                       Error);
  CHECK(unchanged(m, snap));
  CHECK(adam2.state().tensors.empty());
}

TEST_CASE("checkpoint: a failed save leaves the existing checkpoint intact and no temp file") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/net.ckpt";
  Net small(1);
  save(small, path);
  const std::string before = read_bytes(path);

  struct Big : nn::Module {
    Big() { register_parameter("table", zeros({100, 100})); }
  } big;
  // The write fails midway: a file-size limit of 1000 bytes makes write() return EFBIG (with
  // SIGXFSZ ignored) once the temp file reaches it.
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = old;
  limited.rlim_cur = 1000;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  std::string message;
  try {
    save(big, path);
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  CHECK(message.find("net.ckpt': write failed") != std::string::npos);
  CHECK(read_bytes(path) == before);
  CHECK(files_in(dir) == std::vector<std::string>{"net.ckpt"});

  CHECK_THROWS_WITH_AS(save(small, dir + "/no/such/dir/net.ckpt"), doctest::Contains("cannot create"),
                       Error);
  CHECK(files_in(dir) == std::vector<std::string>{"net.ckpt"});
}

TEST_CASE("checkpoint: metadata keys are checked") {
  Metadata meta;
  meta.set("seed", "42");
  meta.set("seed", "43");
  meta.set("name", "bpr");
  CHECK(meta.entries().size() == 2);
  CHECK(meta.get_u64("seed") == 43);
  CHECK(meta.get_u64("seed") == 43);
  CHECK_THROWS_WITH_AS(meta.get("epoch"), doctest::Contains("no key 'epoch'"), Error);
  CHECK_THROWS_WITH_AS(meta.get_u64("name"), doctest::Contains("holds 'bpr', not a decimal uint64"), Error);
  CHECK_THROWS_AS(meta.set("", "x"), Error);
  meta.set("huge", "99999999999999999999");
  CHECK_THROWS_AS(meta.get_u64("huge"), Error);
  meta.set_u64("max", ~uint64_t{0});
  CHECK(meta.get_u64("max") == ~uint64_t{0});
}

// ---------------------------------------------------------------------------------------------
// Resuming: a run interrupted by save/load continues exactly like an uninterrupted one.

namespace {

// Dense weights fitted by least squares, and an embedding-like table whose rows (drawn from
// the run's Generator) are pulled towards 1 through a row-sparse gradient.
struct Model : nn::Module {
  explicit Model(uint64_t seed) {
    Generator gen(seed);
    w = register_parameter("w", randn({3, 2}, gen));
    table = register_parameter("table", randn({20, 2}, gen));
  }
  Tensor w, table;
};

// ½ Σ over the unique picked rows of (table[r] − 1)², with a row-sparse gradient.
Tensor pull_rows(const Tensor& table, std::vector<int64_t> rows) {
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  double loss = 0;
  Tensor grad = Tensor::empty({static_cast<int64_t>(rows.size()), 2});
  for (size_t k = 0; k < rows.size(); ++k)
    for (int j = 0; j < 2; ++j) {
      const float d = table.at({rows[k], j}) - 1.f;
      loss += 0.5 * d * d;
      grad.data()[k * 2 + j] = d;
    }
  return record("pull_rows", scalar(static_cast<float>(loss)), {table},
                [rows, grad](const Tensor& dy, GradSink& s) {
                  Tensor g = grad.clone();
                  for (int64_t i = 0; i < g.numel(); ++i) g.data()[i] *= dy.item();
                  s.add_sparse(0, RowSparseGrad{rows, g});
                });
}

void train_steps(Model& m, Adam& opt, Generator& gen, int steps) {
  const Tensor x = tensor({1, 2, 3, -1, 0.5f, 2, 0, 1, -2}, {3, 3});
  const Tensor y = tensor({1, 0, 0, 1, 1, 1}, {3, 2});
  const Schedule sched = linear_warmup(2, cosine_lr(10, 1e-3));
  for (int i = 0; i < steps; ++i) {
    sched.apply(opt, opt.steps());
    std::vector<int64_t> rows;
    for (int k = 0; k < 4; ++k) rows.push_back(static_cast<int64_t>(gen.next_below(20)));
    mse_loss(matmul(x, m.w), y).backward();
    pull_rows(m.table, rows).backward();
    opt.step();
    opt.zero_grad();
  }
}

}  // namespace

TEST_CASE("checkpoint: a resumed run continues bit for bit like an uninterrupted one") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string path = dir + "/run.ckpt";
  AdamOptions o;
  o.lr = 0.05, o.weight_decay = 0.01;

  Model straight(7);
  Adam opt_straight(straight.named_parameters(), o);
  Generator gen_straight(99);
  train_steps(straight, opt_straight, gen_straight, 6);

  {
    Model first(7);
    Adam opt(first.named_parameters(), o);
    Generator gen(99);
    train_steps(first, opt, gen, 3);
    Metadata meta;
    meta.set_u64("generator", gen.state());
    save(first, opt, path, meta);
  }
  Model resumed(123);  // different initial values: everything must come from the file
  Adam opt(resumed.named_parameters(), o);
  Generator gen(0);
  const Metadata meta = load(resumed, opt, path);
  gen.set_state(meta.get_u64("generator"));
  CHECK(opt.steps() == 3);
  train_steps(resumed, opt, gen, 3);

  CHECK(same_bits(resumed.w, straight.w));
  CHECK(same_bits(resumed.table, straight.table));
  const OptimizerState a = opt.state(), b = opt_straight.state();
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) CHECK(same_bits(a.tensors[i].second, b.tensors[i].second));
  CHECK(a.counters == b.counters);
  // And the run moved: the parameters are not where either model started.
  CHECK_FALSE(same_bits(resumed.w, Model(7).w));
}

namespace {
struct WithDropout : recgrad::nn::Module {
  explicit WithDropout(recgrad::Generator& gen) {
    drop = register_module("drop", std::make_shared<recgrad::nn::Dropout>(0.5f, gen));
  }
  std::shared_ptr<recgrad::nn::Dropout> drop;
};
}  // namespace

TEST_CASE("checkpoint: generator positions round-trip, so dropout masks continue exactly") {
  recgrad::Generator gen(1);
  WithDropout a(gen), b(gen);
  const recgrad::Tensor x = recgrad::ones({64});
  a.drop->forward(x);  // advance a's stream
  TempDir dir;
  const std::string path = dir.path + "/gen.ckpt";
  save(a, path);
  load(b, path);
  CHECK(a.drop->forward(x).to_vector() == b.drop->forward(x).to_vector());
  recgrad::nn::Module empty;
  save(empty, path);
  CHECK_THROWS_WITH_AS(load(b, path), doctest::Contains("no state for generator 'drop.generator'"),
                       recgrad::Error);
}
