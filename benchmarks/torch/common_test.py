"""Self-check of common.py's ranking metric against a direct transcription of recsys/metrics.h
(relevant items in score order take successive ranks, each below every non-relevant candidate
with an equal or higher score; -inf is not a candidate), and of its sequence helpers.
Run: /usr/bin/python3 benchmarks/torch/common_test.py
"""
import math

import numpy as np
import torch

import common


def reference_dcg(scores, relevant, k):
    """DCG@k of one row, straight from the definition in recsys/metrics.h."""
    n = len(scores)
    rel = sorted((float(scores[j]) for j in range(n)
                  if relevant[j] and math.isfinite(scores[j])), reverse=True)
    dcg = 0.0
    for j, t in enumerate(rel):
        rank = j + sum(1 for i in range(n)
                       if math.isfinite(scores[i]) and not relevant[i] and scores[i] >= t)
        if rank < k:
            dcg += 1.0 / math.log2(rank + 2)
    return dcg


def test_hits_match_the_definition():
    torch.manual_seed(0)
    for trial in range(300):
        n = int(torch.randint(3, 60, ()))
        k = int(torch.randint(1, 12, ()))
        # Odd trials: few distinct integer scores, so ties are everywhere (the slow path).
        scores = torch.randint(0, 4, (5, n)).float() if trial % 2 else torch.randn(5, n)
        scores[torch.rand(5, n) < 0.2] = -math.inf
        relevant = torch.rand(5, n) < 0.2
        for hit, rank in (common._hits(scores, relevant, k),
                          common._ranks_by_sort(scores, relevant, k)):
            dcg = (hit.double() / torch.log2(rank.double() + 2)).sum(1)
            for b in range(5):
                want = reference_dcg(scores[b].tolist(), relevant[b].tolist(), k)
                assert abs(float(dcg[b]) - want) < 1e-9, (trial, b, float(dcg[b]), want)


def test_sequences_follow_the_loaders():
    # Users 0: [5, 6, 7]; 1: [8]; 2: [1, 2, 3, 4, 5, 6] with pad 9 and max_len 3.
    users = np.array([0, 0, 0, 1, 2, 2, 2, 2, 2, 2])
    items = np.array([5, 6, 7, 8, 1, 2, 3, 4, 5, 6])
    csr = common.Csr(users, items, 3)
    assert common.last_items(csr, [0, 1, 2], 3, 9).tolist() == [[5, 6, 7], [9, 9, 8], [4, 5, 6]]
    seq_users, inputs, targets = common.training_sequences(csr, 3, 9)
    assert seq_users.tolist() == [0, 2]  # a user needs two items
    assert inputs.tolist() == [[9, 5, 6], [3, 4, 5]]
    assert targets.tolist() == [[9, 6, 7], [4, 5, 6]]


def test_epochs_are_timed_in_windows():
    # 10 rows in batches of 2: 5 batches, in windows of 1 batch (fewer batches than windows).
    def epoch(_):
        seen = 0
        for idx in common.batches(10, 2):
            seen += len(idx)
        return 3 * seen, 0.5  # 3 examples per row, as NeuMF's positive with its negatives
    log = common.train_epochs(2, epoch)
    assert len(log) == 2
    for entry in log:
        windows = entry["windows"]
        assert [w["batches"] for w in windows] == [1, 1, 1, 1, 1], windows
        assert sum(w["examples"] for w in windows) == entry["examples"] == 30
        assert all(w["seconds"] >= 0 for w in windows)
        assert sum(w["seconds"] for w in windows) <= entry["seconds"]
    # 20 batches in 8 windows, each ending after batch floor((w + 1) * 20 / 8) - 1: 3, 2, 3, ...
    parts = common.batches(40, 2)
    for _ in parts:
        pass
    assert [w[0] for w in parts.windows] == [3, 2, 3, 2, 3, 2, 3, 2], parts.windows
    # An epoch that makes two batch lists (or none) reports no windows: whose would they be?
    def two_lists(_):
        for part in (common.batches(4, 2), common.batches(4, 2)):
            for _ in part:
                pass
        return 8, 0.1
    assert "windows" not in common.train_epochs(1, two_lists)[0]


if __name__ == "__main__":
    test_hits_match_the_definition()
    test_sequences_follow_the_loaders()
    test_epochs_are_timed_in_windows()
    print("common_test: ok")
