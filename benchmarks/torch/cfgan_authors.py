"""CFGAN trained as its authors' public code trains it on ML-100K (iCFGAN; Chae et al., CIKM
2018), in PyTorch: a check that recgrad's `cfgan` with the authors' layout (the
`cfgan-*/icfgan` rows of benchmarks/reproduce.cc) learns what the authors' procedure learns on
the same rows. Not a speed peer.

As the authors' code does, it prints the test figures after every G pass, so its best pass is
the one the test picks: what a fixed pass count tuned while watching the test can reach, and
what recgrad's rows do not do (they stop on validation). It trains on train + valid of a
`recgrad export` directory and tests on its test part, as the "refit on 80%" rows.

Rows are items: c_i is item i's 0/1 vector over users. Per epoch: for every row a sample of
int(0.7·zeros) of its zero entries for ZR and another for PM (without replacement), shared by
the epoch's passes; 2 passes of D (batches of 64 rows), then 4 of G (batches of 32), each pass in
a fresh order. G: Linear(U -> 400), sigmoid, Linear(400 -> U), no output activation; D:
Linear(2U -> 125), sigmoid, Linear(125 -> 1) on c ⊕ x. Real x = c, fake x = G(c) ⊙ (c + PM).
D loss: BCE(D(real), 1) + BCE(D(fake), 0), batch means; G loss: BCE(D(fake), 1) + 0.03 · batch
mean of Σ_ZR G(c)² + 1e-3 · Σ w² / 2 over G's weights and biases, D frozen. Weights uniform in
±sqrt(6 / (fan_in + fan_out)), biases in ±0.01; Adam lr 1e-4 for each network. User u's score
for item i is G(c_i)[u].

  /usr/bin/python3 benchmarks/torch/cfgan_authors.py --data DIR [--epochs 250] [--seed 0]
      [--shared-samples]

prints "pass P@20 NDCG@20" after every G pass, then the best pass and the last.
"""
import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

import common

G_HIDDEN, D_HIDDEN, RATIO, ALPHA, LR, G_L2 = 400, 125, 0.7, 0.03, 1e-4, 1e-3
D_PASSES, G_PASSES, D_BATCH, G_BATCH = 2, 4, 64, 32


def layer(fan_in, fan_out):
    linear = torch.nn.Linear(fan_in, fan_out)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    torch.nn.init.uniform_(linear.weight, -bound, bound)
    torch.nn.init.uniform_(linear.bias, -0.01, 0.01)
    return linear


def zero_sample(rows, rng):
    """Per row, int(RATIO · zeros) of its zero entries drawn without replacement, as a 0/1
    matrix: the entries with the smallest random keys."""
    zeros = rows == 0
    keys = rng.random_sample(rows.shape)
    keys[~zeros] = np.inf
    ranks = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
    take = (RATIO * zeros.sum(1)).astype(np.int64)
    return torch.from_numpy((ranks < take[:, None]).astype(np.float32))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="directory written by `recgrad export`")
    p.add_argument("--epochs", type=int, default=250, help="epochs of 2 D and 4 G passes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--shared-samples", action="store_true",
                   help="PM's sample is ZR's, as the authors' code draws both after seeding NumPy "
                        "with the same value (recgrad's --set samples=shared)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)

    data = common.load_data(args.data)
    _, by_user = common.interaction_matrix(data, ("train", "valid"))
    rows = by_user.t().contiguous()  # [items, users]
    rows_np = rows.numpy()
    n, width = rows.shape
    g = torch.nn.Sequential(layer(width, G_HIDDEN), torch.nn.Sigmoid(), layer(G_HIDDEN, width))
    d = torch.nn.Sequential(layer(2 * width, D_HIDDEN), torch.nn.Sigmoid(), layer(D_HIDDEN, 1))
    g_opt = torch.optim.Adam(g.parameters(), lr=LR)
    d_opt = torch.optim.Adam(d.parameters(), lr=LR)

    best = (-1.0, 0, 0.0)
    passes = 0
    for _ in range(args.epochs):
        zr = zero_sample(rows_np, rng)
        # the purchased entries and the PM sample
        mask = rows + (zr if args.shared_samples else zero_sample(rows_np, rng))
        for _ in range(D_PASSES):
            order = torch.from_numpy(rng.permutation(n))
            for s in range(0, n, D_BATCH):
                b = order[s:s + D_BATCH]
                c = rows[b]
                with torch.no_grad():
                    fake = g(c) * mask[b]
                real_logit = d(torch.cat([c, c], 1))
                fake_logit = d(torch.cat([c, fake], 1))
                loss = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                        + F.binary_cross_entropy_with_logits(fake_logit,
                                                             torch.zeros_like(fake_logit)))
                d_opt.zero_grad()
                loss.backward()
                d_opt.step()
        d.requires_grad_(False)
        for _ in range(G_PASSES):
            order = torch.from_numpy(rng.permutation(n))
            for s in range(0, n, G_BATCH):
                b = order[s:s + G_BATCH]
                c = rows[b]
                out = g(c)
                fake_logit = d(torch.cat([c, out * mask[b]], 1))
                l2 = sum((w ** 2).sum() for w in g.parameters()) / 2
                loss = (F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
                        + ALPHA * ((out ** 2) * zr[b]).sum(1).mean() + G_L2 * l2)
                g_opt.zero_grad()
                loss.backward()
                g_opt.step()
            passes += 1
            with torch.no_grad():
                scores = g(rows).t()  # [users, items]
            metrics, _ = common.evaluate_ranking(lambda users: scores[users], data, k=20)
            p20, n20 = metrics["Precision@20"], metrics["NDCG@20"]
            print("%d %.4f %.4f" % (passes, p20, n20), flush=True)
            if p20 > best[0]:
                best = (p20, passes, n20)
        d.requires_grad_(True)
    print("best (picked by the test): pass %d P@20 %.4f NDCG@20 %.4f" % (best[1], best[0],
                                                                         best[2]))
    print("last: pass %d P@20 %.4f NDCG@20 %.4f" % (passes, p20, n20))


if __name__ == "__main__":
    main()
