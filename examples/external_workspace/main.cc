// A program outside recgrad's repository that uses it, built two ways by
// tools/check_consumers.sh: with Bazel from this workspace (@recgrad//:recgrad_lib), and with
// plain g++ against the installed library:
//   g++ -O2 -o consumer main.cc $(pkg-config --cflags --libs recgrad)
//
// It writes an op of its own (with its backward) and checks it with the public gradcheck, then
// trains BPR-MF from the model zoo on a small synthetic dataset and asks for recommendations.
#include <cstdio>
#include <vector>

#include "autograd/autograd.h"
#include "nn/nn.h"
#include "ops/ops.h"
#include "optim/optim.h"
#include "recsys/recsys.h"

using namespace recgrad;

// y = x³, with dy/dx = 3x²: an op the library does not have, written against its public API.
Tensor cube(const Tensor& x) {
  Tensor out = mul(mul(x, x), x).detach();  // the forward, cut from the graph ...
  return record("cube", out, {x}, [x](const Tensor& g, GradSink& s) {  // ... and its backward
    s.add(0, mul(g, mul(mul(x, x), 3.f)));
  });
}

int main() try {
  Generator gen(7);
  const GradcheckResult check =
      gradcheck([](const std::vector<Tensor>& in) { return cube(in[0]); }, {randn({4, 3}, gen)});
  std::printf("gradcheck cube: %s\n", check ? "ok" : check.message.c_str());

  // A model from the zoo, by name, on the built-in synthetic data.
  recsys::DataSpec data;
  data.split = "ratio";
  data.synthetic_users = 100;
  data.synthetic_items = 150;
  data.synthetic_rows = 3000;
  const recsys::Experiment ex = recsys::Experiment::load(data);
  recsys::ModelSpec spec;
  spec.name = "bpr";
  spec.dim = 16;
  spec.batch_size = 256;
  auto model = recsys::find_model(spec.name).make(spec, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
  auto optimizer = model->make_optimizer();
  recsys::TrainerOptions options;
  options.epochs = 3;
  options.progress = recsys::ProgressMode::kQuiet;
  const recsys::TrainResult trained = recsys::train(*model, *optimizer, options);
  std::printf("trained %s: %zu epochs, last loss %.4f\n", model->name().c_str(),
              trained.epochs.size(), trained.epochs.back().loss);

  model->eval();
  const recsys::TopK top = model->recommend({0}, 5, ex.train_valid, ex.train_valid);
  std::printf("recommendations for user %s:", ex.data.user_ids.raw(0).c_str());
  for (int64_t item : top.items.values) std::printf(" %s", ex.data.item_ids.raw(item).c_str());
  std::printf("\n");
  return check ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consumer: %s\n", e.what());
  return 1;
}
