#pragma once
// The two batched products of causal self-attention, computing only the lower triangle.
//
// With a causal mask query i attends keys j <= i only, so the scores above the diagonal are
// never read (masked_softmax skips them) and the attention weights are exactly 0 there: about
// half of Q·Kᵀ, of A·V and of their four backward products is multiplication by zeros or work
// thrown away. These ops split each [L, L] matrix into row blocks of `tile` rows and run one
// sgemm per block over the columns the block can see (0 .. the block's last row), so they do
// (R+1)/(2R) of the dense work for R = ⌈L/tile⌉ blocks (57% at L = 200, tile 32).
//
//   scores = causal_scores(q, k);                        // tril(q·kᵀ), zeros above
//   a = masked_softmax(scores, key_padding, true, scale);
//   o = causal_mix(a, v);                                // tril(a)·v
//
// Both take [N, L, ·] batches (N = batch x heads); matrices run in parallel, each by one task
// in a fixed order of single-threaded sgemms: bit-identical at any thread count. The tile
// changes only the rounding, not the result. At SASRec's shapes (N = 128, L = 200, d = 50, one
// thread) both products with their backward take ~0.7x the time of the dense ones, not 0.5x:
// the [N, L, L] outputs are still written whole (zeros above the diagonal) and small sgemms run
// below the large ones' speed.
#include <cstdint>

#include "autograd/tensor.h"

namespace recgrad {

/// Rows per block: large enough for efficient sgemm calls, small enough that the diagonal
/// blocks (computed in full, then masked) waste little.
constexpr int64_t kCausalTile = 32;

/// s = tril(q·kᵀ):  s[n,i,j] = Σ_c q[n,i,c]·k[n,j,c] for j <= i, and exactly 0 for j > i.
///   q [N, L, d], k [N, L, d] -> [N, L, L]  (d >= 1, L >= 1; self-attention: equal lengths).
/// The zeros above the diagonal are constants: they pass no gradient, so backward reads the
/// output gradient on and below the diagonal only: dq = tril(ds)·k, dk = tril(ds)ᵀ·q.
Tensor causal_scores(const Tensor& q, const Tensor& k, int64_t tile = kCausalTile);

/// o = tril(a)·v:  o[n,i,c] = Σ_{j<=i} a[n,i,j]·v[n,j,c].
///   a [N, L, L], v [N, L, d] -> [N, L, d].
/// Entries of a above the diagonal are treated as zero (never read): equal to a·v when a is
/// causal attention weights (masked_softmax writes 0 there, dropout keeps 0). Backward:
/// da = tril(do·vᵀ), written as exact zeros above the diagonal (a dropout backward multiplies
/// them, so they must not be garbage), and dv = tril(a)ᵀ·do.
Tensor causal_mix(const Tensor& a, const Tensor& v, int64_t tile = kCausalTile);

}  // namespace recgrad
