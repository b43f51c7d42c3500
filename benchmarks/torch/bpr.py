"""BPR-MF in PyTorch: the peer of recgrad's `bpr` (recsys/models/bpr_mf.h).

score(u, i) = <P_u, Q_i>; one uniform negative the user never had per training interaction;
loss mean -log σ(pos - neg). dim 64, N(0, 0.1²) init, batch 2048, lr 1e-3.
recgrad's embeddings get row-sparse gradients and a lazy Adam; here nn.Embedding(sparse=True)
with torch.optim.SparseAdam, the same lazy update.
"""
import torch
import torch.nn.functional as F

import common

DIM, LR, BATCH = 64, 1e-3, 2048


def main():
    args = common.parse_args(__doc__, epochs=20)
    data = common.load_data(args.data)
    users = torch.nn.Embedding(data.num_users, DIM, sparse=True)
    items = torch.nn.Embedding(data.num_items, DIM, sparse=True)
    for e in (users, items):
        torch.nn.init.normal_(e.weight, 0.0, 0.1)
    opt = torch.optim.SparseAdam(list(users.parameters()) + list(items.parameters()), lr=LR)
    seen = common.seen_matrix(data, ("train",))
    train_u = torch.from_numpy(data.train.users)
    train_i = torch.from_numpy(data.train.items)

    def epoch(_):
        neg = common.sample_negatives(train_u, seen, data.num_items).view(-1)
        total = 0.0
        parts = common.batches(len(train_u), BATCH)
        for idx in parts:
            u, i, j = train_u[idx], train_i[idx], neg[idx]
            pu = users(u)
            loss = -F.logsigmoid((pu * items(i)).sum(1) - (pu * items(j)).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return len(train_u), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    metrics, seconds = common.evaluate_ranking(lambda u: users(u) @ items.weight.t(), data)
    common.finish(args, "bpr", data, log, metrics, seconds, batch_size=BATCH,
                  notes="nn.Embedding(sparse=True) + SparseAdam")


if __name__ == "__main__":
    main()
