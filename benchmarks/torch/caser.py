"""Caser in PyTorch: the peer of recgrad's `caser` (recsys/models/caser.h, from the seq branch;
Tang & Wang, WSDM 2018, after the authors' caser_pytorch).

The last L = 5 items embedded form an image [B, 1, L, d] (d = 50); 4 vertical filters [L x 1]
and 16 horizontal filters [h x d] per h = 1..L (ReLU, max over positions); z = ReLU(W1·dropout(
[o_v, o_h]) + b1) [d]; x = [z, P_u]; y(i) = W2_i·x + b2_i. Trained on every sliding window of
each user's training sequence (the T = 3 items after it as targets, 3 uniform negatives the user
never had) with binary cross-entropy; embeddings N(0, (1/d)²), W2 N(0, (1/2d)²), b2 0, padding
(a history shorter than L + T gives one left-padded window) the zero row; Adam lr 1e-3, L2 1e-6,
batch 512 windows.
recgrad's four tables (items, users, W2, b2) get row-sparse gradients and a lazy Adam that
applies the L2 to touched rows; here nn.Embedding(sparse=True) + SparseAdam, which has no weight
decay (1e-6 only), and Adam(weight_decay=1e-6) for the convolutions and W1.
"""
import numpy as np
import torch
import torch.nn.functional as F

import common

D, L, T, NV, NH, DROPOUT, NEG, LR, DECAY, BATCH = 50, 5, 3, 4, 16, 0.5, 3, 1e-3, 1e-6, 512


class Caser(torch.nn.Module):
    def __init__(self, num_users, num_items):
        super().__init__()
        self.items = torch.nn.Embedding(num_items + 1, D, padding_idx=num_items, sparse=True)
        self.users = torch.nn.Embedding(num_users, D, sparse=True)
        self.w2 = torch.nn.Embedding(num_items, 2 * D, sparse=True)
        self.b2 = torch.nn.Embedding(num_items, 1, sparse=True)
        torch.nn.init.normal_(self.items.weight, 0.0, 1.0 / D)
        torch.nn.init.normal_(self.users.weight, 0.0, 1.0 / D)
        torch.nn.init.normal_(self.w2.weight, 0.0, 1.0 / (2 * D))
        torch.nn.init.zeros_(self.b2.weight)
        with torch.no_grad():
            self.items.weight[num_items].zero_()
        self.conv_v = torch.nn.Conv2d(1, NV, (L, 1))
        self.conv_h = torch.nn.ModuleList([torch.nn.Conv2d(1, NH, (h, D)) for h in range(1, L + 1)])
        self.fc1 = torch.nn.Linear(NV * D + NH * L, D)

    def encode(self, users, seq):
        e = self.items(seq).unsqueeze(1)                                   # [B, 1, L, d]
        feats = [self.conv_v(e).view(len(seq), -1)]                        # [B, n_v·d]
        for conv in self.conv_h:
            feats.append(F.relu(conv(e).squeeze(3)).max(dim=2).values)     # [B, n_h]
        z = F.relu(self.fc1(F.dropout(torch.cat(feats, 1), DROPOUT, self.training)))
        return torch.cat([z, self.users(users)], 1)                        # [B, 2d]

    def logits(self, x, items):                                            # items [B, K]
        return torch.bmm(self.w2(items), x.unsqueeze(2)).squeeze(2) + self.b2(items).squeeze(2)

    def sparse_parameters(self):
        return [self.items.weight, self.users.weight, self.w2.weight, self.b2.weight]

    def dense_parameters(self):
        return list(self.conv_v.parameters()) + list(self.conv_h.parameters()) + \
            list(self.fc1.parameters())


def main():
    args = common.parse_args(__doc__, epochs=30)
    data = common.load_data(args.data)
    n, pad = data.num_items, data.num_items
    model = Caser(data.num_users, n)
    sparse_opt = torch.optim.SparseAdam(model.sparse_parameters(), lr=LR)
    dense_opt = torch.optim.Adam(model.dense_parameters(), lr=LR, weight_decay=DECAY)
    train = common.user_items(data, ("train",))
    seen = common.seen_matrix(data, ("train",))
    # Windows as (user, start): every full window; one padded window when T < m < L + T.
    counts = train.counts()
    full = np.maximum(counts - L - T + 1, 0)
    per_user = np.where(counts >= L + T, full, (counts > T).astype(np.int64))
    win_user = np.repeat(np.arange(data.num_users), per_user)
    first = np.where(counts >= L + T, 0, counts - L - T)
    win_start = np.repeat(first, per_user) + \
        np.arange(per_user.sum()) - np.repeat(np.cumsum(per_user) - per_user, per_user)
    padded_items = np.append(train.cols, pad)  # index -1 -> pad

    def windows(idx):
        u = win_user[idx]
        at = train.indptr[u][:, None] + win_start[idx][:, None] + np.arange(L + T)[None, :]
        at = np.where(win_start[idx][:, None] + np.arange(L + T)[None, :] < 0, -1, at)
        w = torch.from_numpy(padded_items[at])
        return torch.from_numpy(u), w[:, :L], w[:, L:]

    def epoch(_):
        model.train()
        total = 0.0
        parts = common.batches(len(win_user), BATCH)
        for idx in parts:
            u, seq, targets = windows(idx.numpy())
            negs = common.sample_negatives(u, seen, n, NEG)
            x = model.encode(u, seq)
            pos, neg = model.logits(x, targets), model.logits(x, negs)
            loss = (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos)) +
                    F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            total += loss.item()
        return len(win_user), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    model.eval()
    history = common.user_items(data, ("train", "valid"))

    def score(users):
        x = model.encode(users, common.last_items(history, users.numpy(), L, pad))
        return x @ model.w2.weight.t() + model.b2.weight.view(1, -1)

    metrics, seconds = common.evaluate_ranking(score, data)
    common.finish(args, "caser", data, log, metrics, seconds, batch_size=BATCH,
                  notes="tables nn.Embedding(sparse=True) + SparseAdam (no L2); convs/fc Adam")


if __name__ == "__main__":
    main()
