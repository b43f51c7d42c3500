#pragma once
// recgrad's layers: Modules that own named parameters, buffers and submodules (dotted paths
// such as "encoder.0.weight", used by optimizers and checkpoints), train/eval modes, and the
// layers built on ops/: Linear, Embedding/EmbeddingBag, MLP, Dropout, LayerNorm, Conv, pooling,
// GRU/LSTM, attention, transformer blocks, positional embeddings, losses and initializers.
//
// One include for all of the package's public API (also ops/ops.h and autograd/autograd.h).
#include "nn/activation.h"
#include "nn/attention.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/init.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/losses.h"
#include "nn/lstm.h"
#include "nn/mlp.h"
#include "nn/module.h"
#include "nn/pool.h"
#include "nn/positional_embedding.h"
#include "nn/rnn.h"
#include "nn/transformer.h"
#include "ops/ops.h"
