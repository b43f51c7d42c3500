"""BiasedMF in PyTorch: the peer of recgrad's `biasedmf` (recsys/models/biased_mf.h).

r̂(u, i) = μ + b_u + b_i + <p_u, q_i>, μ the training mean; loss per batch
mean (r - r̂)² + λ·mean(‖p_u‖² + ‖q_i‖² + b_u² + b_i²), λ = 0.1; dim 64, factors N(0, 0.1²),
biases 0, Adam lr 3e-3, batch 256; evaluated by RMSE/MAE on the test ratings.
recgrad's four tables get row-sparse gradients and a lazy Adam; here nn.Embedding(sparse=True)
with torch.optim.SparseAdam, the same lazy update.
"""
import torch

import common

DIM, REG, LR, BATCH = 64, 0.1, 3e-3, 256


def main():
    args = common.parse_args(__doc__, epochs=20)
    data = common.load_data(args.data)
    if not data.has_ratings:
        raise SystemExit("biasedmf: %s has no ratings" % args.data)
    p = torch.nn.Embedding(data.num_users, DIM, sparse=True)
    q = torch.nn.Embedding(data.num_items, DIM, sparse=True)
    bu = torch.nn.Embedding(data.num_users, 1, sparse=True)
    bi = torch.nn.Embedding(data.num_items, 1, sparse=True)
    torch.nn.init.normal_(p.weight, 0.0, 0.1)
    torch.nn.init.normal_(q.weight, 0.0, 0.1)
    torch.nn.init.zeros_(bu.weight)
    torch.nn.init.zeros_(bi.weight)
    tables = [p, q, bu, bi]
    opt = torch.optim.SparseAdam([t.weight for t in tables], lr=LR)
    train_u = torch.from_numpy(data.train.users)
    train_i = torch.from_numpy(data.train.items)
    train_r = torch.from_numpy(data.train.ratings)
    mu = float(train_r.double().mean())

    def predict(u, i):
        return mu + bu(u).view(-1) + bi(i).view(-1) + (p(u) * q(i)).sum(1)

    def epoch(_):
        total = 0.0
        parts = common.batches(len(train_u), BATCH)
        for idx in parts:
            u, i, r = train_u[idx], train_i[idx], train_r[idx]
            pu, qi, b_u, b_i = p(u), q(i), bu(u).view(-1), bi(i).view(-1)
            err = (mu + b_u + b_i + (pu * qi).sum(1) - r).pow(2).mean()
            l2 = (pu.pow(2).sum(1) + qi.pow(2).sum(1) + b_u.pow(2) + b_i.pow(2)).mean()
            loss = err + REG * l2
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return len(train_u), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    metrics, seconds = common.evaluate_ratings(predict, data)
    common.finish(args, "biasedmf", data, log, metrics, seconds, batch_size=BATCH,
                  notes="nn.Embedding(sparse=True) + SparseAdam")


if __name__ == "__main__":
    main()
