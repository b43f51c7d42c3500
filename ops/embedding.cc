#include "ops/embedding.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/shape.h"

namespace recgrad {
namespace {

void check_table(const char* op, const Tensor& table) {
  RECGRAD_CHECK(table.dim() == 2, op, ": table must be 2-D [N,D], got shape ", table.shape());
}

void check_ids(const char* op, const Ids& ids, int64_t rows) {
  RECGRAD_CHECK(ids.shape.numel() == ids.numel(), op, ": ", ids.numel(),
                " ids do not fill their shape ", ids.shape);
  for (int64_t p = 0; p < ids.numel(); ++p) {
    const int64_t id = ids.values[p];
    RECGRAD_CHECK(id >= 0 && id < rows, op, ": id ", id, " at position ", p,
                  " is out of range for a table of ", rows, " rows");
  }
}

// For every unique id u: dst_row(u) += Σ weight(p) · src_row(p) over its positions p, in
// position order (with `assign`, dst_row(u) = that sum: the destination need not be zeroed
// first, which saves a write pass over it). A task owns whole destination rows, so there are
// no races, and each row's sum is taken in the same order at any thread count.
template <typename DstRow, typename SrcRow, typename Weight>
void sum_groups(const detail::IdGroups& groups, int64_t width, bool assign,
                const DstRow& dst_row, const SrcRow& src_row, const Weight& weight) {
  const int64_t n_unique = static_cast<int64_t>(groups.unique.size());
  const int64_t per_row =
      width * std::max<int64_t>(1, static_cast<int64_t>(groups.positions.size()) /
                                       std::max<int64_t>(n_unique, 1));
  detail::parallel_for(n_unique,
                       std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(per_row, 1)),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t u = lo; u < hi; ++u) {
                           float* dst = dst_row(u);
                           int64_t q = groups.starts[u];  // every group has a position
                           if (assign) {
                             const int64_t p = groups.positions[q++];
                             const float* src = src_row(p);
                             const float w = weight(p);
                             for (int64_t j = 0; j < width; ++j) dst[j] = w * src[j];
                           }
                           for (; q < groups.starts[u + 1]; ++q) {
                             const int64_t p = groups.positions[q];
                             const float* src = src_row(p);
                             const float w = weight(p);
                             for (int64_t j = 0; j < width; ++j) dst[j] += w * src[j];
                           }
                         }
                       });
}

// The row-sparse gradient: rows = the unique ids (sorted), values [n_unique, D] their sums.
template <typename SrcRow, typename Weight>
RowSparseGrad sparse_rows(const detail::IdGroups& groups, int64_t width, const SrcRow& src_row,
                          const Weight& weight) {
  RowSparseGrad part;
  part.rows = groups.unique;
  part.values = Tensor::empty({static_cast<int64_t>(groups.unique.size()), width});
  float* v = part.values.data();
  sum_groups(
      groups, width, /*assign=*/true, [&](int64_t u) { return v + u * width; }, src_row, weight);
  return part;
}

}  // namespace

Tensor embedding(const Tensor& table, const Ids& ids, EmbeddingOptions opts) {
  check_table("embedding", table);
  const int64_t rows = table.size(0), width = table.size(1);
  RECGRAD_CHECK(opts.padding_idx == -1 || (opts.padding_idx >= 0 && opts.padding_idx < rows),
                "embedding: padding_idx ", opts.padding_idx, " is out of range for a table of ",
                rows, " rows (-1 means none)");
  check_ids("embedding", ids, rows);
  Shape out_shape = ids.shape;
  out_shape.push_back(width);
  Tensor out = Tensor::empty(out_shape);
  {
    const float* src = table.data();
    float* dst = out.data();
    const int64_t* id = ids.values.data();
    detail::parallel_for(
        ids.numel(), std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(width, 1)),
        [&](int64_t lo, int64_t hi) {
          for (int64_t p = lo; p < hi; ++p)
            std::memcpy(dst + p * width, src + id[p] * width, sizeof(float) * width);
        });
  }
  // d table[r] = Σ dy[p] over positions p with ids[p] == r (padding lookups left out).
  return record("embedding", out, {table},
                [ids = ids.values, width, opts](const Tensor& dy, GradSink& g) {
                  if (!g.wants(0)) return;
                  const detail::IdGroups groups = detail::group_ids(ids, opts.padding_idx);
                  const float* pdy = dy.data();
                  auto src_row = [&](int64_t p) { return pdy + p * width; };
                  auto one = [](int64_t) { return 1.f; };
                  if (opts.sparse) {
                    g.add_sparse(0, sparse_rows(groups, width, src_row, one));
                  } else {
                    float* dx = g.dense(0).data();
                    sum_groups(
                        groups, width, /*assign=*/false,
                        [&](int64_t u) { return dx + groups.unique[u] * width; }, src_row, one);
                  }
                });
}

Tensor embedding_dot(const Tensor& a, const Ids& a_ids, const Tensor& b, const Ids& b_ids) {
  check_table("embedding_dot", a);
  check_table("embedding_dot", b);
  RECGRAD_CHECK(a.size(1) == b.size(1), "embedding_dot: tables ", a.shape(), " and ", b.shape(),
                " have rows of different widths");
  RECGRAD_CHECK(a_ids.shape.size() == 1 && b_ids.shape.size() == 1 &&
                    a_ids.numel() == b_ids.numel(),
                "embedding_dot: ids must be two 1-D lists of equal length, got shapes ",
                a_ids.shape, " and ", b_ids.shape);
  check_ids("embedding_dot", a_ids, a.size(0));
  check_ids("embedding_dot", b_ids, b.size(0));
  const int64_t n = a_ids.numel(), width = a.size(1);
  Tensor out = Tensor::empty({n});
  {
    const float* pa = a.data();
    const float* pb = b.data();
    const int64_t* ia = a_ids.values.data();
    const int64_t* ib = b_ids.values.data();
    float* y = out.data();
    // Each dot is summed in index order whatever the thread count.
    detail::parallel_for(n, std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(width, 1)),
                         [&](int64_t lo, int64_t hi) {
                           for (int64_t p = lo; p < hi; ++p) {
                             const float* ra = pa + ia[p] * width;
                             const float* rb = pb + ib[p] * width;
                             float acc = 0;
                             for (int64_t j = 0; j < width; ++j) acc += ra[j] * rb[j];
                             y[p] = acc;
                           }
                         });
  }
  // The tables are read in backward as they were in forward: the optimizer updates them only
  // after backward returns.
  return record("embedding_dot", out, {a, b},
                [a, b, ia = a_ids.values, ib = b_ids.values, width](const Tensor& dy,
                                                                     GradSink& g) {
                  const float* pdy = dy.data();
                  auto weight = [&](int64_t p) { return pdy[p]; };
                  if (g.wants(0)) {
                    const float* pb = b.data();
                    g.add_sparse(0, sparse_rows(detail::group_ids(ia), width,
                                                [&](int64_t p) { return pb + ib[p] * width; },
                                                weight));
                  }
                  if (g.wants(1)) {
                    const float* pa = a.data();
                    g.add_sparse(1, sparse_rows(detail::group_ids(ib), width,
                                                [&](int64_t p) { return pa + ia[p] * width; },
                                                weight));
                  }
                });
}

Tensor embedding_bag(const Tensor& table, const Ids& ids, const std::vector<int64_t>& offsets,
                     BagMode mode) {
  check_table("embedding_bag", table);
  const int64_t rows = table.size(0), width = table.size(1);
  RECGRAD_CHECK(ids.shape.size() == 1,
                "embedding_bag: ids must be 1-D (all bags' ids concatenated), got shape ",
                ids.shape);
  check_ids("embedding_bag", ids, rows);
  const int64_t n = ids.numel(), n_bags = static_cast<int64_t>(offsets.size());
  RECGRAD_CHECK(n_bags > 0 || n == 0, "embedding_bag: no offsets for ", n, " ids");
  RECGRAD_CHECK(n_bags == 0 || offsets[0] == 0, "embedding_bag: offsets[0] is ", offsets[0],
                ", but the first bag must start at 0");
  // bag_of[p]: the bag that position p belongs to; scale[b]: its weight in the pooled row.
  std::vector<int64_t> bag_of(n);
  std::vector<float> scale(n_bags, 1.f);
  for (int64_t b = 0; b < n_bags; ++b) {
    const int64_t begin = offsets[b], end = b + 1 < n_bags ? offsets[b + 1] : n;
    RECGRAD_CHECK(begin <= end && end <= n, "embedding_bag: bag ", b, " = ids[", begin, ":", end,
                  "] is not a range within the ", n, " ids (offsets must not decrease)");
    std::fill(bag_of.begin() + begin, bag_of.begin() + end, b);
    if (mode == BagMode::kMean && end > begin) scale[b] = 1.f / static_cast<float>(end - begin);
  }
  Tensor out = zeros({n_bags, width});
  {
    const float* src = table.data();
    float* dst = out.data();
    const int64_t* id = ids.values.data();
    const int64_t per_bag = width * std::max<int64_t>(1, n / std::max<int64_t>(n_bags, 1));
    detail::parallel_for(
        n_bags, std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(per_bag, 1)),
        [&](int64_t lo, int64_t hi) {
          for (int64_t b = lo; b < hi; ++b) {
            const int64_t begin = offsets[b], end = b + 1 < n_bags ? offsets[b + 1] : n;
            float* o = dst + b * width;
            for (int64_t p = begin; p < end; ++p) {
              const float* row = src + id[p] * width;
              for (int64_t j = 0; j < width; ++j) o[j] += row[j];
            }
            if (scale[b] != 1.f)
              for (int64_t j = 0; j < width; ++j) o[j] *= scale[b];
          }
        });
  }
  // d table[r] = Σ scale[bag(p)] · dy[bag(p)] over positions p with ids[p] == r.
  return record("embedding_bag", out, {table},
                [ids = ids.values, bag_of = std::move(bag_of), scale = std::move(scale), width](
                    const Tensor& dy, GradSink& g) {
                  if (!g.wants(0)) return;
                  const detail::IdGroups groups = detail::group_ids(ids);
                  const float* pdy = dy.data();
                  g.add_sparse(
                      0, sparse_rows(
                             groups, width, [&](int64_t p) { return pdy + bag_of[p] * width; },
                             [&](int64_t p) { return scale[bag_of[p]]; }));
                });
}

}  // namespace recgrad
