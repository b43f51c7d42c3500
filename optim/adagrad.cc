#include "optim/adagrad.h"

#include <cmath>
#include <sstream>

namespace recgrad::optim {

namespace {

struct AdagradCoefs {
  float clr, l2, eps;
};

AdagradCoefs coefs(const AdagradOptions& o, const ParamGroup& group, int64_t t) {
  return AdagradCoefs{static_cast<float>(group.lr / (1 + static_cast<double>(t - 1) * o.lr_decay)),
                      static_cast<float>(group.weight_decay), static_cast<float>(o.eps)};
}

// The whole update for n consecutive elements, shared by the dense and the sparse paths.
void adagrad_span(float* p, const float* g, float* s, int64_t n, const AdagradCoefs& c) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    if (c.l2 != 0) gi += c.l2 * p[i];
    s[i] += gi * gi;
    p[i] -= c.clr * gi / (std::sqrt(s[i]) + c.eps);
  }
}

}  // namespace

Adagrad::Adagrad(const NamedTensors& params, AdagradOptions options)
    : Optimizer("Adagrad", params, options.lr, options.weight_decay, {"sum"}), options_(options) {
  check_option("lr_decay", options.lr_decay, 0);
  check_option("initial_accumulator_value", options.initial_accumulator_value, 0);
  check_option("eps", options.eps, 0);
}

std::string Adagrad::describe() const {
  std::ostringstream os;
  os << "Adagrad(lr=" << lr() << ", lr_decay=" << options_.lr_decay
     << ", weight_decay=" << options_.weight_decay
     << ", initial_accumulator_value=" << options_.initial_accumulator_value
     << ", eps=" << options_.eps << ")";
  return os.str();
}

Tensor Adagrad::init_slot(size_t, const Tensor& p) const {
  return full(p.shape(), static_cast<float>(options_.initial_accumulator_value));
}

void Adagrad::update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) {
  const AdagradCoefs c = coefs(options_, group, st.step);
  float* pp = p.data();
  const float* pg = g.data();
  float* ps = st.slots[0].data();
  detail::for_dense_spans(p.numel(), recgrad::detail::kGrainExpensive,
                          [&](int64_t po, int64_t go, int64_t n) {
                            adagrad_span(pp + po, pg + go, ps + po, n, c);
                          });
}

void Adagrad::update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st,
                            const ParamGroup& group) {
  const AdagradCoefs c = coefs(options_, group, st.step);
  float* pp = p.data();
  const float* pg = g.values.data();
  float* ps = st.slots[0].data();
  detail::for_sparse_rows(g, detail::row_width(p), recgrad::detail::kGrainExpensive,
                          [&](int64_t po, int64_t go, int64_t n) {
                            adagrad_span(pp + po, pg + go, ps + po, n, c);
                          });
}

}  // namespace recgrad::optim
