"""NeuMF in PyTorch: the peer of recgrad's `neumf` (recsys/models/neumf.h; He et al., WWW 2017).

GMF φ_g = p_u^G ⊙ q_i^G (f = 8); MLP φ_m = ReLU tower [p_u^M; q_i^M] 64 -> 32 -> 16 -> 8;
ŷ = hᵀ[φ_g; φ_m] + b, binary cross-entropy on each training interaction (label 1) and 4 uniform
negatives the user never had (label 0); embeddings N(0, 0.01²), Linear layers PyTorch's default;
Adam lr 1e-3; batch 255 rows = 51 positives with their negatives (recgrad counts rows as the NCF
code does, and so does this peer's examples/s).
recgrad's four embedding tables get row-sparse gradients and a lazy Adam, its dense layers a
dense Adam; here nn.Embedding(sparse=True) + SparseAdam, and Adam for the layers.
"""
import torch
import torch.nn.functional as F

import common

FACTORS, LAYERS, NEGATIVES, LR, BATCH_ROWS = 8, [64, 32, 16, 8], 4, 1e-3, 256


class NeuMF(torch.nn.Module):
    def __init__(self, num_users, num_items):
        super().__init__()
        e = LAYERS[0] // 2
        self.gmf_user = torch.nn.Embedding(num_users, FACTORS, sparse=True)
        self.gmf_item = torch.nn.Embedding(num_items, FACTORS, sparse=True)
        self.mlp_user = torch.nn.Embedding(num_users, e, sparse=True)
        self.mlp_item = torch.nn.Embedding(num_items, e, sparse=True)
        for t in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            torch.nn.init.normal_(t.weight, 0.0, 0.01)
        tower = []
        for a, b in zip(LAYERS[:-1], LAYERS[1:]):
            tower += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        self.mlp = torch.nn.Sequential(*tower)
        self.output = torch.nn.Linear(2 * FACTORS, 1)

    def forward(self, u, i):
        g = self.gmf_user(u) * self.gmf_item(i)
        m = self.mlp(torch.cat([self.mlp_user(u), self.mlp_item(i)], 1))
        return self.output(torch.cat([g, m], 1)).view(-1)

    def sparse_parameters(self):
        return [t.weight for t in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item)]

    def dense_parameters(self):
        return list(self.mlp.parameters()) + list(self.output.parameters())


def main():
    args = common.parse_args(__doc__, epochs=20)
    data = common.load_data(args.data)
    model = NeuMF(data.num_users, data.num_items)
    sparse_opt = torch.optim.SparseAdam(model.sparse_parameters(), lr=LR)
    dense_opt = torch.optim.Adam(model.dense_parameters(), lr=LR)
    seen = common.seen_matrix(data, ("train",))
    train_u = torch.from_numpy(data.train.users)
    train_i = torch.from_numpy(data.train.items)
    positives = max(1, BATCH_ROWS // (1 + NEGATIVES))
    group = 1 + NEGATIVES
    labels_full = torch.zeros(positives, group)
    labels_full[:, 0] = 1.0

    def epoch(_):
        # Every positive's 4 negatives for the epoch at once, then rows grouped per positive as
        # recgrad's PointwiseLoader lays them out: [pos, neg1..neg4, pos, ...].
        negs = common.sample_negatives(train_u, seen, data.num_items, NEGATIVES)
        model.train()
        total, rows = 0.0, 0
        parts = common.batches(len(train_u), positives)
        for idx in parts:
            b = len(idx)
            u = train_u[idx].view(-1, 1).expand(b, group).reshape(-1)
            i = torch.cat([train_i[idx].view(-1, 1), negs[idx]], 1).view(-1)
            loss = F.binary_cross_entropy_with_logits(model(u, i), labels_full[:b].reshape(-1))
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            total += loss.item()
            rows += b * group
        return rows, total / len(parts)

    log = common.train_epochs(args.epochs, epoch)
    model.eval()
    all_items = torch.arange(data.num_items)

    def score(users):
        # Every (user, item) pair through both towers, a few users at a time to bound memory.
        out = []
        for s in range(0, len(users), 32):
            u = users[s:s + 32]
            uu = u.view(-1, 1).expand(-1, data.num_items).reshape(-1)
            ii = all_items.repeat(len(u))
            out.append(model(uu, ii).view(len(u), data.num_items))
        return torch.cat(out)

    metrics, seconds = common.evaluate_ranking(score, data)
    common.finish(args, "neumf", data, log, metrics, seconds, batch_size=positives * group,
                  notes="embeddings nn.Embedding(sparse=True) + SparseAdam; layers Adam")


if __name__ == "__main__":
    main()
