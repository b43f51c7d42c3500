#pragma once
// recgrad's differentiable operations, each with its backward beside it: matrix products on
// OpenBLAS, broadcasting elementwise math and activations, reductions, softmax, shape ops,
// embedding lookups with row-sparse gradients, losses, dropout, layer norm, convolution,
// pooling, attention (and its causal products), RNN cell gates and linear maps of sparse (CSR)
// rows; plus the runtime settings (threads, BLAS kernel).
//
// One include for all of the package's public API (also autograd/autograd.h). Kernel helpers
// (ops/blas.h, ops/broadcast.h, ops/column_reduce.h, ops/dropout_mask.h, ops/fast_math.h) are
// internal and not included.
#include "autograd/autograd.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/causal_matmul.h"
#include "ops/conv.h"
#include "ops/csr.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/pool.h"
#include "ops/reduce.h"
#include "ops/rnn_cell.h"
#include "ops/runtime.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "ops/sparse_linear.h"
