#include "optim/rmsprop.h"

#include <cmath>
#include <sstream>

namespace recgrad::optim {

namespace {

std::vector<std::string> slot_names(const RMSPropOptions& o) {
  std::vector<std::string> names{"square_avg"};
  if (o.momentum > 0) names.push_back("momentum_buffer");
  if (o.centered) names.push_back("grad_avg");
  return names;
}

struct RMSPropCoefs {
  float lr, l2, alpha, one_minus_alpha, eps, momentum;
};

// The whole update for n consecutive elements; buf and gavg are null when unused.
void rmsprop_span(float* p, const float* g, float* sq, float* buf, float* gavg, int64_t n,
                  const RMSPropCoefs& c) {
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    if (c.l2 != 0) gi += c.l2 * p[i];
    sq[i] = c.alpha * sq[i] + c.one_minus_alpha * gi * gi;
    float d;
    if (gavg) {
      gavg[i] = c.alpha * gavg[i] + c.one_minus_alpha * gi;
      d = std::sqrt(sq[i] - gavg[i] * gavg[i]) + c.eps;
    } else {
      d = std::sqrt(sq[i]) + c.eps;
    }
    if (buf) {
      buf[i] = c.momentum * buf[i] + gi / d;
      p[i] -= c.lr * buf[i];
    } else {
      p[i] -= c.lr * gi / d;
    }
  }
}

}  // namespace

RMSProp::RMSProp(const NamedTensors& params, RMSPropOptions options)
    : Optimizer("RMSProp", params, options.lr, options.weight_decay, slot_names(options)),
      options_(options) {
  check_option("alpha", options.alpha, 0, 1);
  check_option("eps", options.eps, 0);
  check_option("momentum", options.momentum, 0);
}

std::string RMSProp::describe() const {
  std::ostringstream os;
  os << "RMSProp(lr=" << lr() << ", alpha=" << options_.alpha << ", eps=" << options_.eps
     << ", weight_decay=" << options_.weight_decay << ", momentum=" << options_.momentum
     << ", centered=" << (options_.centered ? "true" : "false") << ")";
  return os.str();
}

void RMSProp::update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) {
  const RMSPropCoefs c{static_cast<float>(group.lr), static_cast<float>(group.weight_decay),
                       static_cast<float>(options_.alpha), static_cast<float>(1 - options_.alpha),
                       static_cast<float>(options_.eps), static_cast<float>(options_.momentum)};
  float* pp = p.data();
  const float* pg = g.data();
  float* psq = st.slots[0].data();
  size_t next = 1;
  float* pbuf = options_.momentum > 0 ? st.slots[next++].data() : nullptr;
  float* pavg = options_.centered ? st.slots[next++].data() : nullptr;
  detail::for_dense_spans(p.numel(), recgrad::detail::kGrainExpensive,
                          [&](int64_t po, int64_t go, int64_t n) {
                            rmsprop_span(pp + po, pg + go, psq + po, pbuf ? pbuf + po : nullptr,
                                         pavg ? pavg + po : nullptr, n, c);
                          });
}

}  // namespace recgrad::optim
