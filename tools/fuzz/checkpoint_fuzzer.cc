// libFuzzer target: the checkpoint reader (optim/checkpoint.h) on arbitrary bytes, then loading
// what it accepted into a small module and its Adam optimizer. A reader or loader may throw
// recgrad::Error (a corrupted file is expected); anything else escaping, a crash, a sanitizer
// report, or a load that half-changed the module is a bug. Built with
// FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the reader skips its checksum comparison, so mutated
// files reach the parsing behind it (sizes, ranks, names, state). Build and run:
// tools/fuzz/run.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "autograd/error.h"
#include "nn/module.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"

namespace {

// The module of tools/fuzz/make_checkpoint_seeds.cc: "weight" [2,3], a child "head" with "bias"
// [2] and a buffer "count" [1].
class Head : public recgrad::nn::Module {
 public:
  Head() {
    register_parameter("bias", recgrad::tensor({0.5f, -0.5f}, {2}));
    register_buffer("count", recgrad::tensor({3.f}, {1}));
  }
};

class Small : public recgrad::nn::Module {
 public:
  Small() {
    register_parameter("weight", recgrad::tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
    register_module("head", std::make_shared<Head>());
  }
};

const std::string& file_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/recgrad_fuzz_XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    return templ + "/x.ckpt";
  }();
  return path;
}

bool same_state(const recgrad::nn::Module& a, const recgrad::nn::Module& b) {
  const auto sa = a.state(), sb = b.state();
  if (sa.size() != sb.size()) return false;
  for (size_t k = 0; k < sa.size(); ++k)
    if (sa[k].second.shape() != sb[k].second.shape() ||
        std::memcmp(sa[k].second.data(), sb[k].second.data(),
                    sizeof(float) * static_cast<size_t>(sa[k].second.numel())) != 0)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = file_path();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  try {
    recgrad::optim::read_checkpoint(path);
  } catch (const recgrad::Error& e) {
    if (std::getenv("RECGRAD_FUZZ_VERBOSE")) std::fprintf(stderr, "rejected: %s\n", e.what());
  }
  // Into the module with its optimizer, then the module alone (files saved without an
  // optimizer take this path). A refused file must leave the module as it was.
  for (const bool with_optimizer : {true, false}) {
    Small model;
    recgrad::optim::Adam opt(model.named_parameters());
    try {
      if (with_optimizer) recgrad::optim::load(model, opt, path);
      else recgrad::optim::load(model, path);
    } catch (const recgrad::Error& e) {
      if (std::getenv("RECGRAD_FUZZ_VERBOSE")) std::fprintf(stderr, "not loaded: %s\n", e.what());
      if (!same_state(model, Small())) {
        std::fprintf(stderr, "checkpoint_fuzzer: a failed load changed the module\n");
        std::abort();
      }
    }
  }
  return 0;
}
