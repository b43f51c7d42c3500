"""GRU4Rec in PyTorch: the peer of recgrad's `gru4rec` (recsys/models/gru4rec.h, from the seq
branch; Hidasi et al., ICLR 2016 / CIKM 2018), with its default full cross-entropy loss.

e_t = E[s_t] (100); h_t = GRU(e_t, h_{t-1}) (100, one layer); y_t = Wy·dropout(h_t, 0.25) + by
scores every item as s_{t+1}; cross-entropy over all items at every valid position of each
user's last 51 training items (inputs/targets of max_len 50), batch 64 sequences; E and Wy
Glorot-uniform, by 0; Adam lr 3e-3 (recgrad's defaults). Sequences run packed
(pack_padded_sequence), so padding neither enters the state nor the loss, as recgrad's
right-packed GRU.
recgrad's item table gets row-sparse gradients and a lazy Adam; here nn.Embedding(sparse=True)
+ SparseAdam, and Adam for the GRU, Wy and by.
"""
import math

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

import common

EMB, HIDDEN, DROPOUT, MAX_LEN, LR, BATCH = 100, 100, 0.25, 50, 3e-3, 64


def right_align(left, pad):
    """Left-padded [B, L] -> (right-padded [B, L], lengths [B])."""
    lengths = (left != pad).sum(1)
    L = left.shape[1]
    src = (torch.arange(L).view(1, -1) + (L - lengths).view(-1, 1)).clamp(max=L - 1)
    right = left.gather(1, src)
    right[torch.arange(L).view(1, -1) >= lengths.view(-1, 1)] = pad
    return right, lengths


class Gru4Rec(torch.nn.Module):
    def __init__(self, num_items):
        super().__init__()
        self.items = torch.nn.Embedding(num_items + 1, EMB, padding_idx=num_items, sparse=True)
        bound = math.sqrt(6.0 / (num_items + 1 + EMB))
        torch.nn.init.uniform_(self.items.weight, -bound, bound)
        with torch.no_grad():
            self.items.weight[num_items].zero_()
        self.gru = torch.nn.GRU(EMB, HIDDEN, batch_first=True)
        bound = math.sqrt(6.0 / (num_items + HIDDEN))
        self.wy = torch.nn.Parameter(torch.empty(num_items, HIDDEN).uniform_(-bound, bound))
        self.by = torch.nn.Parameter(torch.zeros(num_items))

    def run(self, right, lengths):
        packed = pack_padded_sequence(self.items(right), lengths, batch_first=True,
                                      enforce_sorted=False)
        return self.gru(packed)

    def dense_parameters(self):
        return list(self.gru.parameters()) + [self.wy, self.by]


def main():
    args = common.parse_args(__doc__, epochs=100)
    data = common.load_data(args.data)
    n, pad = data.num_items, data.num_items
    model = Gru4Rec(n)
    sparse_opt = torch.optim.SparseAdam([model.items.weight], lr=LR)
    dense_opt = torch.optim.Adam(model.dense_parameters(), lr=LR)
    train = common.user_items(data, ("train",))
    users, inputs, targets = common.training_sequences(train, MAX_LEN, pad)

    def epoch(_):
        model.train()
        total = 0.0
        parts = common.batches(len(users), BATCH)
        for idx in parts:
            right, lengths = right_align(inputs[idx], pad)
            right_targets, _ = right_align(targets[idx], pad)
            out, _ = model.run(right, lengths)
            # The packed outputs and the targets packed the same way line up row for row.
            tgt = pack_padded_sequence(right_targets, lengths, batch_first=True,
                                       enforce_sorted=False).data
            h = F.dropout(out.data, DROPOUT, training=True)
            loss = F.cross_entropy(torch.addmm(model.by, h, model.wy.t()), tgt)
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            total += loss.item()
        return len(users), total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    model.eval()
    history = common.user_items(data, ("train", "valid"))

    def score(u):
        right, lengths = right_align(common.last_items(history, u.numpy(), MAX_LEN, pad), pad)
        _, h_n = model.run(right, lengths.clamp(min=1))
        return torch.addmm(model.by, h_n[-1], model.wy.t())

    metrics, seconds = common.evaluate_ranking(score, data)
    common.finish(args, "gru4rec", data, log, metrics, seconds, batch_size=BATCH,
                  notes="item table nn.Embedding(sparse=True) + SparseAdam; GRU, Wy, by Adam")


if __name__ == "__main__":
    main()
