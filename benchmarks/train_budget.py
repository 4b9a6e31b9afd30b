"""Benchmark: test accuracy of derived and reference networks trained for the same wall time.

Every case is one `keras-darts train ... --budget-seconds B` run (a fresh process: the
command users run), for a network (a derived genotype or a reference network), a training
recipe (flags over a preset) and a seed. The `keras-tutorial` network is the issue's yardstick
outside the library: the Keras tutorial CNN (`plain-cnn`) trained the Keras way (Adam,
no augmentation, batch 64) on the same images for the same seconds.

Results go to --out after every case (one record per case, with the learning curve); run again
with the same --out, finished cases are skipped.

Usage:
    python benchmarks/train_budget.py --out benchmarks/results/train_budget_nb201_2cpu.json
    python benchmarks/train_budget.py --budget 60 --recipes base lr0.1 --seeds 0 1 2
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The demo's derived cells: Single-DARTS at `nb201-small`, search seeds 0, 1, 2
# (benchmarks/results/search_quality_nb201_3seeds_2cpu.json).
NETWORKS = {
    "derived-s0": "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                  "nor_conv_3x3~1|nor_conv_3x3~2|",
    "derived-s1": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|"
                  "nor_conv_3x3~2|",
    "derived-s2": None,  # filled from the search-quality results at start
    # The cell derived by the search with the case's seed (derived-s<seed>).
    "derived": None,
    # The DARTS-space cells: DARTS (first order) at the `small` search preset, seeds 0, 1, 2
    # (benchmarks/results/search_quality_darts_3seeds_2cpu.json); trained with --preset small.
    "darts-derived-s0": None,
    "darts-derived-s1": None,
    "darts-derived-s2": None,
    "darts-derived": None,
    "plain-cnn": "plain-cnn",
    "resnet20": "resnet20",
    "keras-tutorial": "keras-tutorial",
}
# Training recipes: flags over the `nb201-small` preset.
RECIPES = {
    "base": {},
    "lr0.1": {"learning_rate": 0.1},
    "lr0.2": {"learning_rate": 0.2},
    "bs128-lr0.2": {"batch_size": 128, "learning_rate": 0.2},
    "lr0.1-wd5e-4": {"learning_rate": 0.1, "weight_decay": 5e-4},
    "noaug-lr0.1": {"augmentation": False, "learning_rate": 0.1},
    "noaug-lr0.2": {"augmentation": False, "learning_rate": 0.2},
    # Over the DARTS-space `small` preset (cutout 8, drop-path 0.1, auxiliary head 0.4, lr 0.05).
    "noreg": {"cutout": 0, "drop_path": 0.0, "auxiliary": False},
    "noreg-lr0.1": {"cutout": 0, "drop_path": 0.0, "auxiliary": False, "learning_rate": 0.1},
    "noreg-lr0.2": {"cutout": 0, "drop_path": 0.0, "auxiliary": False, "learning_rate": 0.2},
    "aux-lr0.1": {"cutout": 0, "drop_path": 0.0, "learning_rate": 0.1},
}


def _derived_from_results():
    path = os.path.join(HERE, "results", "search_quality_nb201_3seeds_2cpu.json")
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for c in cases:
        if c["method"] == "single-darts" and c["space"] == "nb201":
            NETWORKS[f"derived-s{c['seed']}"] = c["genotype"]
    path = os.path.join(HERE, "results", "search_quality_darts_3seeds_2cpu.json")
    with open(path, encoding="utf-8") as f:
        for c in json.load(f)["cases"]:
            if c["method"] == "darts" and c["space"] == "darts":
                NETWORKS[f"darts-derived-s{c['seed']}"] = c["genotype"]


def _spec(network, seed):
    """The genotype string or reference-network name a case trains."""
    return NETWORKS[f"{network}-s{seed}" if network in ("derived", "darts-derived") else network]


def _keras_tutorial(seed, budget):
    """The Keras tutorial CNN trained the Keras way for `budget` seconds (a child process)."""
    import keras

    from keras_darts.data.datasets import load_arrays
    from keras_darts.networks import build_reference_network

    keras.utils.set_random_seed(seed)
    (x, y), (xt, yt), info = load_arrays("embedded")
    x, xt = x.astype("float32") / 255.0, xt.astype("float32") / 255.0
    model = build_reference_network("plain-cnn", info.num_classes, info.image_shape)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if time.time() - start > budget:
                self.model.stop_training = True

    start = time.time()
    history = model.fit(x, y, batch_size=64, epochs=10_000, verbose=0, callbacks=[Stop()],
                        validation_data=(xt, yt))
    wall = time.time() - start
    loss, acc = model.evaluate(xt, yt, verbose=0)
    print(json.dumps({"test_accuracy": float(acc), "wall_s": wall,
                      "epochs": len(history.history["loss"]),
                      "history": {k: [float(v) for v in vs]
                                  for k, vs in history.history.items()}}))


def run_case(network, recipe, seed, budget, args):
    if network == "keras-tutorial":
        out = subprocess.run([sys.executable, __file__, "--keras-tutorial-child", str(seed),
                              str(budget)], capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            raise RuntimeError(out.stderr[-2000:])
        summary = json.loads(out.stdout.strip().splitlines()[-1])
        summary.update(params_m=0.0348, macs_m=2.44)
    else:
        run_dir = os.path.join(args.work, f"{network}-{recipe}-s{seed}-b{budget:g}")
        spec = _spec(network, seed)
        genotype = spec.startswith(("|", "Genotype("))
        which = ["--genotype", spec] if genotype else ["--network", spec]
        flags = [(f"--{k.replace('_', '-')}" if v is True else f"--no-{k.replace('_', '-')}")
                 if isinstance(v, bool) else f"--{k.replace('_', '-')}={v}"
                 for k, v in RECIPES[recipe].items()]
        cmd = [os.path.join(os.path.dirname(sys.executable), "keras-darts"), "train",
               "--preset", args.preset, *which, *flags, "--seed", str(seed),
               "--budget-seconds", str(budget), "--out", run_dir, "--verbose", "0"]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            raise RuntimeError(f"{' '.join(cmd)}\n{out.stderr[-2000:]}")
        with open(os.path.join(run_dir, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
    history = summary["history"]
    return {"network": network, "genotype": _spec(network, seed), "recipe": recipe,
            "overrides": RECIPES.get(recipe, {}) if network != "keras-tutorial" else
            "adam, no augmentation", "seed": seed, "budget_s": budget,
            "test_accuracy": round(float(summary["test_accuracy"]), 4),
            "epochs": summary["epochs"], "wall_s": round(float(summary["wall_s"]), 1),
            "median_step_s": summary.get("median_step_s"),
            "first_step_s": summary.get("first_step_s"),
            "params_m": summary["params_m"], "macs_m": summary["macs_m"],
            # (With an auxiliary head the logits' accuracy is `logits_accuracy`.)
            "val_accuracy": [round(float(v), 4) for v in history.get(
                "val_accuracy", history.get("val_logits_accuracy", []))],
            "train_accuracy": [round(float(v), 4) for v in history.get(
                "accuracy", history.get("logits_accuracy", []))]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["derived-s0", "plain-cnn"],
                        choices=sorted(NETWORKS))
    parser.add_argument("--recipes", nargs="+", default=["base"], choices=sorted(RECIPES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[60.0])
    parser.add_argument("--preset", default="nb201-small")
    parser.add_argument("--out", help="JSON results file (resumable)")
    parser.add_argument("--work", default=os.path.join(HERE, "work", "train_budget"))
    parser.add_argument("--keras-tutorial-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.keras_tutorial_child:
        _keras_tutorial(int(args.keras_tutorial_child[0]), float(args.keras_tutorial_child[1]))
        return 0
    _derived_from_results()
    doc = {"benchmark": "train_budget", "cases": [],
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
           "preset": args.preset}
    if args.out and os.path.isfile(args.out):
        with open(args.out, encoding="utf-8") as f:
            doc = json.load(f)
    done = {(c["network"], c["recipe"], c["seed"], c["budget_s"]) for c in doc["cases"]}
    for budget in args.budgets:
        for recipe in args.recipes:
            for seed in args.seeds:
                for network in args.networks:
                    r = "keras" if network == "keras-tutorial" else recipe
                    if (network, r, seed, budget) in done:
                        continue
                    record = run_case(network, r, seed, budget, args)
                    doc["cases"].append(record)
                    done.add((network, r, seed, budget))
                    print(json.dumps({k: record[k] for k in
                                      ("network", "recipe", "seed", "budget_s", "epochs",
                                       "test_accuracy", "wall_s", "median_step_s")}),
                          flush=True)
                    if args.out:
                        tmp = args.out + ".tmp"
                        with open(tmp, "w", encoding="utf-8") as f:
                            json.dump(doc, f, indent=1)
                        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
