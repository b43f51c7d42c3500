"""Mult-VAE in PyTorch: the peer of recgrad's `multvae` (recsys/models/mult_vae.h; Liang et al.,
WWW 2018).

x̃ = dropout(x_u / ‖x_u‖₂, 0.5); h = tanh(W₁x̃ + b₁) [600]; [μ, log σ²] = W₂h + b₂ [2·200];
z = μ + ε·σ (training; μ at scoring); logits = W₄ tanh(W₃z + b₃) + b₄; loss -Σᵢ xᵤᵢ log πᵢ +
β·KL(N(μ, σ²) ‖ N(0, I)), batch means; β = min(0.2, updates / total), total = 80% of the epochs'
updates (as recgrad's registry sets anneal_epochs); weights Xavier-uniform, biases N(0, 0.001²)
(truncated); Adam lr 1e-3, batch 500 users. Dense layers and dense Adam, as recgrad.
"""
import numpy as np
import torch
import torch.nn.functional as F

import common

HIDDEN, LATENT, DROPOUT, LR, BATCH, CAP = 600, 200, 0.5, 1e-3, 500, 0.2


def main():
    args = common.parse_args(__doc__, epochs=100)
    data = common.load_data(args.data)
    n = data.num_items
    enc1, enc2 = torch.nn.Linear(n, HIDDEN), torch.nn.Linear(HIDDEN, 2 * LATENT)
    dec1, dec2 = torch.nn.Linear(LATENT, HIDDEN), torch.nn.Linear(HIDDEN, n)
    layers = [enc1, enc2, dec1, dec2]
    for layer in layers:
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.trunc_normal_(layer.bias, 0.0, 0.001, -0.002, 0.002)
    opt = torch.optim.Adam([p for l in layers for p in l.parameters()], lr=LR)

    def encode(rows, noisy):
        h = enc2(torch.tanh(enc1(F.dropout(F.normalize(rows, dim=1), DROPOUT, training=noisy))))
        return h[:, :LATENT], h[:, LATENT:]

    def decode(z):
        return dec2(torch.tanh(dec1(z)))

    train = common.user_items(data, ("train",))
    users = np.nonzero(train.counts() > 0)[0]
    batches_per_epoch = (len(users) + BATCH - 1) // BATCH
    anneal_epochs = max(1, (8 * args.epochs + 9) // 10)
    total_steps = anneal_epochs * batches_per_epoch
    updates = [0]

    def epoch(_):
        total = 0.0
        parts = common.batches(len(users), BATCH)
        for idx in parts:
            rows = train.dense(users[idx.numpy()], n)
            mu, logvar = encode(rows, True)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            nll = -(F.log_softmax(decode(z), 1) * rows).sum(1).mean()
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
            beta = min(CAP, updates[0] / total_steps)
            loss = nll + beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            updates[0] += 1
            total += loss.item()
        return len(users), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    history = common.user_items(data, ("train", "valid"))
    metrics, seconds = common.evaluate_ranking(
        lambda u: decode(encode(history.dense(u.numpy(), n), False)[0]), data)
    common.finish(args, "multvae", data, log, metrics, seconds, batch_size=BATCH,
                  notes="dense Linear layers, Adam")


if __name__ == "__main__":
    main()
