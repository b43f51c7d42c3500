#pragma once
// Small pieces the autoencoder and GAN models share: dense 0/1 rows of user histories (their
// input at training and at scoring time), row L2 normalisation, the per-batch random keys that
// make dropout and noise a function of (seed, epoch, batch) only, and Xavier re-initialisation
// of MLP layers (the TensorFlow default the papers' code used).
#include <cstdint>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/mlp.h"
#include "recsys/dataset.h"

namespace recgrad::recsys {

/// out[b, i] = 1 when item i is one of users[b]'s items in `history` (repeats count once),
/// else 0.  users [B] -> [B, history.num_items]. Throws recgrad::Error for a user out of range.
Tensor history_rows(const UserItems& history, const std::vector<int64_t>& users);

/// y[b] = x[b] / ‖x[b]‖₂; an all-zero row stays zero. A fresh tensor outside the graph (the
/// models normalise constant inputs).  x [B, n] -> [B, n]
Tensor l2_normalize_rows(const Tensor& x);

/// The random key of batch `index` of epoch `epoch` for the stream `salt` of a model seeded
/// `seed`: dropout masks and noise drawn from Generator(batch_key(...)) depend on nothing else,
/// so a resumed run draws exactly what an uninterrupted one would.
uint64_t batch_key(uint64_t seed, uint64_t salt, int64_t epoch, int64_t index);

/// Re-initialises every layer of `mlp` as TensorFlow's Dense with xavier_initializer: weights
/// U(-b, b), b = √(6/(in + out)); biases N(0, bias_std²) (bias_std = 0: zeros).
void xavier_init(nn::MLP& mlp, Generator& gen, float bias_std = 0.f);

}  // namespace recgrad::recsys
