#include "nn/init.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/runtime.h"

using namespace recgrad;
using namespace recgrad::nn;

namespace {

struct Stats {
  double mean, std, min, max;
};

Stats stats(const Tensor& t) {
  double s = 0, s2 = 0, lo = 1e30, hi = -1e30;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = t.data()[i];
    s += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double mean = s / t.numel();
  for (int64_t i = 0; i < t.numel(); ++i) s2 += (t.data()[i] - mean) * (t.data()[i] - mean);
  return {mean, std::sqrt(s2 / t.numel()), lo, hi};
}

// A uniform U(-b, b) sample: inside the bounds, reaching close to them, with std b/√3.
void check_uniform(const Tensor& t, double bound) {
  const Stats s = stats(t);
  CHECK(s.min >= -bound);
  CHECK(s.max < bound);
  CHECK(s.min < -0.99 * bound);
  CHECK(s.max > 0.99 * bound);
  CHECK(std::abs(s.mean) < 0.01 * bound);
  CHECK(s.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));
}

// A normal N(mean, std²) sample: the sample mean and std within 5 standard errors.
void check_normal(const Tensor& t, double mean, double std) {
  const Stats s = stats(t);
  const double n = static_cast<double>(t.numel());
  CHECK(std::abs(s.mean - mean) <= 5 * std / std::sqrt(n));
  CHECK(std::abs(s.std - std) <= 5 * std / std::sqrt(2 * n));
}

}  // namespace

TEST_CASE("init: gains and fans are PyTorch's") {
  CHECK(init::calculate_gain(init::Nonlinearity::kLinear) == 1.f);
  CHECK(init::calculate_gain(init::Nonlinearity::kSigmoid) == 1.f);
  CHECK(init::calculate_gain(init::Nonlinearity::kTanh) == doctest::Approx(5.0 / 3.0));
  CHECK(init::calculate_gain(init::Nonlinearity::kRelu) == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(init::Nonlinearity::kLeakyRelu, 0.2f) ==
        doctest::Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain(init::Nonlinearity::kLeakyRelu, std::sqrt(5.f)) ==
        doctest::Approx(std::sqrt(1.0 / 3.0)));
  CHECK(init::calculate_gain(init::Nonlinearity::kSelu) == 0.75f);
  const init::Fans linear = init::compute_fans({32, 64});
  CHECK(linear.fan_in == 64);
  CHECK(linear.fan_out == 32);
  const init::Fans conv = init::compute_fans({16, 8, 3, 5});  // [out, in, kh, kw]
  CHECK(conv.fan_in == 8 * 15);
  CHECK(conv.fan_out == 16 * 15);
}

TEST_CASE("init: uniform, normal, zeros, ones and constant have the requested statistics") {
  Generator gen(1);
  const Tensor u = init::uniform({1000, 1000}, -3.f, 3.f, gen);
  check_uniform(u, 3.0);
  const Tensor n = init::normal({1000, 1000}, 2.f, 0.5f, gen);
  check_normal(n, 2.0, 0.5);
  CHECK(stats(init::zeros({3, 4})).max == 0.0);
  CHECK(stats(init::ones({3, 4})).min == 1.0);
  const Stats c = stats(init::constant({5}, -1.5f));
  CHECK((c.min == -1.5 && c.max == -1.5));
}

TEST_CASE("init: xavier uniform and normal scale by fan_in + fan_out and the gain") {
  Generator gen(2);
  // [out, in] = [300, 500]: bound = √(6/800), std = √(2/800).
  check_uniform(init::xavier_uniform({300, 500}, gen), std::sqrt(6.0 / 800));
  check_uniform(init::xavier_uniform({300, 500}, gen, 5.f / 3.f), 5.0 / 3.0 * std::sqrt(6.0 / 800));
  check_normal(init::xavier_normal({300, 500}, gen), 0.0, std::sqrt(2.0 / 800));
  // Conv-shaped [out, in, k]: fans include the kernel size.
  check_normal(init::xavier_normal({256, 128, 3}, gen, 2.f), 0.0, 2.0 * std::sqrt(2.0 / (384 + 768)));
}

TEST_CASE("init: kaiming uniform and normal follow the mode and the nonlinearity") {
  Generator gen(3);
  // Default: leaky_relu with a = 0 (= relu gain √2), fan_in: bound = √(6/fan_in).
  check_uniform(init::kaiming_uniform({400, 250}, gen), std::sqrt(6.0 / 250));
  init::KaimingOptions linear_default;
  linear_default.a = std::sqrt(5.f);  // nn.Linear's weight: bound = 1/√fan_in
  check_uniform(init::kaiming_uniform({400, 250}, gen, linear_default), 1.0 / std::sqrt(250.0));
  init::KaimingOptions fan_out;
  fan_out.mode = init::FanMode::kFanOut;
  fan_out.nonlinearity = init::Nonlinearity::kRelu;
  check_normal(init::kaiming_normal({400, 250}, gen, fan_out), 0.0, std::sqrt(2.0 / 400));
  init::KaimingOptions tanh;
  tanh.nonlinearity = init::Nonlinearity::kTanh;
  check_normal(init::kaiming_normal({400, 250}, gen, tanh), 0.0, 5.0 / 3.0 / std::sqrt(250.0));
}

TEST_CASE("init: truncated normal stays within ±2 std and has the truncated distribution's std") {
  Generator gen(4);
  const Tensor t = init::truncated_normal({1000, 1000}, 1.f, 0.02f, gen);
  const Stats s = stats(t);
  CHECK(s.min >= 1.0 - 2 * 0.02 - 1e-6);
  CHECK(s.max <= 1.0 + 2 * 0.02 + 1e-6);
  CHECK(s.min < 1.0 - 1.98 * 0.02);  // the tails are populated up to the cutoff
  CHECK(s.max > 1.0 + 1.98 * 0.02);
  CHECK(s.mean == doctest::Approx(1.0).epsilon(1e-4));
  // A standard normal truncated to [-2, 2] has std √(1 - 2·2φ(2)/(2Φ(2) - 1)) = 0.87963.
  CHECK(s.std == doctest::Approx(0.87963 * 0.02).epsilon(0.01));
  // A wider cutoff keeps more of the tails.
  const Stats w = stats(init::truncated_normal({200000}, 0.f, 1.f, gen, 3.f));
  CHECK(w.max <= 3.0);
  CHECK(w.std == doctest::Approx(0.98658).epsilon(0.01));
}

TEST_CASE("init: every initializer is deterministic by seed and independent of threads") {
  auto draw_all = [](uint64_t seed) {
    Generator gen(seed);
    std::vector<float> all;
    for (const Tensor& t :
         {init::uniform({3000}, -1, 1, gen), init::normal({3000}, 0, 1, gen),
          init::truncated_normal({50000}, 0, 1, gen), init::xavier_uniform({60, 50}, gen),
          init::xavier_normal({60, 50}, gen), init::kaiming_uniform({60, 50}, gen),
          init::kaiming_normal({60, 50}, gen)})
      all.insert(all.end(), t.data(), t.data() + t.numel());
    return all;
  };
  const int restore = num_threads();
  set_num_threads(1);
  const auto one_thread = draw_all(7);
  set_num_threads(2);
  const auto two_threads = draw_all(7);
  set_num_threads(restore);
  CHECK(one_thread == two_threads);
  CHECK(draw_all(7) == one_thread);
  CHECK(draw_all(8) != one_thread);
}

TEST_CASE("init: bad shapes and arguments are rejected with the shape") {
  Generator gen(5);
  CHECK_THROWS_WITH_AS(init::xavier_uniform({10}, gen),
                       doctest::Contains("rank >= 2 ([out, in, ...]), got [10]"), Error);
  CHECK_THROWS_WITH_AS(init::kaiming_normal({0, 5}, gen, {0.f, init::FanMode::kFanOut}),
                       doctest::Contains("init::kaiming_normal: shape [0,5] has a zero fan"),
                       Error);
  CHECK_THROWS_WITH_AS(init::normal({3}, 0, -1, gen), doctest::Contains("std -1"), Error);
  CHECK_THROWS_WITH_AS(init::uniform({3}, 1, 0, gen), doctest::Contains("lo must not exceed hi"),
                       Error);
  CHECK_THROWS_AS(init::truncated_normal({3}, 0, 1, gen, 0.f), Error);
}
