"""Shared pieces of the PyTorch peers of recgrad's models (benchmarks/torch/<model>.py).

Each peer trains one model on the split that `recgrad export` wrote (train/valid/test TSV with
recgrad's dense ids, and meta.json), with the architecture, loss, optimizer, batch size and
epochs of recgrad's defaults, then prints one JSON object (and writes it to --out):

  {"framework": "pytorch", "model": ..., "threads": T, "epochs": E,
   "epochs_log": [{"epoch": 1, "seconds": ..., "examples": ..., "loss": ...}, ...],
   "fit_seconds": ..., "eval_seconds": ..., "metrics": {"NDCG@10": ..., ...},
   "peak_rss_mib": ..., "train_rows": ..., "notes": ...}

the same keys `recgrad train --metrics-json` writes, so benchmarks/e2e_report.cc reads both
alike. Run with Debian's interpreter, /usr/bin/python3 (python3-torch, python3-numpy).

Evaluation follows recsys/metrics.h: full ranking of every item except the user's train and
valid items (masked), over the users with at least one test item; a relevant item ties BELOW
every non-relevant item with an equal score (the pessimistic rule, so a constant scorer gets the
worst metrics). Rating models report RMSE/MAE over the test rows instead.
"""

import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch


# ---- arguments and setup ----------------------------------------------------------------------

def parse_args(description, epochs):
    """The flags every peer takes; `epochs` is the model's default (recgrad's)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, help="directory written by `recgrad export`")
    p.add_argument("--epochs", type=int, default=epochs, help="training epochs")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="", help="also write the JSON result here")
    args = p.parse_args()
    if args.epochs < 0:
        p.error("--epochs must be >= 0, got %d" % args.epochs)
    if args.threads < 1:
        p.error("--threads must be >= 1, got %d" % args.threads)
    torch.set_num_threads(args.threads)
    # The recgrad CLI flushes denormals to zero (weights and Adam moments that decay toward 0
    # otherwise run on microcode assists); both sides compute under the same setting.
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    return args


# ---- data -------------------------------------------------------------------------------------

class Part:
    """One exported part: parallel columns in the file's row order (by user, then time)."""

    def __init__(self, users, items, ratings):
        self.users = users      # np.int64 [n]
        self.items = items      # np.int64 [n]
        self.ratings = ratings  # np.float32 [n], or None for implicit data

    def __len__(self):
        return len(self.users)


class Data:
    def __init__(self, meta, train, valid, test):
        self.meta = meta
        self.num_users = int(meta["num_users"])
        self.num_items = int(meta["num_items"])
        self.has_ratings = bool(meta["has_ratings"])
        self.train, self.valid, self.test = train, valid, test


def _read_part(path, columns, num_users, num_items):
    with open(path, "rb") as f:
        text = f.read()
    # np.fromstring with a whitespace separator parses tabs and newlines alike, ~10x faster than
    # np.loadtxt on a million rows.
    values = np.fromstring(text, dtype=np.float64, sep=" ") if text.strip() else np.zeros(0)
    if values.size % columns:
        raise SystemExit("%s: %d values is not a whole number of %d-column rows"
                         % (path, values.size, columns))
    values = values.reshape(-1, columns)
    users = values[:, 0].astype(np.int64)
    items = values[:, 1].astype(np.int64)
    if len(users) and (users.min() < 0 or users.max() >= num_users or
                       items.min() < 0 or items.max() >= num_items):
        raise SystemExit("%s: ids outside %d users x %d items" % (path, num_users, num_items))
    ratings = values[:, 2].astype(np.float32) if columns == 3 else None
    return Part(users, items, ratings)


def load_data(directory):
    """The parts and meta.json of a `recgrad export` directory."""
    meta_path = os.path.join(directory, "meta.json")
    if not os.path.exists(meta_path):
        raise SystemExit("%s: no meta.json (write the directory with `recgrad export`)" % directory)
    with open(meta_path) as f:
        meta = json.load(f)
    columns = 3 if meta["has_ratings"] else 2
    parts = [_read_part(os.path.join(directory, name + ".tsv"), columns, meta["num_users"],
                        meta["num_items"]) for name in ("train", "valid", "test")]
    return Data(meta, *parts)


class Csr:
    """Per-user (or per-item) lists in compressed rows, keeping the parts' row order."""

    def __init__(self, rows, cols, num_rows, values=None):
        order = np.argsort(rows, kind="stable")
        self.cols = cols[order]
        self.values = values[order] if values is not None else None
        counts = np.bincount(rows, minlength=num_rows)
        self.indptr = np.zeros(num_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        self.num_rows = num_rows

    def counts(self):
        return np.diff(self.indptr)

    def gather(self, rows):
        """(row position in `rows`, column, value) of every entry of the given rows."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        owner = np.repeat(np.arange(len(rows)), lengths)
        # Entry k of row r sits at starts[r] + k: one arange shifted per row, no Python loop.
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        at = np.repeat(starts, lengths) + offsets
        return owner, self.cols[at], (self.values[at] if self.values is not None else None)

    def dense(self, rows, num_cols):
        """[len(rows), num_cols] float32: 1 (or the stored value) at each entry."""
        owner, cols, vals = self.gather(np.asarray(rows, dtype=np.int64))
        out = torch.zeros(len(rows), num_cols)
        v = torch.ones(len(owner)) if vals is None else torch.from_numpy(vals.astype(np.float32))
        out[torch.from_numpy(owner), torch.from_numpy(cols)] = v
        return out


def last_items(csr, rows, length, pad):
    """[len(rows), length] LongTensor: each row's last `length` entries in order, left-padded
    with `pad` (recsys/batches.h's last_items)."""
    rows = np.asarray(rows, dtype=np.int64)
    ends = csr.indptr[rows + 1]
    at = ends[:, None] - length + np.arange(length)[None, :]
    valid = at >= csr.indptr[rows][:, None]
    out = np.where(valid, csr.cols[np.clip(at, 0, max(len(csr.cols) - 1, 0))], pad)
    return torch.from_numpy(out.astype(np.int64))


def training_sequences(csr, max_len, pad):
    """(users, inputs, targets) of recsys/batches.h's SequenceLoader: every user with >= 2
    items; inputs [U', max_len] the items before each target, targets the next items, both
    left-padded with `pad` (a target is `pad` where its input is)."""
    users = np.nonzero(csr.counts() >= 2)[0]
    seq = last_items(csr, users, max_len + 1, pad)
    inputs, targets = seq[:, :-1].clone(), seq[:, 1:].clone()
    targets[inputs == pad] = pad
    return users, inputs, targets


def user_items(data, parts):
    """Csr of each user's items over the named parts, in order (train then valid: a history)."""
    users = np.concatenate([getattr(data, p).users for p in parts])
    items = np.concatenate([getattr(data, p).items for p in parts])
    return Csr(users, items, data.num_users)


def seen_matrix(data, parts):
    """[num_users, num_items] bool: True where the user has the item in one of `parts`."""
    seen = torch.zeros(data.num_users, data.num_items, dtype=torch.bool)
    for p in parts:
        part = getattr(data, p)
        seen[torch.from_numpy(part.users), torch.from_numpy(part.items)] = True
    return seen


def interaction_matrix(data, parts):
    """(X sparse COO, X dense) [num_users, num_items] of 0/1 over the named parts (a repeated
    pair counts once)."""
    users = np.concatenate([getattr(data, p).users for p in parts])
    items = np.concatenate([getattr(data, p).items for p in parts])
    dense = torch.zeros(data.num_users, data.num_items)
    dense[torch.from_numpy(users), torch.from_numpy(items)] = 1.0
    return dense.to_sparse(), dense


def gram(data):
    """XᵀX [num_items, num_items] of the binary training matrix, as a sparse x dense product."""
    sparse, dense = interaction_matrix(data, ("train",))
    return torch.sparse.mm(sparse.t().coalesce(), dense)


def sample_negatives(users, seen, num_items, per_user=1):
    """Uniform items the users never had in `seen`: [len(users), per_user] (rejection rounds over
    the whole batch at once; a user owning a few % of the items needs two or three)."""
    users = users.reshape(-1, 1).expand(-1, per_user)
    negs = torch.randint(num_items, users.shape)
    bad = seen[users, negs]
    while bool(bad.any()):
        negs[bad] = torch.randint(num_items, (int(bad.sum()),))
        bad = seen[users, negs]
    return negs


# ---- training ---------------------------------------------------------------------------------

WINDOWS_PER_EPOCH = 8  # as recgrad's TrainerOptions::windows_per_epoch


class TimedBatches(list):
    """An epoch's batches that time themselves while iterated, in WINDOWS_PER_EPOCH runs of
    consecutive batches (recgrad's trainer times its windows the same way): window w ends after
    batch floor((w + 1) * n / windows) - 1. Each window is (batches, rows, seconds), rows being
    the batches' lengths summed; train_epochs turns rows into examples."""

    def __init__(self, parts, rows):
        super().__init__(parts)
        self.rows = rows
        self.windows = []

    def __iter__(self):
        n = len(self)
        windows = max(1, min(WINDOWS_PER_EPOCH, n))
        self.windows = []
        start, first, rows = time.perf_counter(), 0, 0
        for b, part in enumerate(list.__iter__(self)):
            yield part  # the caller's training step runs here
            rows += len(part)
            if (b + 1) * windows // n != b * windows // n:
                now = time.perf_counter()
                self.windows.append((b + 1 - first, rows, now - start))
                start, first, rows = now, b + 1, 0


_epoch_batches = []  # the TimedBatches made during the running epoch


def train_epochs(epochs, run_epoch):
    """Runs run_epoch(epoch) -> (examples, mean loss) for epochs 1..E, timing each (batch
    building and negative sampling included, as recgrad's trainer times start_epoch + batches)
    and, when the epoch iterated one TimedBatches, each of its windows."""
    log = []
    for epoch in range(1, epochs + 1):
        del _epoch_batches[:]
        start = time.perf_counter()
        examples, loss = run_epoch(epoch)
        seconds = time.perf_counter() - start
        if not math.isfinite(loss):
            raise SystemExit("the loss is %r at epoch %d" % (loss, epoch))
        entry = {"epoch": epoch, "seconds": seconds, "examples": int(examples),
                 "loss": float(loss)}
        if len(_epoch_batches) == 1 and _epoch_batches[0].windows:
            # A window's examples: its rows in the epoch's examples per row (NeuMF counts each
            # positive with its negatives).
            parts = _epoch_batches[0]
            per_row = examples / max(parts.rows, 1)
            entry["windows"] = [{"batches": count, "examples": int(round(rows * per_row)),
                                 "seconds": secs} for count, rows, secs in parts.windows]
        log.append(entry)
        print("epoch %d: loss %.5f, %d examples in %.2f s (%.0f/s)"
              % (epoch, loss, examples, seconds, examples / max(seconds, 1e-9)), file=sys.stderr)
    return log


def batches(n, batch_size, generator=None):
    """A random permutation of range(n) cut into batches (the last one may be smaller), timed
    in windows while iterated (TimedBatches)."""
    order = torch.randperm(n, generator=generator)
    parts = TimedBatches([order[s:s + batch_size] for s in range(0, n, batch_size)], n)
    _epoch_batches.append(parts)
    return parts


# ---- evaluation -------------------------------------------------------------------------------

def _ranks_by_sort(scores, relevant, k):
    """(hit, rank) of the first k positions [B, k] by two stable sorts: the slow general path,
    right under any number of ties."""
    # Stable-sort non-relevant before relevant, then stable-sort by score: equal scores keep
    # non-relevant items first.
    k = min(k, scores.shape[1])
    first = torch.argsort(relevant.to(torch.int8), dim=1, stable=True)
    second = torch.sort(scores.gather(1, first), dim=1, descending=True, stable=True)
    top = first.gather(1, second.indices[:, :k])
    hit = relevant.gather(1, top) & torch.isfinite(second.values[:, :k])
    return hit, torch.arange(k).expand_as(hit)


def _hits(scores, relevant, k):
    """(hit [B, M] bool, rank [B, M]) of the relevant items ranked < k under the pessimistic tie
    rule (a relevant item ranks below every non-relevant one with an equal score). Only items
    scoring at least the k-th best score can rank < k, so the top M = k + 16 suffice whenever
    they hold every item tied with the k-th (checked per row; rows with more ties go through the
    full sort)."""
    n = scores.shape[1]
    m = min(n, k + 16)
    vals, idx = torch.topk(scores, m, dim=1)
    rel = relevant.gather(1, idx)
    cand = torch.isfinite(vals)
    # As recsys/metrics.cc: relevant items in score order (ties in any order) take successive
    # ranks, each pushed down by every non-relevant candidate scoring >= it:
    # rank(p) = #{non-relevant candidates q: v_q >= v_p} + #{relevant q before p in the top-M}
    ge = vals.unsqueeze(1) >= vals.unsqueeze(2)  # [B, p, q]: v_q >= v_p
    before = torch.ones(m, m, dtype=torch.bool).tril(-1)  # [p, q]: q < p
    rank = (ge & (~rel & cand).unsqueeze(1)).sum(2) + (before & rel.unsqueeze(1)).sum(2)
    hit = rel & cand & (rank < k)
    kth = vals[:, min(k, m) - 1]
    complete = (vals[:, -1] < kth) | torch.tensor(m == n) | ~torch.isfinite(kth)
    if not bool(complete.all()):
        rows = torch.nonzero(~complete).view(-1)
        slow_hit, slow_rank = _ranks_by_sort(scores[rows], relevant[rows], k)
        hit = hit.clone()
        rank = rank.clone()
        hit[rows] = False
        hit[rows, :slow_hit.shape[1]] = slow_hit
        rank[rows, :slow_hit.shape[1]] = slow_rank
    return hit, rank


def evaluate_ranking(score, data, k=10, batch_size=256):
    """Full-ranking metrics @k over the test users; score(users LongTensor [B]) -> [B, num_items]
    (called under no_grad, in eval mode by the caller). Returns (metrics, seconds)."""
    start = time.perf_counter()
    history = user_items(data, ("train", "valid"))
    test = user_items(data, ("test",))
    users = np.nonzero(test.counts() > 0)[0]
    ideal = torch.cumsum(1.0 / torch.log2(torch.arange(k, dtype=torch.float64) + 2.0), 0)
    ndcg = hr = recall = precision = 0.0
    with torch.no_grad():
        for s in range(0, len(users), batch_size):
            rows = users[s:s + batch_size]
            scores = score(torch.from_numpy(rows)).float().clone()
            owner, cols, _ = history.gather(rows)
            scores[torch.from_numpy(owner), torch.from_numpy(cols)] = -math.inf
            relevant = test.dense(rows, data.num_items) > 0
            hit, rank = _hits(scores, relevant, k)
            num_relevant = relevant.sum(1)
            dcg = (hit.double() / torch.log2(rank.double() + 2.0)).sum(1)
            ndcg += float((dcg / ideal[(num_relevant.clamp(max=k) - 1)]).sum())
            hits = hit.sum(1).double()
            hr += float((hits > 0).double().sum())
            recall += float((hits / num_relevant.double()).sum())
            precision += float(hits.sum()) / k
    n = max(len(users), 1)
    metrics = {"NDCG@%d" % k: ndcg / n, "HR@%d" % k: hr / n, "Recall@%d" % k: recall / n,
               "Precision@%d" % k: precision / n}
    return metrics, time.perf_counter() - start


def evaluate_ratings(predict, data):
    """RMSE and MAE of predict(users, items LongTensors) -> [n] over the test rows."""
    start = time.perf_counter()
    with torch.no_grad():
        pred = predict(torch.from_numpy(data.test.users), torch.from_numpy(data.test.items))
    err = pred.double() - torch.from_numpy(data.test.ratings).double()
    metrics = {"RMSE": float(err.pow(2).mean().sqrt()), "MAE": float(err.abs().mean())}
    return metrics, time.perf_counter() - start


# ---- the result -------------------------------------------------------------------------------

def finish(args, model, data, log, metrics, eval_seconds, fit_seconds=0.0, batch_size=0,
           notes=""):
    """Prints the result JSON (and writes it to --out)."""
    result = {
        "framework": "pytorch",
        "model": model,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "epochs": args.epochs,
        "batch_size": batch_size,
        "train_rows": len(data.train),
        "epochs_log": log,
        "fit_seconds": fit_seconds,
        "eval_seconds": eval_seconds,
        "metrics": metrics,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "notes": notes,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)
    return result
