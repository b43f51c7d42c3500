"""Mult-DAE in PyTorch: the peer of recgrad's `multdae` (recsys/models/mult_dae.h; Liang et al.,
WWW 2018).

x̃ = dropout(x_u / ‖x_u‖₂, 0.5); logits = W₄ tanh(W₃ tanh(W₂ tanh(W₁x̃ + b₁) + b₂) + b₃) + b₄
[I -> 600 -> 200 -> 600 -> I]; loss -Σᵢ xᵤᵢ log softmax(logits)ᵢ averaged over the batch;
weights Xavier-uniform, biases N(0, 0.001²) (truncated); Adam lr 1e-3 with weight decay 4e-5 on
the weights only; batch 500 users. Scores: logits of the train+valid rows without dropout.
Dense layers and dense Adam, as recgrad.
"""
import numpy as np
import torch
import torch.nn.functional as F

import common

HIDDEN, LATENT, DROPOUT, LR, DECAY, BATCH = 600, 200, 0.5, 1e-3, 4e-5, 500


def init(layers):
    for layer in layers:
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.trunc_normal_(layer.bias, 0.0, 0.001, -0.002, 0.002)


def main():
    args = common.parse_args(__doc__, epochs=100)
    data = common.load_data(args.data)
    n = data.num_items
    enc1, enc2 = torch.nn.Linear(n, HIDDEN), torch.nn.Linear(HIDDEN, LATENT)
    dec1, dec2 = torch.nn.Linear(LATENT, HIDDEN), torch.nn.Linear(HIDDEN, n)
    layers = [enc1, enc2, dec1, dec2]
    init(layers)
    opt = torch.optim.Adam([
        {"params": [l.weight for l in layers], "weight_decay": DECAY},
        {"params": [l.bias for l in layers], "weight_decay": 0.0}], lr=LR)

    def forward(rows, noisy):
        x = F.dropout(F.normalize(rows, dim=1), DROPOUT, training=noisy)
        return dec2(torch.tanh(dec1(torch.tanh(enc2(torch.tanh(enc1(x)))))))

    train = common.user_items(data, ("train",))
    users = np.nonzero(train.counts() > 0)[0]

    def epoch(_):
        total = 0.0
        parts = common.batches(len(users), BATCH)
        for idx in parts:
            rows = train.dense(users[idx.numpy()], n)
            loss = -(F.log_softmax(forward(rows, True), 1) * rows).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return len(users), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    history = common.user_items(data, ("train", "valid"))
    metrics, seconds = common.evaluate_ranking(
        lambda u: forward(history.dense(u.numpy(), n), False), data)
    common.finish(args, "multdae", data, log, metrics, seconds, batch_size=BATCH,
                  notes="dense Linear layers, Adam (weight decay on weights only)")


if __name__ == "__main__":
    main()
