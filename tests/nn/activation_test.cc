#include "nn/activation.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("activations: modules and activate() compute their functions") {
  const Tensor x = tensor({-2.f, -0.5f, 0.5f, 3.f});
  const std::vector<float> xs = x.to_vector();
  ReLU relu_m;
  LeakyReLU leaky(0.1f);
  GELU gelu_m;
  Tanh tanh_m;
  Sigmoid sigmoid_m;
  Identity id;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double v = xs[i];
    CHECK(relu_m.forward(x).data()[i] == doctest::Approx(std::max(v, 0.0)));
    CHECK(leaky.forward(x).data()[i] == doctest::Approx(v > 0 ? v : 0.1 * v));
    CHECK(gelu_m.forward(x).data()[i] ==
          doctest::Approx(v * 0.5 * (1 + std::erf(v / std::sqrt(2.0)))).epsilon(1e-5));
    CHECK(tanh_m.forward(x).data()[i] == doctest::Approx(std::tanh(v)).epsilon(1e-6));
    CHECK(sigmoid_m.forward(x).data()[i] == doctest::Approx(1 / (1 + std::exp(-v))).epsilon(1e-6));
  }
  CHECK(id.forward(x).shares_storage_with(x));
  CHECK(activate(Activation::kIdentity, x).shares_storage_with(x));
  CHECK(activate(Activation::kRelu, x).to_vector() == relu_m.forward(x).to_vector());
  CHECK(activate(Activation::kLeakyRelu, x, 0.1f).to_vector() == leaky.forward(x).to_vector());
  CHECK(activate(Activation::kGelu, x).to_vector() == gelu_m.forward(x).to_vector());
  CHECK(activate(Activation::kTanh, x).to_vector() == tanh_m.forward(x).to_vector());
  CHECK(activate(Activation::kSigmoid, x).to_vector() == sigmoid_m.forward(x).to_vector());
  CHECK(leaky.describe() == "LeakyReLU(slope=0.1)");
  CHECK(GELU({true}).describe() == "GELU(tanh)");
  CHECK(std::string(activation_name(Activation::kGelu)) == "GELU");
}

TEST_CASE("activations: gradients through each module match central differences") {
  Generator gen(1);
  const Tensor x = randn({3, 4}, gen);  // away from relu's kink with this seed
  for (float v : x.to_vector()) REQUIRE(std::abs(v) > 0.01f);
  for (Activation a : {Activation::kRelu, Activation::kLeakyRelu, Activation::kGelu,
                       Activation::kTanh, Activation::kSigmoid}) {
    INFO(activation_name(a));
    CHECK(gradcheck([&](const auto& in) { return activate(a, in[0], 0.2f); }, {x}));
  }
  ReLU r;
  CHECK(gradcheck([&](const auto& in) { return r.forward(in[0]); }, {x}));
  CHECK_THROWS_AS(LeakyReLU(std::nanf("")), Error);
}
