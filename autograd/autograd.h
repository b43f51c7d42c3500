#pragma once
// recgrad's autograd: a float32 Tensor (shared row-major storage and a shape) with a dynamic
// graph, reverse-mode backward(), NoGradGuard, seeded Generators, the buffer cache's counters,
// Graphviz export of a graph (to_dot), and gradcheck to test the gradients of your own ops.
// Writing an op: compute its output, then record() its backward beside it (autograd/graph.h).
//
// One include for all of the package's public API. The parallel helpers (autograd/parallel.h)
// are for kernel authors and are not included.
#include "autograd/dot.h"        // to_dot
#include "autograd/error.h"      // Error, UsageError, RECGRAD_CHECK
#include "autograd/generator.h"  // Generator
#include "autograd/gradcheck.h"  // gradcheck, GradcheckOptions
#include "autograd/graph.h"      // record, GradSink, NoGradGuard, grad_enabled
#include "autograd/shape.h"      // Shape
#include "autograd/storage.h"    // storage_cache_stats, release_cached_storage
#include "autograd/tensor.h"     // Tensor, Ids, RowSparseGrad, zeros/ones/randn/...
