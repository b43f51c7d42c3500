#include "nn/dropout.h"

#include "autograd/error.h"
#include "ops/dropout.h"

namespace recgrad::nn {

Dropout::Dropout(float p, Generator& gen) : p_(p), gen_(gen.next_u64()) {
  RECGRAD_CHECK(p >= 0.f && p < 1.f, "Dropout: p = ", p, " must lie in [0, 1)");
  register_generator("generator", &gen_);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), gen_); }

std::string Dropout::describe() const { return detail::str_cat("Dropout(p=", p_, ")"); }

}  // namespace recgrad::nn
