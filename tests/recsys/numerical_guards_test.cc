// The trainer's numerical guards: the first non-finite loss or gradient stops training with a
// NonFiniteError naming the epoch, the batch and (for a gradient) the parameter, before the
// optimizer applies it; check_finite = false trains on; detect_anomaly names the op.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/error.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "optim/sgd.h"
#include "recsys/recommender.h"
#include "recsys/trainer.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

class Head : public nn::Module {
 public:
  Head() { bias = register_parameter("bias", zeros({2})); }
  Tensor bias;
};

// A tiny model with w [4] and head.bias [2] (zeros). Its loss pulls w towards a target that
// changes every batch, and at one chosen (1-based epoch, 0-based batch) goes wrong as `Fault`
// says. Kinds of fault:
//  - kNanLoss: the loss is NaN.
//  - kNanGradient: the loss adds ‖head.bias‖ = sqrt(sum(bias²)) at bias = 0: the loss stays
//    finite (0) but d‖b‖/db = b/‖b‖ = 0·inf = NaN (the L2 norm of a zero vector).
//  - kDiverge (every batch, no target): the loss is sum(w²); with SGD at lr 1.5 each step maps
//    w to -2w, so at step 63 (w₃ = -2^64) w₃² overflows to inf while the gradient 2w is finite.
class Faulty : public Recommender {
 public:
  enum class Fault { kNanLoss, kNanGradient, kDiverge };
  static constexpr int64_t kBatches = 5;

  Faulty(Fault fault, int64_t epoch = 0, int64_t batch = 0)
      : Recommender(TrainConfig{/*lr=*/0.05, 0, 8, 0}), fault_(fault), at_epoch_(epoch),
        at_batch_(batch) {
    w_ = register_parameter("w", tensor({1.f, 0.5f, -0.25f, 2.f}, {4}));
    head_ = register_module("head", std::make_shared<Head>());
  }
  std::string name() const override { return "faulty"; }
  void attach(const TrainingData&) override {}
  int64_t start_epoch(int64_t epoch) override {
    epoch_ = epoch + 1;
    return kBatches;
  }
  int64_t batch_examples(int64_t) const override { return 8; }
  Tensor loss(int64_t index) override {
    if (fault_ == Fault::kDiverge) return sum(square(w_));
    std::vector<float> target(4);
    for (int64_t i = 0; i < 4; ++i) target[i] = std::sin(static_cast<float>(epoch_ * 7 + index * 3 + i));
    Tensor l = sum(square(sub(w_, tensor(target, {4}))));
    if (epoch_ == at_epoch_ && index == at_batch_) {
      if (fault_ == Fault::kNanLoss) l = add(l, std::numeric_limits<float>::quiet_NaN());
      if (fault_ == Fault::kNanGradient) l = add(l, sqrt(sum(square(head_->bias))));
    }
    return l;
  }
  Tensor score(const std::vector<int64_t>& users, const UserItems&) override {
    return zeros({static_cast<int64_t>(users.size()), 4});
  }
  std::vector<float> weights() const { return w_.to_vector(); }

 private:
  Fault fault_;
  int64_t at_epoch_, at_batch_, epoch_ = 0;
  Tensor w_;
  std::shared_ptr<Head> head_;
};

TrainerOptions quiet(int64_t epochs) {
  TrainerOptions t;
  t.epochs = epochs;
  t.progress = ProgressMode::kQuiet;
  return t;
}

}  // namespace

TEST_CASE("train: a NaN gradient is an error naming the parameter, epoch and batch") {
  Faulty model(Faulty::Fault::kNanGradient, /*epoch=*/3, /*batch=*/1);
  auto opt = model.make_optimizer();
  // The weights after epoch 2 are those the failing step must leave alone.
  Faulty twin(Faulty::Fault::kNanGradient, 3, 1);
  auto twin_opt = twin.make_optimizer();
  train(twin, *twin_opt, quiet(2));
  CHECK_THROWS_WITH_AS(
      train(model, *opt, quiet(5)),
      doctest::Contains("train: faulty: Adam: the gradient of 'head.bias' [2] holds nan (element "
                        "[0]) at epoch 3, batch 2 of 5"),
      NonFiniteError);
  // The failing batch's own step was refused, so epoch 3's first batch is the only change
  // since epoch 2; w is finite and head.bias still zero.
  for (float v : model.weights()) CHECK(std::isfinite(v));
  CHECK(model.named_parameters().at(1).first == "head.bias");
  CHECK(model.named_parameters().at(1).second.to_vector() == std::vector<float>{0.f, 0.f});
  CHECK(model.weights() != twin.weights());  // epoch 3, batch 1 did run
  CHECK_FALSE(opt->check_finite());          // the trainer put the optimizer back as it was
}

TEST_CASE("train: a NaN loss is a NonFiniteError naming the model, epoch and batch") {
  Faulty model(Faulty::Fault::kNanLoss, /*epoch=*/2, /*batch=*/4);
  auto opt = model.make_optimizer();
  CHECK_THROWS_WITH_AS(train(model, *opt, quiet(5)),
                       doctest::Contains("train: faulty: the loss is nan at epoch 2, batch 5 of 5 "
                                         "(lower the learning rate"),
                       NonFiniteError);
}

TEST_CASE("train: a loss that overflows to inf stops before its step, gradients still finite") {
  Faulty model(Faulty::Fault::kDiverge);
  optim::SGDOptions o;
  o.lr = 1.5;
  optim::SGD opt(model.named_parameters(), o);
  // Step 63 (0-based) is epoch 13's 4th batch; w is then (-2)^63 · w0, exactly (powers of
  // two): the step of the inf loss was not taken.
  CHECK_THROWS_WITH_AS(train(model, opt, quiet(20)),
                       doctest::Contains("the loss is inf at epoch 13, batch 4 of 5"), NonFiniteError);
  const float s = -std::ldexp(1.f, 63);
  CHECK(model.weights() == std::vector<float>{s, 0.5f * s, -0.25f * s, 2.f * s});
}

TEST_CASE("train: check_finite = false trains on through NaN losses and gradients") {
  for (auto fault : {Faulty::Fault::kNanLoss, Faulty::Fault::kNanGradient}) {
    Faulty model(fault, /*epoch=*/2, /*batch=*/0);
    auto opt = model.make_optimizer();
    TrainerOptions t = quiet(3);
    t.check_finite = false;
    TrainResult r;
    CHECK_NOTHROW(r = train(model, *opt, t));
    REQUIRE(r.epochs.size() == 3);
    if (fault == Faulty::Fault::kNanLoss) CHECK(std::isnan(r.epochs[1].loss));
    else CHECK(std::isnan(model.named_parameters().at(1).second.at({0})));  // NaN applied
  }
}

TEST_CASE("train: detect_anomaly names the op whose backward made the NaN") {
  Faulty model(Faulty::Fault::kNanGradient, /*epoch=*/1, /*batch=*/2);
  auto opt = model.make_optimizer();
  TrainerOptions t = quiet(2);
  t.detect_anomaly = true;
  CHECK_THROWS_WITH_AS(train(model, *opt, t),
                       doctest::Contains("train: faulty: anomaly mode: the backward of 'sqrt' "
                                         "(output [], inputs []) produced inf in the gradient of "
                                         "input 0 [] at [] from a finite output gradient at epoch "
                                         "1, batch 3 of 5"),
                       NonFiniteError);
  CHECK_FALSE(anomaly_mode_enabled());  // train() turned it off again
}
