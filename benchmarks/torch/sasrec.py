"""SASRec in PyTorch: the peer of recgrad's `sasrec` (recsys/models/sasrec.h, from the sasrec
branch; Kang & McAuley, ICDM 2018), with its default BCE loss.

x_l = E[s_l]·√d + P[max_len - L + l], dropout, padded slots zeroed; 2 pre-LN blocks of causal
self-attention (1 head, padded keys never attended) and a d -> d -> d ReLU feed-forward
(nn.TransformerEncoderLayer, norm_first, LayerNorm eps 1e-8), padded rows zeroed after each
block; h = LayerNorm(x); r_{l,i} = <h_l, E_i>. BCE per non-padded slot with one uniform negative
the user never had, summed and divided by the slots; d = 50, max_len 200, dropout 0.2, every
matrix Xavier-uniform and every bias 0; Adam lr 1e-3, β₂ 0.98, batch 128 sequences. The item
table takes dense gradients (it is also the output layer), as in recgrad.
"""
import math

import torch
import torch.nn.functional as F

import common

D, BLOCKS, HEADS, MAX_LEN, DROPOUT, LR, BETA2, BATCH = 50, 2, 1, 200, 0.2, 1e-3, 0.98, 128


class SasRec(torch.nn.Module):
    def __init__(self, num_items):
        super().__init__()
        self.num_items = num_items
        self.items = torch.nn.Embedding(num_items + 1, D, padding_idx=num_items)
        self.positions = torch.nn.Embedding(MAX_LEN, D)
        self.blocks = torch.nn.ModuleList([
            torch.nn.TransformerEncoderLayer(D, HEADS, D, DROPOUT, activation="relu",
                                             layer_norm_eps=1e-8, batch_first=True,
                                             norm_first=True) for _ in range(BLOCKS)])
        self.final_norm = torch.nn.LayerNorm(D, eps=1e-8)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                torch.nn.init.xavier_uniform_(p)
            elif name.endswith("bias"):
                torch.nn.init.zeros_(p)
        with torch.no_grad():
            self.items.weight[num_items].zero_()

    def encode(self, seqs):
        b, length = seqs.shape
        padded = seqs == self.num_items                                    # [B, L]
        keep = (~padded).unsqueeze(2).float()
        pos = self.positions.weight[MAX_LEN - length:]
        x = F.dropout(self.items(seqs) * math.sqrt(D) + pos, DROPOUT, self.training) * keep
        # Not allowed: later slots (causal) and padded keys - except a padded slot's own key,
        # so no row is fully masked (softmax of an all -inf row is NaN); those rows are zeroed.
        causal = torch.ones(length, length, dtype=torch.bool).triu(1)
        eye = torch.eye(length, dtype=torch.bool)
        mask = causal.unsqueeze(0) | (padded.unsqueeze(1) & ~eye.unsqueeze(0))
        mask = mask.repeat_interleave(HEADS, dim=0)
        for block in self.blocks:
            x = block(x, src_mask=mask) * keep
        return self.final_norm(x) * keep


def main():
    args = common.parse_args(__doc__, epochs=50)
    data = common.load_data(args.data)
    n, pad = data.num_items, data.num_items
    model = SasRec(n)
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, BETA2))
    train = common.user_items(data, ("train",))
    seen = common.seen_matrix(data, ("train",))
    users, inputs, targets = common.training_sequences(train, MAX_LEN, pad)
    users = torch.from_numpy(users)

    def epoch(_):
        model.train()
        total = 0.0
        parts = common.batches(len(users), BATCH)
        for idx in parts:
            tgt = targets[idx]
            slots = tgt != pad
            h = model.encode(inputs[idx])[slots]                            # [n, d]
            pos_items = tgt[slots]
            row_users = users[idx].view(-1, 1).expand_as(tgt)[slots]
            neg_items = common.sample_negatives(row_users, seen, n).view(-1)
            pos = (h * model.items(pos_items)).sum(1)
            neg = (h * model.items(neg_items)).sum(1)
            loss = (F.softplus(-pos) + F.softplus(neg)).sum() / len(pos)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return len(users), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    model.eval()
    history = common.user_items(data, ("train", "valid"))

    def score(u):
        h = model.encode(common.last_items(history, u.numpy(), MAX_LEN, pad))[:, -1]
        return h @ model.items.weight[:n].t()

    metrics, seconds = common.evaluate_ranking(score, data)
    common.finish(args, "sasrec", data, log, metrics, seconds, batch_size=BATCH,
                  notes="dense item table (as recgrad), Adam")


if __name__ == "__main__":
    main()
