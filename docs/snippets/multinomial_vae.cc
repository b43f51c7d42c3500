#include <doctest/doctest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

// Mult-VAE's loss for a batch: −Σᵢ x_ui·log softmax(logits)_i + β·KL(N(μ, σ²) ‖ N(0, I)),
// averaged over users.  x, logits [B, I];  mu, logvar [B, k].
Tensor mult_vae_loss(const Tensor& x, const Tensor& logits, const Tensor& mu,
                     const Tensor& logvar, float beta) {
  Tensor nll = neg(sum(mul(x, log_softmax(logits, 1)), {1}));                  // [B]
  // KL = ½ Σ_k (σ² + μ² − 1 − log σ²)
  Tensor kl = mul(sum(sub(add(exp(logvar), square(mu)), add(logvar, 1.f)), {1}), 0.5f);
  return mean(add(nll, mul(kl, beta)));                                         // []
}

TEST_CASE("tour 6: the multinomial likelihood and the KL term") {
  // Two users, four items. Uniform logits give each item probability 1/4.
  Tensor x = tensor({1, 1, 0, 0, 0, 0, 0, 1}, {2, 4});
  Tensor zero_mu = zeros({2, 3}), zero_logvar = zeros({2, 3});               // KL = 0 here
  float uniform = mult_vae_loss(x, zeros({2, 4}), zero_mu, zero_logvar, 0.2f).item();
  CHECK(uniform == doctest::Approx((2 + 1) * std::log(4.f) / 2));            // (2 + 1 items)·log 4 / 2 users

  // The reparameterisation z = μ + ε·σ makes the sampled code differentiable in μ and log σ².
  Generator gen(9);
  Tensor eps = randn({2, 3}, gen);
  GradcheckResult r = gradcheck(
      [&](const std::vector<Tensor>& in) {
        Tensor z = add(in[0], mul(eps, exp(mul(in[1], 0.5f))));               // [2, 3]
        Tensor logits = matmul(z, in[2]);                                     // [2, 4]
        return mult_vae_loss(x, logits, in[0], in[1], 0.2f);
      },
      {randn({2, 3}, gen), randn({2, 3}, gen), randn({3, 4}, gen)});
  CHECK_MESSAGE(r, r.message);
}
