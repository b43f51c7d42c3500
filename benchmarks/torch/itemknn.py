"""ItemKNN in PyTorch: the peer of recgrad's `itemknn` (recsys/models/item_knn.h).

sim(i, j) = |U_i ∩ U_j| / (√|U_i|·√|U_j| + 10) on the binary training matrix; each item j keeps
its 100 most similar other items with similarity > 0; score(u, j) = Σ_{i ∈ history(u)} sim(i, j)
over j's neighbours. Fit: XᵀX as a sparse x dense product, then topk per row; scoring with the
neighbour matrix kept sparse.
"""
import time

import torch

import common

K, SHRINK = 100, 10.0


def main():
    args = common.parse_args(__doc__, epochs=0)
    data = common.load_data(args.data)
    n = data.num_items
    start = time.perf_counter()
    c = common.gram(data)                                   # co-occurrence counts [n, n]
    norms = c.diagonal().sqrt()
    sim = c / (norms.view(-1, 1) * norms.view(1, -1) + SHRINK)
    sim.fill_diagonal_(0.0)                                 # an item is not its own neighbour
    vals, nbrs = torch.topk(sim, min(K, n - 1), dim=1)      # row j: j's neighbours i
    keep = vals > 0
    rows = torch.arange(n).view(-1, 1).expand_as(nbrs)[keep]
    # W[j, i] = sim(i, j) for i among j's neighbours; scores = X_u · Wᵀ.
    w = torch.sparse_coo_tensor(torch.stack([rows, nbrs[keep]]), vals[keep], (n, n)).coalesce()
    fit_seconds = time.perf_counter() - start
    history = common.user_items(data, ("train", "valid"))
    metrics, seconds = common.evaluate_ranking(
        lambda u: torch.sparse.mm(w, history.dense(u.numpy(), n).t()).t(), data)
    common.finish(args, "itemknn", data, [], metrics, seconds, fit_seconds=fit_seconds,
                  notes="torch.sparse.mm Gram matrix, topk, sparse neighbour matrix")


if __name__ == "__main__":
    main()
