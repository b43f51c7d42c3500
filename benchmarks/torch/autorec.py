"""I-AutoRec in PyTorch: the peer of recgrad's `autorec` (recsys/models/autorec.h; Sedhain et
al., WWW 2015).

Item i's ratings over all users r⁽ⁱ⁾ [num_users]; h(r) = W·σ(V·r + μ) + b + r̄ (k = 500 hidden
units, r̄ the mean training rating); loss Σᵢ ‖(r⁽ⁱ⁾ - h(r⁽ⁱ⁾)) ⊙ mask⁽ⁱ⁾‖² / B + λ/(2N)·(‖W‖² +
‖V‖²), λ = 300, N the rated items; Xavier-uniform weights, zero biases; Adam lr 1e-3, batch 256
items. Prediction h(r⁽ⁱ⁾)ᵤ clipped to the training ratings' range; r̄ for an item or user without
training ratings. Evaluated by RMSE/MAE on the test ratings.
Dense layers and dense Adam, as recgrad. Batch rows are built from per-item lists each batch
(as recgrad's ItemRatingLoader), not kept as a dense items x users matrix.
"""
import numpy as np
import torch

import common

HIDDEN, L2, LR, BATCH = 500, 300.0, 1e-3, 256


def main():
    args = common.parse_args(__doc__, epochs=50)
    data = common.load_data(args.data)
    if not data.has_ratings:
        raise SystemExit("autorec: %s has no ratings" % args.data)
    tr = data.train
    # Per item: its users and ratings (a later duplicate row wins, as in recgrad).
    by_item = common.Csr(tr.items, tr.users, data.num_items, tr.ratings)
    rated = np.nonzero(by_item.counts() > 0)[0]
    offset = float(np.float64(tr.ratings).mean())
    lo, hi = float(tr.ratings.min()), float(tr.ratings.max())
    encoder = torch.nn.Linear(data.num_users, HIDDEN)
    decoder = torch.nn.Linear(HIDDEN, data.num_users)
    for layer in (encoder, decoder):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=LR)
    scale = L2 / (2.0 * len(rated))

    def reconstruct(r):
        return decoder(torch.sigmoid(encoder(r))) + offset

    def epoch(_):
        total = 0.0
        parts = common.batches(len(rated), BATCH)
        for idx in parts:
            items = rated[idx.numpy()]
            r = by_item.dense(items, data.num_users)
            owner, cols, _ = by_item.gather(items)
            mask = torch.zeros_like(r)
            mask[torch.from_numpy(owner), torch.from_numpy(cols)] = 1.0
            sse = ((reconstruct(r) - r) * mask).pow(2).sum() / len(items)
            loss = sse + scale * (encoder.weight.pow(2).sum() + decoder.weight.pow(2).sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return len(rated), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    user_counts = np.bincount(tr.users, minlength=data.num_users)

    def predict(users, items):
        out = torch.full((len(users),), offset)
        item_counts = by_item.counts()
        ok = torch.from_numpy((item_counts[items.numpy()] > 0) & (user_counts[users.numpy()] > 0))
        distinct, inverse = torch.unique(items[ok], return_inverse=True)
        rec = reconstruct(by_item.dense(distinct.numpy(), data.num_users))  # [D, num_users]
        out[ok] = rec[inverse, users[ok]].clamp(lo, hi)
        return out

    metrics, seconds = common.evaluate_ratings(predict, data)
    common.finish(args, "autorec", data, log, metrics, seconds, batch_size=BATCH,
                  notes="dense Linear layers, Adam")


if __name__ == "__main__":
    main()
