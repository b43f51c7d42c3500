#include "nn/pool.h"

#include <doctest/doctest.h>

#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "ops/pool.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("MaxPool1d and AvgPool1d: shapes, values, no parameters, default stride") {
  Tensor x = tensor({1, 3, 2, 5, 4, 0}, {1, 1, 6});
  MaxPool1d max2(2);
  AvgPool1d avg3(3, {/*stride=*/1, /*padding=*/1});
  CHECK(max2.forward(x).to_vector() == std::vector<float>{3, 5, 4});
  CHECK(avg3.forward(x).shape() == Shape{1, 1, 6});
  CHECK(avg3.forward(x).to_vector() == avg_pool1d(x, 3, 1, 1).to_vector());
  CHECK(max2.num_parameters() == 0);
  CHECK(max2.named_parameters().empty());
  CHECK(max2.describe() == "MaxPool1d(kernel=2, stride=2, padding=0)");
  CHECK(avg3.describe() == "AvgPool1d(kernel=3, stride=1, padding=1)");
}

TEST_CASE("MaxPool2d and AvgPool2d: shapes, values and describe()") {
  Generator gen(1);
  Tensor x = randn({2, 3, 7, 6}, gen);
  MaxPool2d mp({3, 2}, {{2, 2}, {1, 0}});
  AvgPool2d ap(2);
  CHECK(mp.forward(x).shape() == Shape{2, 3, 4, 3});
  CHECK(mp.forward(x).to_vector() == max_pool2d(x, {3, 2}, 2, {1, 0}).to_vector());
  CHECK(ap.forward(x).shape() == Shape{2, 3, 3, 3});
  CHECK(mp.describe() == "MaxPool2d(kernel=(3,2), stride=(2,2), padding=(1,0))");
  CHECK(ap.describe() == "AvgPool2d(kernel=(2,2), stride=(2,2), padding=(0,0))");
  CHECK(gradcheck([&](const auto& v) { return ap.forward(v[0]); }, {x}));
}

TEST_CASE("pooling layers: bad options and inputs are rejected naming the layer") {
  CHECK_THROWS_WITH_AS(MaxPool1d(3, {1, 2}),
                       doctest::Contains("MaxPool1d(kernel=3, stride=1, padding=2)"),
                       recgrad::Error);
  CHECK_THROWS_AS(AvgPool1d(0), recgrad::Error);
  CHECK_THROWS_AS(MaxPool2d({2, 2}, {-1}), recgrad::Error);
  CHECK_THROWS_AS(AvgPool2d({2, 2}, {1, {0, 2}}), recgrad::Error);
  CHECK_THROWS_WITH_AS(MaxPool1d(5).forward(zeros({1, 2, 3})),
                       doctest::Contains("MaxPool1d(kernel=5, stride=5, padding=0): max_pool1d: "
                                         "x [1,2,3]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(AvgPool2d(2).forward(zeros({1, 2, 3})),
                       doctest::Contains("AvgPool2d(kernel=(2,2), stride=(2,2), padding=(0,0)): "
                                         "avg_pool2d: x [1,2,3] must be [B,C,H,W]"),
                       recgrad::Error);
}
