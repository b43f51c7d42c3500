#pragma once
// Small pieces the autoencoder and GAN models share: 0/1 rows of user histories, dense or CSR
// (their input at training and at scoring time), row L2 normalisation, the per-batch random
// keys that make dropout and noise a function of (seed, epoch, batch) only, and Xavier
// re-initialisation of MLP layers (the TensorFlow default the papers' code used).
//
// Sparse input: the models feed their ~95%-zero input rows to the first layer as CSR
// (ops/sparse_linear.h). normalize and dropout have CSR versions that give exactly the values
// the dense versions give at the non-zeros (and the zeros stay zero), so a model's numbers do
// not depend on which form its first layer reads.
#include <cstdint>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/mlp.h"
#include "ops/sparse_linear.h"
#include "recsys/dataset.h"

namespace recgrad::recsys {

/// out[b, i] = 1 when item i is one of users[b]'s items in `history` (repeats count once),
/// else 0.  users [B] -> [B, history.num_items]. Throws recgrad::Error for a user out of range.
Tensor history_rows(const UserItems& history, const std::vector<int64_t>& users);

/// The non-zeros of history_rows(history, users) as CSR, built from the item lists directly
/// (no [B, n] pass): each row's columns ascending (csr_from_dense's order, so the sparse ops
/// give the same bits), values 1.  users [B] -> CSR [B, history.num_items]
CsrMatrix history_csr(const UserItems& history, const std::vector<int64_t>& users);

/// y[b] = x[b] / ‖x[b]‖₂; an all-zero row stays zero. A fresh tensor outside the graph (the
/// models normalise constant inputs).  x [B, n] -> [B, n]
Tensor l2_normalize_rows(const Tensor& x);

/// x[b] / ‖x[b]‖₂ on CSR rows, in place. For rows in column order (as csr_from_dense makes
/// them) the values are bit for bit the dense version's at the non-zeros.
void l2_normalize_rows(CsrMatrix& x);

/// Inverted dropout of the non-zeros of x, in place: entry (r, c) is kept (and scaled by
/// 1/(1-p)) exactly when ops/dropout.h's dropout(x.to_dense(), p, training, gen) keeps element
/// r·cols + c (one key from gen, a hash per element), so the result is that dropout's output
/// in CSR form, drawn at the cost of the non-zeros only. Dropped entries stay in the pattern
/// as zeros. With training == false or p == 0 it changes nothing and does not advance gen.
void dropout_nonzeros(CsrMatrix& x, float p, bool training, Generator& gen);

/// mlp.forward(x.to_dense()) with the first layer read sparsely (ops/sparse_linear.h); the
/// MLP's activation options are passed in (an MLP does not expose them) and it must have no
/// dropout.  x CSR [B, sizes[0]] -> [B, sizes.back()]
Tensor mlp_forward_sparse(const nn::MLP& mlp, const CsrMatrix& x, nn::Activation activation,
                          bool final_activation);

/// The random key of batch `index` of epoch `epoch` for the stream `salt` of a model seeded
/// `seed`: dropout masks and noise drawn from Generator(batch_key(...)) depend on nothing else,
/// so a resumed run draws exactly what an uninterrupted one would.
uint64_t batch_key(uint64_t seed, uint64_t salt, int64_t epoch, int64_t index);

/// Re-initialises every layer of `mlp` as TensorFlow's Dense with xavier_initializer: weights
/// U(-b, b), b = √(6/(in + out)); biases N(0, bias_std²) (bias_std = 0: zeros).
void xavier_init(nn::MLP& mlp, Generator& gen, float bias_std = 0.f);

}  // namespace recgrad::recsys
