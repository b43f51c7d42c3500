#include <doctest/doctest.h>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

TEST_CASE("tour 7: CFGAN's partial masking decides what the discriminator sees") {
  // One user, five items: purchased {0, 1}; k_u samples the unpurchased item 3.
  Tensor c = tensor({1, 1, 0, 0, 0}, {1, 5});        // c_u, the real vector and the condition
  Tensor k = tensor({0, 0, 0, 1, 0}, {1, 5});        // partial-masking sample
  Tensor r_hat = full({1, 5}, 1.f).set_requires_grad();  // a generator that says 1 everywhere

  Tensor fake = mul(r_hat, add(c, k));               // r̂ ⊙ (e_u + k_u)
  CHECK(fake.to_vector() == std::vector<float>{1, 1, 0, 1, 0});
  CHECK(fake.to_vector() != c.to_vector());          // item 3 gives the all-ones answer away

  // A toy discriminator D(x | c) = σ(wᵀ[x ; c]); G's loss −log D(fake | c).
  Tensor w = tensor({0.5f, 0.5f, 0.1f, -2.f, 0.1f, 0.3f, 0.3f, 0.f, 0.f, 0.f}, {10, 1});
  Tensor d_logit = matmul(concat({fake, c}, 1), w);   // [1, 1]
  Tensor g_loss = mean(bce_with_logits(d_logit, ones({1, 1})));
  g_loss.backward();
  std::vector<float> g = r_hat.grad().to_vector();
  CHECK(g[3] > 0.f);                                 // G learns to lower item 3
  CHECK(g[2] == 0.f);                                // unsampled items get no signal from D
  CHECK(g[4] == 0.f);                                //   (zero reconstruction covers those)
}
