#include "nn/rnn.h"

#include <algorithm>
#include <cmath>

#include "autograd/error.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/shape.h"

namespace recgrad::nn {
namespace {

// Every length in [1, T]; `who` and `x` name the caller and the batch in the message.
void check_lengths(const std::string& who, const Shape& x, const std::vector<int64_t>& lengths) {
  const int64_t B = x[0], T = x[1];
  RECGRAD_CHECK(static_cast<int64_t>(lengths.size()) == B, who, ": ", lengths.size(),
                " lengths for a batch of ", B, " sequences (", x, ")");
  for (int64_t b = 0; b < B; ++b)
    RECGRAD_CHECK(lengths[b] >= 1 && lengths[b] <= T, who, ": length ", lengths[b],
                  " of sequence ", b, " is outside [1, ", T, "] (", x, ")");
}

}  // namespace

Tensor last_valid_output(const Tensor& outputs, const std::vector<int64_t>& lengths) {
  RECGRAD_CHECK(outputs.defined() && outputs.dim() == 3, "last_valid_output: outputs ",
                outputs.defined() ? outputs.shape().str() : "undefined",
                ": expected [B, T, H]");
  const int64_t B = outputs.size(0), T = outputs.size(1), H = outputs.size(2);
  check_lengths("last_valid_output: outputs", outputs.shape(), lengths);
  // Row b·T + lengths[b] − 1 of outputs viewed as [B·T, H].
  std::vector<int64_t> rows(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) rows[b] = b * T + lengths[b] - 1;
  return index_select(reshape(outputs, {B * T, H}), 0, Ids(std::move(rows)));
}

RNNBase::RNNBase(const char* kind, int64_t gates, int64_t input_size, int64_t hidden_size,
                 Generator& gen, RNNOptions opts)
    : kind_(kind), gates_(gates), input_size_(input_size), hidden_size_(hidden_size),
      opts_(opts) {
  RECGRAD_CHECK(input_size >= 1 && hidden_size >= 1, kind, ": input size ", input_size,
                " and hidden size ", hidden_size, " must be positive");
  RECGRAD_CHECK(opts.num_layers >= 1, kind, ": num_layers ", opts.num_layers,
                " must be at least 1");
  RECGRAD_CHECK(opts.dropout >= 0.f && opts.dropout < 1.f, kind, ": dropout ", opts.dropout,
                " must lie in [0, 1)");
  const int64_t G = gates * hidden_size;
  const float k = 1.f / std::sqrt(static_cast<float>(hidden_size));
  for (int64_t l = 0; l < opts.num_layers; ++l) {
    const std::string s = "_l" + std::to_string(l);
    const int64_t in = l == 0 ? input_size : hidden_size;
    LayerParams p;
    p.w_ih = register_parameter("weight_ih" + s, uniform({G, in}, -k, k, gen));
    p.w_hh = register_parameter("weight_hh" + s, uniform({G, hidden_size}, -k, k, gen));
    if (opts.bias) {
      p.b_ih = register_parameter("bias_ih" + s, uniform({G}, -k, k, gen));
      p.b_hh = register_parameter("bias_hh" + s, uniform({G}, -k, k, gen));
    }
    layers_.push_back(p);
  }
  dropout_gen_ = Generator(gen.next_u64());
  register_generator("dropout_generator", &dropout_gen_);
}

std::string RNNBase::describe() const {
  std::string out = detail::str_cat(kind_, "(", input_size_, " -> ", hidden_size_, ", ",
                                    opts_.num_layers, opts_.num_layers == 1 ? " layer" : " layers",
                                    opts_.bias ? ", bias" : ", no bias");
  if (opts_.dropout > 0.f) out += detail::str_cat(", dropout ", opts_.dropout);
  return out + ")";
}

RNNBase::Steps RNNBase::check_input(const Tensor& x, const std::vector<int64_t>* lengths) const {
  RECGRAD_CHECK(x.defined(), describe(), ": x is undefined");
  RECGRAD_CHECK(x.dim() == 3 && x.size(2) == input_size_, describe(), ": x ", x.shape(),
                ": expected [B, T, ", input_size_, "] (batch-first)");
  RECGRAD_CHECK(x.size(0) >= 1 && x.size(1) >= 1, describe(), ": x ", x.shape(),
                ": needs at least one sequence and one step");
  Steps s;
  s.batch = x.size(0);
  s.steps = x.size(1);
  s.active = s.steps;
  s.masks.resize(static_cast<size_t>(s.steps));
  if (!lengths) return s;
  check_lengths(describe() + ": x", x.shape(), *lengths);
  const int64_t B = s.batch, T = s.steps;
  s.active = *std::max_element(lengths->begin(), lengths->end());
  if (*std::min_element(lengths->begin(), lengths->end()) == T) return s;  // nothing padded
  s.padded = zeros({B, T, 1});
  float* pad = s.padded.data();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = (*lengths)[b]; t < T; ++t) pad[b * T + t] = 1.f;
  for (int64_t t = 0; t < s.active; ++t) {
    bool any_padded = false;
    for (int64_t b = 0; b < B; ++b) any_padded = any_padded || pad[b * T + t] != 0.f;
    if (!any_padded) continue;
    Tensor m = Tensor::empty({B});
    for (int64_t b = 0; b < B; ++b) m.data()[b] = 1.f - pad[b * T + t];
    s.masks[t] = m;
  }
  return s;
}

Tensor RNNBase::layer_state(const char* name, const Tensor& state, int64_t layer,
                            int64_t batch) const {
  const Shape want{opts_.num_layers, batch, hidden_size_};
  RECGRAD_CHECK(state.shape() == want, describe(), ": ", name, " ", state.shape(), ": expected ",
                want, " = [num_layers, B, hidden]");
  if (opts_.num_layers == 1) return reshape(state, {batch, hidden_size_});
  return reshape(narrow(state, 0, layer, 1), {batch, hidden_size_});
}

Tensor RNNBase::project_inputs(int64_t layer, const Tensor& x) const {
  const LayerParams& p = layers_[layer];
  const int64_t B = x.size(0), T = x.size(1);
  Tensor xp = matmul(reshape(x, {B * T, x.size(2)}), p.w_ih, false, true);  // [B·T, G·H]
  if (p.b_ih.defined()) xp = add(xp, p.b_ih);
  return reshape(xp, {B, T, gates_ * hidden_size_});
}

Tensor RNNBase::dropout_between_layers(const Tensor& x) {
  return dropout(x, opts_.dropout, is_training(), dropout_gen_);
}

}  // namespace recgrad::nn
