#include "optim/adam.h"

#include <cmath>
#include <sstream>

namespace recgrad::optim {

namespace {

// Scalars of one step, from double to float once.
struct AdamCoefs {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float step_size;         // lr / (1 − β₁ᵗ)
  float inv_sqrt_bc2;      // 1 / √(1 − β₂ᵗ)
  float eps;
  float l2;                // Adam's λ (0 for AdamW)
  float decay;             // AdamW's 1 − lr·λ (1 for Adam)
};

AdamCoefs coefs(const AdamOptions& o, bool decoupled, const ParamGroup& group, int64_t t) {
  const double bc1 = 1 - std::pow(o.beta1, static_cast<double>(t));
  const double bc2 = 1 - std::pow(o.beta2, static_cast<double>(t));
  return AdamCoefs{static_cast<float>(o.beta1), static_cast<float>(1 - o.beta1),
                   static_cast<float>(o.beta2), static_cast<float>(1 - o.beta2),
                   static_cast<float>(group.lr / bc1), static_cast<float>(1 / std::sqrt(bc2)),
                   static_cast<float>(o.eps),
                   decoupled ? 0.f : static_cast<float>(group.weight_decay),
                   decoupled ? static_cast<float>(1 - group.lr * group.weight_decay) : 1.f};
}

// The whole update for n consecutive elements. Shared by the dense and the sparse paths, so a
// sparse step over rows equals the dense step bit for bit. ~15 flops with a sqrt and a divide
// per element: the "expensive" grain. The loops vectorise (optim/BUILD builds with
// -fno-math-errno, without which GCC keeps sqrt scalar to set errno, and the pointers do not
// alias); vsqrtps and vdivps round exactly as their scalar forms, so the result does not
// depend on how many elements a span has. The plain-Adam case (no L2, no decoupled decay) is
// its own loop: BPR and the other sparse models take it every step.
void adam_span(float* __restrict p, const float* __restrict g, float* __restrict m,
               float* __restrict v, int64_t n, const AdamCoefs& coefs) {
  const AdamCoefs c = coefs;  // locals: stores through p cannot change them
  if (c.l2 == 0 && c.decay == 1) {
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      m[i] = c.beta1 * m[i] + c.one_minus_beta1 * gi;
      v[i] = c.beta2 * v[i] + c.one_minus_beta2 * gi * gi;
      p[i] -= c.step_size * m[i] / (std::sqrt(v[i]) * c.inv_sqrt_bc2 + c.eps);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    if (c.l2 != 0) gi += c.l2 * p[i];        // skipped at 0, as in PyTorch (inf·0)
    if (c.decay != 1) p[i] *= c.decay;
    m[i] = c.beta1 * m[i] + c.one_minus_beta1 * gi;
    v[i] = c.beta2 * v[i] + c.one_minus_beta2 * gi * gi;
    p[i] -= c.step_size * m[i] / (std::sqrt(v[i]) * c.inv_sqrt_bc2 + c.eps);
  }
}

}  // namespace

Adam::Adam(const NamedTensors& params, AdamOptions options) : Adam("Adam", params, options, false) {}

Adam::Adam(const char* kind, const NamedTensors& params, AdamOptions options, bool decoupled)
    : Optimizer(kind, params, options.lr, options.weight_decay, {"exp_avg", "exp_avg_sq"}),
      options_(options),
      decoupled_(decoupled) {
  check_option("beta1", options.beta1, 0, 1);
  check_option("beta2", options.beta2, 0, 1);
  check_option("eps", options.eps, 0);
}

AdamW::AdamW(const NamedTensors& params, AdamWOptions o)
    : Adam("AdamW", params, AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}, true) {}

std::string Adam::describe() const {
  std::ostringstream os;
  os << kind() << "(lr=" << lr() << ", betas=(" << options_.beta1 << ", " << options_.beta2
     << "), eps=" << options_.eps << ", weight_decay=" << options_.weight_decay << ")";
  return os.str();
}

void Adam::update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) {
  const AdamCoefs c = coefs(options_, decoupled_, group, st.step);
  float* pp = p.data();
  const float* pg = g.data();
  float* pm = st.slots[0].data();
  float* pv = st.slots[1].data();
  detail::for_dense_spans(p.numel(), recgrad::detail::kGrainExpensive,
                          [&](int64_t po, int64_t go, int64_t n) {
                            adam_span(pp + po, pg + go, pm + po, pv + po, n, c);
                          });
}

void Adam::update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st, const ParamGroup& group) {
  const AdamCoefs c = coefs(options_, decoupled_, group, st.step);
  float* pp = p.data();
  const float* pg = g.values.data();
  float* pm = st.slots[0].data();
  float* pv = st.slots[1].data();
  detail::for_sparse_rows(g, detail::row_width(p), recgrad::detail::kGrainExpensive,
                          [&](int64_t po, int64_t go, int64_t n) {
                            adam_span(pp + po, pg + go, pm + po, pv + po, n, c);
                          });
}

}  // namespace recgrad::optim
