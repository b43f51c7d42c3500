#pragma once
// Matrix products through OpenBLAS sgemm. Transposes are BLAS flags, never copies.
#include "autograd/tensor.h"

namespace recgrad {

/// C = A·B.  a [m,k], b [k,n] -> [m,n];  batched: a [B,m,k], b [B,k,n] or [k,n] -> [B,m,n].
Tensor matmul(const Tensor& a, const Tensor& b);

/// C = op(A)·op(B) with op(X) = Xᵀ where the flag is set (the last two dims are transposed):
/// scoring users against all items is matmul(users [B,d], items [N,d], false, true) -> [B,N].
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b);

}  // namespace recgrad
