#include "optim/sgd.h"

#include <sstream>

#include "autograd/error.h"

namespace recgrad::optim {

namespace {

// Scalars of one step, in float: the kernels multiply in float32 like PyTorch's CPU kernels.
struct SgdCoefs {
  float lr, weight_decay, momentum, one_minus_dampening;
  bool nesterov, first;  // first: the buffer takes the gradient itself
};

// The whole update for n consecutive elements. Shared by the dense and the sparse paths, so a
// sparse step over rows equals the dense step bit for bit.
void sgd_span(float* p, const float* g, float* buf, int64_t n, const SgdCoefs& c) {
  for (int64_t i = 0; i < n; ++i) {
    float d = g[i];
    if (c.weight_decay != 0) d += c.weight_decay * p[i];  // skipped at 0, as in PyTorch (inf·0)
    if (buf) {
      buf[i] = c.first ? d : c.momentum * buf[i] + c.one_minus_dampening * d;
      d = c.nesterov ? d + c.momentum * buf[i] : buf[i];
    }
    p[i] -= c.lr * d;
  }
}

}  // namespace

SGD::SGD(const NamedTensors& params, SGDOptions options)
    : Optimizer("SGD", params, options.lr, options.weight_decay,
                options.momentum > 0 ? std::vector<std::string>{"momentum_buffer"}
                                     : std::vector<std::string>{}),
      options_(options) {
  check_option("momentum", options.momentum, 0);
  check_option("dampening", options.dampening, 0);
  RECGRAD_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
                "SGD: nesterov needs momentum > 0 and dampening = 0 (got momentum = ",
                options.momentum, ", dampening = ", options.dampening, ")");
}

std::string SGD::describe() const {
  std::ostringstream os;
  os << "SGD(lr=" << lr() << ", momentum=" << options_.momentum
     << ", dampening=" << options_.dampening << ", weight_decay=" << options_.weight_decay
     << ", nesterov=" << (options_.nesterov ? "true" : "false") << ")";
  return os.str();
}

void SGD::update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) {
  const SgdCoefs c{static_cast<float>(group.lr), static_cast<float>(group.weight_decay),
                   static_cast<float>(options_.momentum),
                   static_cast<float>(1.0 - options_.dampening), options_.nesterov, st.step == 1};
  float* pp = p.data();
  const float* pg = g.data();
  float* pb = st.slots.empty() ? nullptr : st.slots[0].data();
  detail::for_dense_spans(p.numel(), recgrad::detail::kGrainCheap, [&](int64_t po, int64_t go, int64_t n) {
    sgd_span(pp + po, pg + go, pb ? pb + po : nullptr, n, c);
  });
}

void SGD::update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st, const ParamGroup& group) {
  if (options_.momentum > 0) return Optimizer::update_sparse(p, g, st, group);  // densify
  const SgdCoefs c{static_cast<float>(group.lr), static_cast<float>(group.weight_decay), 0.f, 1.f,
                   false, false};
  float* pp = p.data();
  const float* pg = g.values.data();
  detail::for_sparse_rows(g, detail::row_width(p), recgrad::detail::kGrainCheap,
                          [&](int64_t po, int64_t go, int64_t n) {
                            sgd_span(pp + po, pg + go, nullptr, n, c);
                          });
}

}  // namespace recgrad::optim
