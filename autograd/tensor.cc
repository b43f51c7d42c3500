#include "autograd/tensor.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"

namespace recgrad {

// ---------------------------------------------------------------------------------------------
// Ids

Ids::Ids(std::vector<int64_t> v) : values(std::move(v)), shape{static_cast<int64_t>(values.size())} {}
Ids::Ids(std::initializer_list<int64_t> v) : Ids(std::vector<int64_t>(v)) {}
Ids::Ids(std::vector<int64_t> v, Shape s) : values(std::move(v)), shape(std::move(s)) {
  RECGRAD_CHECK(shape.numel() == static_cast<int64_t>(values.size()), "Ids: ", values.size(),
                " values do not fill shape ", shape);
}

// ---------------------------------------------------------------------------------------------
// Tensor basics

Tensor Tensor::empty(const Shape& shape) {
  for (int64_t d : shape)
    RECGRAD_CHECK(d >= 0, "Tensor::empty: negative dimension in shape ", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape.numel());
  impl->shape = shape;
  return Tensor(std::move(impl));
}

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) throw UsageError("Tensor: use of an undefined tensor");
  return *impl;
}
}  // namespace

const Shape& Tensor::shape() const { return checked(impl_).shape; }
int64_t Tensor::numel() const { return shape().numel(); }
int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }
float* Tensor::data() { return checked(impl_).storage->data(); }
const float* Tensor::data() const { return checked(impl_).storage->data(); }

float Tensor::item() const {
  RECGRAD_CHECK(numel() == 1, "item: tensor of shape ", shape(), " has ", numel(),
                " elements, expected 1");
  return data()[0];
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  RECGRAD_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: ", index.size(),
                " indices for a tensor of shape ", shape());
  int64_t offset = 0, d = 0;
  for (int64_t i : index) {
    RECGRAD_CHECK(i >= 0 && i < shape()[d], "at: index ", i, " out of range for dimension ", d,
                  " of shape ", shape());
    offset = offset * shape()[d++] + i;
  }
  return data()[offset];
}

std::vector<float> Tensor::to_vector() const { return {data(), data() + numel()}; }

bool Tensor::requires_grad() const {
  return checked(impl_).requires_grad || impl_->grad_fn != nullptr;
}

Tensor& Tensor::set_requires_grad(bool on) {
  if (checked(impl_).grad_fn)
    throw UsageError("set_requires_grad: only leaves can be marked; this tensor comes from '" +
                     std::string(impl_->grad_fn->op()) + "' (use detach() first)");
  impl_->requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }

std::string Tensor::grad_fn_name() const {
  return checked(impl_).grad_fn ? impl_->grad_fn->op() : "";
}

// ---------------------------------------------------------------------------------------------
// Gradients

Tensor Tensor::grad() const {
  const TensorImpl& t = checked(impl_);
  if (t.grad_sparse.empty()) return t.grad_dense;
  Tensor g = t.grad_dense.defined() ? t.grad_dense.clone() : zeros(t.shape);
  for (const RowSparseGrad& part : t.grad_sparse) detail::scatter_rows_into(g, part);
  return g;
}

bool Tensor::has_sparse_grad() const {
  return !checked(impl_).grad_sparse.empty() && !impl_->grad_dense.defined();
}

RowSparseGrad Tensor::sparse_grad() const {
  if (!has_sparse_grad())
    throw UsageError("sparse_grad: the gradient of this " + shape().str() +
                     " tensor is not row-sparse (check has_sparse_grad(), or use grad())");
  // Coalesce once and keep the result, so repeated reads (optimizer, clipping) are cheap.
  auto& parts = impl_->grad_sparse;
  const auto& rows = parts[0].rows;
  const bool coalesced = parts.size() == 1 &&
      std::adjacent_find(rows.begin(), rows.end(), std::greater_equal<int64_t>()) == rows.end();
  if (!coalesced) {
    RowSparseGrad merged = detail::coalesce(parts, impl_->shape);
    parts.clear();
    parts.push_back(std::move(merged));
  }
  return parts[0];
}

void Tensor::zero_grad() {
  TensorImpl& t = const_cast<TensorImpl&>(checked(impl_));
  t.grad_dense = Tensor();
  t.grad_sparse.clear();
}

void Tensor::backward() const {
  RECGRAD_CHECK(numel() == 1, "backward: output of shape ", shape(),
                " is not a scalar; pass a gradient of the same shape to backward(grad)");
  detail::run_backward(*this, ones(shape()), false);
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  detail::run_backward(*this, grad_output, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = checked(impl_).storage;
  impl->shape = impl_->shape;
  return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape());
  const float* src = data();
  float* dst = out.data();
  // Large copies are split over the pool: one core copies at a fraction of two cores' bandwidth
  // here (benchmarks/ops_bench's copy peak: 13-23 against ~50 GB/s), and a backward pass clones
  // gradients as large as the activations (the seed, accumulated sums).
  detail::parallel_for(numel(), detail::kGrainCheap, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, sizeof(float) * static_cast<size_t>(e - b));
  });
  return out;
}

bool Tensor::shares_storage_with(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

// ---------------------------------------------------------------------------------------------
// Printing: nested brackets, at most 6 entries per dimension (first and last 3).

namespace {
void print_dim(std::ostream& os, const float* data, const Shape& shape, size_t d,
               const std::vector<int64_t>& strides) {
  if (d == shape.size()) {
    os << data[0];
    return;
  }
  const int64_t n = shape[d];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > 6 && i == 3) {
      os << "..., ";
      i = n - 3;
    }
    print_dim(os, data + i * strides[d], shape, d + 1, strides);
    if (i + 1 < n) os << ", ";
  }
  os << ']';
}
}  // namespace

std::string Tensor::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "Tensor(undefined)";
  os << "Tensor(" << t.shape() << ", ";
  std::ostringstream values;
  values << std::setprecision(5);
  print_dim(values, t.data(), t.shape(), 0, contiguous_strides(t.shape()));
  os << values.str();
  if (!t.grad_fn_name().empty()) os << ", grad_fn=" << t.grad_fn_name();
  else if (t.requires_grad()) os << ", requires_grad";
  return os << ')';
}

// ---------------------------------------------------------------------------------------------
// Factories

Tensor full(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape);
  float* d = t.data();
  detail::parallel_for(t.numel(), detail::kGrainCheap, [&](int64_t b, int64_t e) {
    std::fill(d + b, d + e, value);
  });
  return t;
}

Tensor zeros(const Shape& shape) { return full(shape, 0.f); }
Tensor ones(const Shape& shape) { return full(shape, 1.f); }

Tensor tensor(std::vector<float> values, Shape shape) {
  if (shape.empty() && values.size() != 1) shape = {static_cast<int64_t>(values.size())};
  RECGRAD_CHECK(shape.numel() == static_cast<int64_t>(values.size()), "tensor: ", values.size(),
                " values do not fill shape ", shape);
  Tensor t = Tensor::empty(shape);
  std::memcpy(t.data(), values.data(), sizeof(float) * values.size());
  return t;
}

Tensor scalar(float value) { return full({}, value); }

Tensor arange(int64_t n) {
  Tensor t = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

Tensor uniform(const Shape& shape, float lo, float hi, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  const uint64_t key = gen.next_u64();
  float* d = t.data();
  detail::parallel_for(t.numel(), detail::kGrainExpensive, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      d[i] = lo + (hi - lo) * detail::bits_to_unit_float(detail::mix64(key, i));
  });
  return t;
}

Tensor normal(const Shape& shape, float mean, float std, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  const uint64_t key = gen.next_u64();
  float* d = t.data();
  detail::parallel_for(t.numel(), detail::kGrainExpensive, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      // Box-Muller from two independent 32-bit halves of one hash.
      const uint64_t bits = detail::mix64(key, i);
      const double u1 = (static_cast<double>(bits >> 32) + 1.0) / 4294967297.0;  // (0, 1]
      const double u2 = static_cast<double>(bits & 0xffffffffu) / 4294967296.0;
      d[i] = mean + std * static_cast<float>(std::sqrt(-2.0 * std::log(u1)) *
                                             std::cos(6.283185307179586 * u2));
    }
  });
  return t;
}

Tensor randn(const Shape& shape, Generator& gen) { return normal(shape, 0.f, 1.f, gen); }

}  // namespace recgrad
