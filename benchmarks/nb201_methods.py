"""Benchmark: DARTS, Single-DARTS and SP-DARTS side by side in the NAS-Bench-201 space.

Same data (the embedded Fashion-MNIST subset, or another dataset), same supernet, same
epochs, batch size and seeds for the three methods; each keeps its own method settings:

* `darts`: bi-level, first order, softmax; alphas Adam with weight decay 1e-3.
* `single-darts`: single-level on the same batch, sigmoid initialised at 1/5; alphas Adam,
  no weight decay.
* `sp-darts`: bi-level first order; t_sp = 1.1e-3, t_sm = 10 t_sp; p = 0 for one warm-up
  epoch then linear 0 -> 1; constant weight learning rate (Table II); alphas no decay.

Weights: SGD momentum 0.9, weight decay 3e-4, cosine 0.05 -> 0.001 (SP-DARTS: constant
0.05). Alphas: Adam, `--arch-lr` (3e-3: a CPU budget of a few hundred steps needs a larger
rate than the papers' 3e-4 over ~20k steps).

Reports per method and seed: the derived arch string, its parameter-free op count
(`none`, `skip_connect`, `avg_pool_3x3`), the IES and discretized accuracy after every
epoch, the final supernet accuracy and the median seconds per search step. Prints one
JSON document (and writes it with --out).

Usage:
    python benchmarks/nb201_methods.py --epochs 10 --seeds 0 1 2 --out results.json
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3")
METHODS = {
    "darts": dict(method="darts", order=1, activation="softmax"),
    "single-darts": dict(method="single-darts"),
    "sp-darts": dict(method="sp-darts", order=1, t_sp=1.1e-3, p_low=0.0, p_up=1.0,
                     p_warmup_epochs=1, min_learning_rate=0.05),
}


def run(method, seed, args, workdir):
    """Runs one search; returns its figures."""
    from keras_darts.search import SearchConfig, run_search

    cfg = SearchConfig.from_preset(
        "nb201-small", **{**METHODS[method], "dataset": args.dataset, "epochs": args.epochs,
                          "channels": args.channels, "cells_per_stage": args.cells_per_stage,
                          "batch_size": args.batch_size, "max_train": args.max_train,
                          "arch_learning_rate": args.arch_lr, "seed": seed})
    result = run_search(cfg, os.path.join(workdir, f"{method}-{seed}"), verbose=0)
    g = result.genotype
    h = result.history
    return {
        "method": method, "seed": seed, "arch": g.to_arch_string(),
        "parameter_free_ops": g.count(PARAMETER_FREE),
        "ies": [round(v, 4) for v in h["ies"]],
        "discrete_accuracy": [round(v, 4) for v in h["discrete_accuracy"]],
        "supernet_val_accuracy": round(h["val_accuracy"][-1], 4),
        "median_step_s": round(result.summary["median_step_s"], 4),
        "first_step_s": round(result.summary["first_step_s"], 2),
        "steps_per_epoch": result.summary["steps_per_epoch"],
        "wall_s": round(result.summary["wall_s"], 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--dataset", default="fashion_mnist_subset")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells-per-stage", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-train", type=int)
    parser.add_argument("--arch-lr", type=float, default=3e-3)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as workdir:
        for seed in args.seeds:
            for method in args.methods:
                t = time.time()
                runs.append(run(method, seed, args, workdir))
                print(f"{method} seed {seed}: {runs[-1]['arch']} ({time.time() - t:.0f} s)",
                      file=sys.stderr)
    doc = {"benchmark": "nb201_methods", "machine": {"cpus": os.cpu_count(),
                                                     "python": platform.python_version()},
           "settings": vars(args), "runs": runs}
    text = json.dumps(doc, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
