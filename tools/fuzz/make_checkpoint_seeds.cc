// Writes the checkpoint fuzzer's seed files: the module of checkpoint_fuzzer.cc saved alone,
// and with Adam state after one step and some metadata. Run by hand when the format changes:
//   tools/fuzz/run.sh --seeds
#include <cstdio>
#include <memory>
#include <string>

#include "autograd/graph.h"
#include "nn/module.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"

namespace {

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Small model;
  recgrad::optim::save(model, dir + "/module_only.ckpt");
  recgrad::optim::Adam opt(model.named_parameters());
  // One step, so the file carries exp_avg / exp_avg_sq records and per-parameter counters.
  for (auto& [name, p] : model.named_parameters())
    recgrad::record("seed_grad", recgrad::scalar(0.f), {p},
                    [shape = p.shape()](const recgrad::Tensor&, recgrad::GradSink& s) {
                      s.add(0, recgrad::full(shape, 0.25f));
                    })
        .backward();
  opt.step();
  recgrad::optim::Metadata meta;
  meta.set("model", "small");
  meta.set_u64("epoch", 3);
  recgrad::optim::save(model, opt, dir + "/with_adam.ckpt", meta);
  return 0;
}
