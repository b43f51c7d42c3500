#pragma once
// Non-personalised baselines, as Scorers for the Evaluator: every model's result is read against
// them. A model that does not beat popularity has learned nothing useful.
#include <cstdint>

#include "recsys/dataset.h"
#include "recsys/evaluator.h"

namespace recgrad::recsys {

/// score(u, i) = number of training interactions of item i (the same row for every user).
/// Many tail items tie; the evaluator's pessimistic tie rule ranks a relevant one below its ties.
Scorer popularity_scorer(const UserItems& train);

/// score(u, i) uniform in [0, 1), a function of (seed, u, i) only: the same user gets the same
/// row in any batch, at any thread count.
Scorer random_scorer(int64_t num_items, uint64_t seed);

}  // namespace recgrad::recsys
