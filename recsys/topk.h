#pragma once
// The best K items of each row of a score matrix, for recommendation lists.
//
// Order: higher score first; equal scores go to the smaller item id (a recommendation list has
// no relevance to be pessimistic about; the evaluator's metrics use the pessimistic rule in
// recsys/metrics.h). Masked items are set to -inf in place and never returned, nor are NaN
// scores. Partial selection: one scan with a bounded heap per row, rows in parallel.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Top-K lists: items [B, K] best first (-1 where a row has fewer than K candidates), scores
/// [B, K] (-inf there).
struct TopK {
  Ids items;      ///< [B, K]
  Tensor scores;  ///< [B, K]
};

/// Sets scores[b, i] = -inf for each item i in mask's list of users[b].  scores [B, n_items],
/// users [B], in place. Throws recgrad::Error on a shape, user or item out of range.
void mask_items(Tensor& scores, const std::vector<int64_t>& users, const UserItems& mask);

/// The k best items of each row of scores [B, n] -> TopK [B, k]; k may exceed n (padded).
TopK top_k(const Tensor& scores, int64_t k);

/// Sets row[i] = -inf for each i in [begin, end) (no checks: the per-row kernel).
void mask_row(float* row, const int64_t* begin, const int64_t* end);
/// The k best (score, item) of one row [n], best first, into items/out_scores [k] (padded).
void top_k_row(const float* row, int64_t n, int64_t k, int64_t* items, float* out_scores);

}  // namespace recgrad::recsys
