"""CDAE in PyTorch: the peer of recgrad's `cdae` (recsys/models/cdae.h; Wu et al., WSDM 2016).

ỹ = dropout(y_u, 0.5); z = ReLU(W ỹ + b + V_u) [50], V_u a per-user node; logits = W'z + b';
loss Σᵢ BCE(σ(logits), y) over the full row, averaged over the batch's users; weights
Xavier-uniform, biases 0, user nodes N(0, 0.01²); Adam lr 3e-3, batch 64 users. Scores: logits of
the train+valid rows, uncorrupted, with the user's node.
recgrad's user nodes are an Embedding with row-sparse gradients and a lazy Adam; here
nn.Embedding(sparse=True) + SparseAdam for them and Adam for the dense layers.
"""
import numpy as np
import torch
import torch.nn.functional as F

import common

HIDDEN, CORRUPTION, LR, BATCH = 50, 0.5, 3e-3, 64


def main():
    args = common.parse_args(__doc__, epochs=40)
    data = common.load_data(args.data)
    n = data.num_items
    encoder, decoder = torch.nn.Linear(n, HIDDEN), torch.nn.Linear(HIDDEN, n)
    for layer in (encoder, decoder):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    nodes = torch.nn.Embedding(data.num_users, HIDDEN, sparse=True)
    torch.nn.init.normal_(nodes.weight, 0.0, 0.01)
    dense_opt = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=LR)
    sparse_opt = torch.optim.SparseAdam([nodes.weight], lr=LR)

    def forward(users, rows, noisy):
        x = F.dropout(rows, CORRUPTION, training=noisy)
        return decoder(F.relu(encoder(x) + nodes(users)))

    train = common.user_items(data, ("train",))
    users = np.nonzero(train.counts() > 0)[0]

    def epoch(_):
        total = 0.0
        parts = common.batches(len(users), BATCH)
        for idx in parts:
            u = users[idx.numpy()]
            rows = train.dense(u, n)
            logits = forward(torch.from_numpy(u), rows, True)
            loss = F.binary_cross_entropy_with_logits(logits, rows, reduction="sum") / len(u)
            dense_opt.zero_grad()
            sparse_opt.zero_grad()
            loss.backward()
            dense_opt.step()
            sparse_opt.step()
            total += loss.item()
        return len(users), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    history = common.user_items(data, ("train", "valid"))
    metrics, seconds = common.evaluate_ranking(
        lambda u: forward(u, history.dense(u.numpy(), n), False), data)
    common.finish(args, "cdae", data, log, metrics, seconds, batch_size=BATCH,
                  notes="user nodes nn.Embedding(sparse=True) + SparseAdam; layers Adam")


if __name__ == "__main__":
    main()
