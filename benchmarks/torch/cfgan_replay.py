"""Replays a CFGAN run that benchmarks/cfgan_trace.cc recorded, in PyTorch, and reports how far
PyTorch's losses and final weights are from recgrad's.

The replay starts from recgrad's initial weights and, step by step, trains on recgrad's batches
with recgrad's PM and ZR samples, so nothing random is left: the two runs differ only by
floating-point rounding, and a difference in the math (a loss term, a mask, a weight decay, an
optimizer detail) shows at the step where it first acts. The PyTorch side is the loop of
benchmarks/torch/cfgan_authors.py: D's loss BCE(D(c ⊕ c), 1) + BCE(D(x ⊕ c), 0) with
x = G(c) ⊙ PM mask, G's loss BCE(D(x ⊕ c), 1) + α · batch mean of Σ_ZR G(c)², each network
with its own Adam and L2 as Adam's weight decay (the authors' reg · Σw²/2 in the loss has the
same gradient).

  /usr/bin/python3 benchmarks/torch/cfgan_replay.py --data EXPORT_DIR --trace TRACE_DIR

prints, per epoch, the largest relative difference between the two sides' step losses, then
the largest difference between their final weights; exits 1 when a loss differs by more than
--tolerance (relative).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import common


def mlp(params, prefix):
    """recgrad's MLP (sigmoid between layers) with its weights: Linear's [out, in] layout is
    PyTorch's."""
    layers = []
    names = sorted({n.split(".")[1] for n in params if n.startswith(prefix + ".")}, key=int)
    for k, layer in enumerate(names):
        weight = params["%s.%s.weight" % (prefix, layer)]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(params["%s.%s.bias" % (prefix, layer)])
        layers.append(linear)
        if k + 1 < len(names):
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def read_params(path, meta):
    flat = np.fromfile(path, dtype=np.float32)
    params, at = {}, 0
    for p in meta["parameters"]:
        n = int(np.prod(p["shape"]))
        params[p["name"]] = torch.from_numpy(flat[at:at + n].reshape(p["shape"]).copy())
        at += n
    if at != flat.size:
        sys.exit("cfgan_replay: %s holds %d floats, meta.json's parameters %d"
                 % (path, flat.size, at))
    return params


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="the `recgrad export` directory traced")
    p.add_argument("--trace", required=True, help="directory written by cfgan_trace")
    p.add_argument("--tolerance", type=float, default=1e-4,
                   help="largest relative loss difference accepted (default 1e-4)")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # as cfgan_trace

    meta = json.load(open(os.path.join(args.trace, "meta.json")))
    data = common.load_data(args.data)
    _, by_user = common.interaction_matrix(data, ("train", "valid"))
    rows = by_user.t().contiguous() if meta["rows"] == "item" else by_user
    n, width = meta["num_rows"], meta["row_length"]
    if tuple(rows.shape) != (n, width):
        sys.exit("cfgan_replay: the export's rows are %s, the trace's [%d, %d]"
                 % (list(rows.shape), n, width))

    params = read_params(os.path.join(args.trace, "params.init.bin"), meta)
    g, d = mlp(params, "generator"), mlp(params, "discriminator")
    g_opt = torch.optim.Adam(g.parameters(), lr=meta["g_lr"], weight_decay=meta["g_weight_decay"])
    d_opt = torch.optim.Adam(d.parameters(), lr=meta["d_lr"], weight_decay=meta["d_weight_decay"])

    def generate(c):
        out = g(c)
        return torch.sigmoid(out) if meta["sigmoid_output"] else out

    worst = 0.0
    for epoch in range(meta["epochs"]):
        prefix = os.path.join(args.trace, "epoch_%d" % epoch)
        masks = np.fromfile(prefix + ".masks.bin", dtype=np.uint8).reshape(2, n, width)
        pm = torch.from_numpy(masks[0].astype(np.float32))
        zr = torch.from_numpy(masks[1].astype(np.float32))
        epoch_worst, steps = 0.0, 0
        for line in open(prefix + ".steps.tsv"):
            network, recorded, batch = line.rstrip("\n").split("\t")
            b = torch.tensor([int(r) for r in batch.split()])
            c = rows[b]
            if network == "D":
                with torch.no_grad():
                    fake = generate(c) * pm[b]
                real_logit = d(torch.cat([c, c], 1)).view(-1)
                fake_logit = d(torch.cat([fake, c], 1)).view(-1)
                loss = (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                        + F.binary_cross_entropy_with_logits(fake_logit,
                                                             torch.zeros_like(fake_logit)))
                opt = d_opt
            else:
                out = generate(c)
                fake_logit = d(torch.cat([out * pm[b], c], 1)).view(-1)
                loss = (F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
                        + meta["alpha"] * ((out ** 2) * zr[b]).sum(1).mean())
                opt = g_opt
            g_opt.zero_grad()
            d_opt.zero_grad()
            loss.backward()
            opt.step()
            recorded = float(recorded)
            epoch_worst = max(epoch_worst, abs(loss.item() - recorded) / max(abs(recorded), 1e-12))
            steps += 1
        worst = max(worst, epoch_worst)
        print("epoch %d: %d steps, largest relative loss difference %.3g"
              % (epoch + 1, steps, epoch_worst), flush=True)

    final = read_params(os.path.join(args.trace, "params.final.bin"), meta)
    mine = dict(zip(("generator", "discriminator"), (g, d)))
    diff = scale = 0.0
    for name, theirs in final.items():
        net, layer, kind = name.split(".")
        linear = [m for m in mine[net] if isinstance(m, torch.nn.Linear)][int(layer)]
        ours = getattr(linear, kind).detach()
        diff = max(diff, float((ours - theirs).abs().max()))
        scale = max(scale, float((theirs - params[name]).abs().max()))
    print("final weights: largest difference %.3g (the largest change in training: %.3g)"
          % (diff, scale))
    if len(data.test.users):
        # Both final weight sets ranked by one evaluator: over many epochs rounding differences
        # grow (GAN training is chaotic), and how far apart the two figures end is the noise
        # floor of a single run's figure.
        for side, net in (("recgrad", mlp(final, "generator")), ("PyTorch replay", g)):
            with torch.no_grad():
                out = net(rows)
            scores = out.t() if meta["rows"] == "item" else out
            metrics, _ = common.evaluate_ranking(lambda users: scores[users], data, k=20)
            print("test with %s's final weights: P@20 %.4f, NDCG@20 %.4f"
                  % (side, metrics["Precision@20"], metrics["NDCG@20"]))
    if worst > args.tolerance:
        print("cfgan_replay: losses differ by up to %.3g, above --tolerance %g"
              % (worst, args.tolerance))
        sys.exit(1)
    print("cfgan_replay: recgrad and PyTorch agree step for step (tolerance %g)" % args.tolerance)


if __name__ == "__main__":
    main()
