"""EASE in PyTorch: the peer of recgrad's `ease` (recsys/models/ease.h; Steck, WWW 2019).

P = (XᵀX + λI)⁻¹, B = I - P·diag(1/diag(P)) (B_ij = -P_ij / P_jj, B_jj = 0), λ = 500; scores
X_u·B. Fit in float32 as recgrad: the Gram matrix by a sparse x dense product, the inverse by
Cholesky (torch.linalg.cholesky + torch.cholesky_inverse, LAPACK from OpenBLAS).
"""
import time

import torch

import common

LAMBDA = 500.0


def main():
    args = common.parse_args(__doc__, epochs=0)
    data = common.load_data(args.data)
    n = data.num_items
    start = time.perf_counter()
    g = common.gram(data)
    g.diagonal().add_(LAMBDA)
    p = torch.cholesky_inverse(torch.linalg.cholesky(g))
    b = p / (-p.diagonal()).view(1, -1)
    b.fill_diagonal_(0.0)
    fit_seconds = time.perf_counter() - start
    history = common.user_items(data, ("train", "valid"))
    metrics, seconds = common.evaluate_ranking(lambda u: history.dense(u.numpy(), n) @ b, data)
    common.finish(args, "ease", data, [], metrics, seconds, fit_seconds=fit_seconds,
                  notes="torch.linalg.cholesky + cholesky_inverse (float32)")


if __name__ == "__main__":
    main()
