#pragma once
// Embedding lookups: rows of a [N,D] table picked by ids. Their gradient touches only the rows
// that were looked up, so by default backward hands the engine a row-sparse gradient (unique
// sorted rows, duplicates summed in a fixed order) and never allocates an [N,D] buffer.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

struct EmbeddingOptions {
  /// Row-sparse gradient (RowSparseGrad of the looked-up rows); false gives a dense [N,D] one.
  bool sparse = true;
  /// Lookups of this row (in [0,N)) return its values but send it no gradient; -1 for none.
  int64_t padding_idx = -1;
};

/// y[p, :] = table[ids[p], :].  table [N,D], ids of shape S -> S + [D].
Tensor embedding(const Tensor& table, const Ids& ids, EmbeddingOptions opts = {});

/// y[p] = <a[a_ids[p], :], b[b_ids[p], :]>: the dot products of looked-up row pairs, as in
/// matrix factorisation's score(u, i) = <P_u, Q_i>.  a [Na,D], b [Nb,D], a_ids and b_ids of
/// equal length B -> [B]. Equal to sum(mul(embedding(a, a_ids), embedding(b, b_ids)), {1})
/// without the [B,D] lookups, products and their gradients; both gradients are row-sparse
/// (d a[r] = Σ dy[p]·b[b_ids[p]] over positions p with a_ids[p] == r, summed in position
/// order). a and b may be the same table.
Tensor embedding_dot(const Tensor& a, const Ids& a_ids, const Tensor& b, const Ids& b_ids);

enum class BagMode { kSum, kMean };

/// Pooled lookups over a jagged batch of bags, given as values + offsets:
///
///   ids     = [ 4, 1, 7 | 2 |   | 5, 5 ]     all bags' ids, concatenated (1-D)
///   offsets = [ 0,        3,  4,  4     ]     offsets[b] = where bag b starts in ids
///
/// bag b = ids[offsets[b] : offsets[b+1]], the last bag ending at ids.size() (bag 2 above is
/// empty). y[b] = Σ_{p in bag b} table[ids[p]] (kSum) or that sum / |bag b| (kMean); an empty
/// bag gives zeros.  table [N,D] -> [n_bags, D]. The gradient is row-sparse.
Tensor embedding_bag(const Tensor& table, const Ids& ids, const std::vector<int64_t>& offsets,
                     BagMode mode);

}  // namespace recgrad
