"""Pop in PyTorch: the peer of recgrad's `pop` (recsys/models/pop.h): every user gets the items
ranked by their number of training interactions. Its "training" is the count (fit_seconds)."""
import time

import torch

import common


def main():
    args = common.parse_args(__doc__, epochs=0)
    data = common.load_data(args.data)
    start = time.perf_counter()
    counts = torch.bincount(torch.from_numpy(data.train.items), minlength=data.num_items).float()
    fit_seconds = time.perf_counter() - start
    metrics, seconds = common.evaluate_ranking(
        lambda u: counts.expand(len(u), -1), data)
    common.finish(args, "pop", data, [], metrics, seconds, fit_seconds=fit_seconds,
                  notes="torch.bincount")


if __name__ == "__main__":
    main()
