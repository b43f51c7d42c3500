"""CFGAN in PyTorch: the peer of recgrad's `cfgan` (recsys/models/cfgan.h; Chae et al., CIKM
2018).

G: r̂_u = σ(MLP_G(c_u)) [I -> 400 sigmoid -> I]; D: σ(MLP_D(x ⊕ c_u)) [2I -> 125 sigmoid -> 1];
real x = c_u, fake x = r̂_u ⊙ (c_u + k_u), k_u each unpurchased item with probability 0.7 (partial
masking), ZR_u another such draw; per batch of 64 users one D step (-log D(real) - log(1 -
D(fake))), then one G step (-log D(fake) + 0.3·Σ_{ZR} r̂² / B) with D frozen; Xavier-uniform
weights, zero biases; Adam lr 1e-3 for both, L2 1e-3 on G (Adam's coupled weight decay).
Scores: G's logits for the train+valid rows. Dense layers and dense Adam, as recgrad.
"""
import numpy as np
import torch
import torch.nn.functional as F

import common

G_HIDDEN, D_HIDDEN, RATIO, ALPHA, LR, G_DECAY, BATCH = 400, 125, 0.7, 0.3, 1e-3, 1e-3, 64


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        linear = torch.nn.Linear(a, b)
        torch.nn.init.xavier_uniform_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers[:-1])  # no activation after the last layer


def main():
    args = common.parse_args(__doc__, epochs=60)
    data = common.load_data(args.data)
    n = data.num_items
    gen = mlp([n, G_HIDDEN, n])
    disc = mlp([2 * n, D_HIDDEN, 1])
    g_opt = torch.optim.Adam(gen.parameters(), lr=LR, weight_decay=G_DECAY)
    d_opt = torch.optim.Adam(disc.parameters(), lr=LR)
    train = common.user_items(data, ("train",))
    users = np.nonzero(train.counts() > 0)[0]

    def discriminate(x, c):
        return disc(torch.cat([x, c], 1)).view(-1)

    def epoch(_):
        total = 0.0
        parts = common.batches(len(users), BATCH)
        for idx in parts:
            rows = train.dense(users[idx.numpy()], n)
            b = rows.shape[0]
            unpurchased = rows == 0
            pm_mask = rows + ((torch.rand(b, n) < RATIO) & unpurchased).float()
            zr_mask = ((torch.rand(b, n) < RATIO) & unpurchased).float()
            r_hat = torch.sigmoid(gen(rows))
            # D step on a detached fake: G gets no gradient from it.
            real_logit = discriminate(rows, rows)
            fake_logit = discriminate(r_hat.detach() * pm_mask, rows)
            d_loss = (F.binary_cross_entropy_with_logits(real_logit, torch.ones(b)) +
                      F.binary_cross_entropy_with_logits(fake_logit, torch.zeros(b)))
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            # G step through the updated D, its weights frozen (no weight gradients computed).
            for p in disc.parameters():
                p.requires_grad_(False)
            g_adv = F.binary_cross_entropy_with_logits(discriminate(r_hat * pm_mask, rows),
                                                       torch.ones(b))
            g_loss = g_adv + ALPHA * (r_hat.pow(2) * zr_mask).sum() / b
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            for p in disc.parameters():
                p.requires_grad_(True)
            total += g_loss.item()
        return len(users), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    history = common.user_items(data, ("train", "valid"))
    metrics, seconds = common.evaluate_ranking(lambda u: gen(history.dense(u.numpy(), n)), data)
    common.finish(args, "cfgan", data, log, metrics, seconds, batch_size=BATCH,
                  notes="dense Linear layers, two Adams")


if __name__ == "__main__":
    main()
