#pragma once
// Linear maps of sparse rows. An autoencoder's input row (a user's items among thousands, an
// item's ratings among thousands of users) is ~95% zeros: a dense x·Wᵀ and its weight gradient
// spend ~20x the work the non-zeros need. These ops take the rows in CSR form and multiply only
// by the non-zeros (plus one O(in·out) pass over W to lay it out for that), and the decoder
// variant evaluates x·Wᵀ only at the entries a loss reads.
//
// The weight's gradient is a DENSE tensor filled only at the touched columns (rows for
// sampled_linear), not a row-sparse one: the models' Adam then updates every weight each step
// (moment decay everywhere), exactly as it does for the dense layer these ops replace.
// Every sum runs in a fixed order over one output element per task, so results are the same
// at any thread count.
#include <cstdint>

#include "autograd/tensor.h"
#include "ops/csr.h"

namespace recgrad {

/// y = x·Wᵀ + b for a sparse x: nn::Linear's map (same weight layout) on CSR rows.
/// x CSR [B, in], weight [out, in], bias [out] or undefined -> [B, out].
/// Backward: dW[:, j] += Σ_b x[b, j]·dy[b, :] (0 for the columns x does not touch),
/// db += Σ_b dy[b, :]. Costs O(nnz·out + in·out) instead of O(B·in·out).
Tensor sparse_linear(const CsrMatrix& x, const Tensor& weight, const Tensor& bias);

/// y_k = h[r_k, :]·W[c_k, :] + b[c_k] at the entries (r_k, c_k) of `at`'s pattern (its values
/// are ignored), in CSR order: linear(h, W, b) read only where a loss needs it (a sampled dense
/// product). h [B, in], weight [out, in], bias [out] or undefined, at CSR [B, out] -> [nnz].
/// Backward: dh[r, :] = Σ_k dy_k·W[c_k, :] over row r's entries; dW[c, :] = Σ_k dy_k·h[r_k, :]
/// over the entries in column c (other rows of dW get nothing); db[c] = Σ_k dy_k likewise.
Tensor sampled_linear(const Tensor& h, const Tensor& weight, const Tensor& bias,
                      const CsrMatrix& at);

}  // namespace recgrad
