#pragma once
// Checkpoints: a module's parameters and buffers, optionally an optimizer's state and
// key/value metadata, in one binary file written atomically and read back all-or-nothing.
//
// File layout, version 1. Integers little-endian, no padding:
//
//   header (48 bytes)
//     char[6]  magic        "RGCKPT"
//     u16      version      1
//     u32      flags        bit 0: the file holds optimizer state
//     u64      n_module     module tensor records (Module::state(): parameters, then buffers)
//     u64      n_optimizer  optimizer tensor records (OptimizerState::tensors)
//     u64      n_counters   counter records (OptimizerState::counters: "steps", "<param>.step")
//     u64      n_meta       metadata records
//     u32      crc32        of the 44 bytes above
//   n_module, then n_optimizer tensor records:
//     u32      name_len     1 .. 65536
//     u8[]     name         e.g. "encoder.layers.0.weight", "emb.weight.exp_avg"
//     u32      rank         0 .. 16
//     i64[]    dims         rank sizes, each >= 0
//     f32[]    data         Π dims values, row-major
//     u32      crc32        of every byte of the record before it (name_len .. data)
//   n_counters counter records:   u32 name_len | name | i64 value | u32 crc32
//   n_meta metadata records:      u32 key_len | key | u32 value_len | value | u32 crc32
//   end of file (trailing bytes are an error)
//
// The CRC is CRC-32 (IEEE 802.3, as zlib's crc32). One per record, so a flipped byte is
// reported with the name of the tensor it hit.
//
// Saving writes `path + ".tmp.<pid>"`, flushes and fsyncs it, renames it over `path` (atomic
// on POSIX file systems) and fsyncs the directory: a crash or a failed write leaves either the
// old checkpoint or the new one, never a mix, and the temporary file is removed on failure.
//
// Loading reads and verifies the whole file (magic, version, checksums, sizes), then checks
// names and shapes against the module (and the optimizer), and only then copies: values are
// memcpy'd into the module's existing storages, so tensor handles held by layers stay valid.
// Any error throws recgrad::Error naming the file and the tensor, and leaves the module and
// the optimizer exactly as they were.
//
// To resume a run exactly, also save its Generator: meta.set_u64("generator", gen.state()) and
// gen.set_state(meta.get_u64("generator")) after loading.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "optim/optimizer.h"

namespace recgrad::optim {

/// Key/value strings saved beside the tensors (epoch, seed, Generator state), in insertion order.
class Metadata {
 public:
  /// Sets `key` (non-empty) to `value`, replacing an earlier value.
  void set(const std::string& key, const std::string& value);
  /// Sets `key` to `value` in decimal.
  void set_u64(const std::string& key, uint64_t value);
  bool has(const std::string& key) const;
  /// The value of `key`; throws naming the key when absent.
  const std::string& get(const std::string& key) const;
  /// The value of `key` read as a decimal uint64; throws when absent or not one.
  uint64_t get_u64(const std::string& key) const;
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

/// Writes module.state() (and `meta`) to `path`, atomically.
void save(const nn::Module& module, const std::string& path, const Metadata& meta = {});
/// Writes module.state(), optimizer.state() and `meta` to `path`, atomically.
void save(const nn::Module& module, const Optimizer& optimizer, const std::string& path,
          const Metadata& meta = {});

/// Copies the checkpoint's tensors into the module (exactly the module's names and shapes; any
/// optimizer state in the file is ignored) and returns its metadata.
Metadata load(nn::Module& module, const std::string& path);
/// Same, and replaces the optimizer's state by the file's (which must hold one).
Metadata load(nn::Module& module, Optimizer& optimizer, const std::string& path);

/// Everything a checkpoint holds, read and verified: for tools, tests and partial restores.
struct CheckpointContents {
  NamedTensors module;
  bool has_optimizer = false;
  OptimizerState optimizer;
  Metadata metadata;
};
/// Reads and verifies a whole checkpoint (magic, version, checksums, sizes, unique names).
CheckpointContents read_checkpoint(const std::string& path);

}  // namespace recgrad::optim

// Internals shared between files; every package keeps them in recgrad::detail (a nested
// `detail` would hide recgrad::detail from code in the package).
namespace recgrad::detail {
/// Extends a CRC-32 (IEEE, reflected, as zlib's crc32; start from 0) by n bytes.
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);
}  // namespace recgrad::detail


