"""Benchmark: does a search beat random sampling? Searched cells against random cells, trained alike.

For every search space, method and seed: a search with the space's CPU preset (`nb201-small`
or `small`, plus the method's settings below), the derived cell trained stand-alone with the
space's training preset, and its percentile among `--random` cells drawn uniformly from the
same space (`keras_darts.baseline`) and trained with exactly the same `TrainConfig` (the same
training seeds for every network, so only the cell differs). With `--train-seeds 0 1 2` every
cell, searched and random, trains once per seed and is ranked by its mean accuracy: one run's
accuracy moves by 1-2 points with the training seed on the embedded data, as much as random
cells differ (`benchmarks/eval_noise.py`). Reported per case: the genotype, its stand-alone
test accuracy (mean over the training seeds, and each) and percentile, its parameter-free op
count, the search's IES at the end and its wall time. D-DARTS searches DARTS-family cells only (per-cell alphas); its NAS-Bench-201 cases
are listed as not applicable.

Resumable: every finished search, training and random cell lives in `--work`, and the JSON
(`--out`) is rewritten after each case and each random cell, so a run cut off goes on where it
stopped; cases and a space's random pool already in the JSON are kept (run with the same
settings, or a new `--out`).
Percentiles are computed against the random cells finished so far (`random_completed`),
an interrupted pool's included, and again when the pool is complete.

Usage:
    python benchmarks/search_quality.py --spaces nb201 --seeds 0 1 2 --random 30 \
        --train-seeds 0 1 2 --out benchmarks/results/search_quality_2cpu.json
"""

import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

#: per space: the search preset, the training preset, and per method (a name of this
#: benchmark: "darts-pd+darts" is DARTS-PD with a bi-level DARTS stage 1) its settings.
SPACES = {
    "nb201": ("nb201-small", "nb201-small", {
        "darts": dict(method="darts", order=1),
        "single-darts": dict(method="single-darts"),
        "sp-darts": dict(method="sp-darts", order=1),
        # SP-DARTS at ~8x the preset's search budget: all 5000 embedded images (2500 per
        # half) for 16 epochs, 1250 bi-level steps (the preset: 640 images, 8 epochs, 160).
        "sp-darts-long": dict(method="sp-darts", order=1, epochs=16, max_train=5000),
        # DARTS-PD as the preset sets it up (stage 1 by Single-DARTS in this space).
        "darts-pd": dict(method="darts-pd"),
        # Ablation: DARTS-PD's stage 1 by bi-level DARTS, which collapses in this space.
        "darts-pd+darts": dict(method="darts-pd", base_method="darts"),
        "gdas": dict(method="gdas"),
        # GDAS at the same ~8x budget as sp-darts-long (1250 steps of one sampled path).
        "gdas-long": dict(method="gdas", epochs=16, max_train=5000),
    }),
    "darts": ("small", "small", {
        "darts": dict(method="darts", order=1),
        "single-darts": dict(method="single-darts"),
        "sp-darts": dict(method="sp-darts", order=1),
        "d-darts": dict(method="d-darts"),
        "darts-pd": dict(method="darts-pd", base_method="darts"),
        "gdas": dict(method="gdas"),
    }),
}
METHODS = ("darts", "single-darts", "sp-darts", "sp-darts-long", "d-darts", "darts-pd",
           "darts-pd+darts", "gdas", "gdas-long")


def _load(path):
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None


def run_case(space, method, seed, args):
    """Search, derive, train stand-alone; returns the case's figures."""
    import keras

    from keras_darts.baseline import parameter_free_ops
    from keras_darts.search import SearchConfig, run_search
    from keras_darts.training import TrainConfig, run_training

    search_preset, train_preset, methods = SPACES[space]
    work = os.path.join(args.work, space, f"{method}-{seed}")
    cfg = SearchConfig.from_preset(search_preset, **{**methods[method], "seed": seed,
                                                     **json.loads(args.search_overrides)})
    t = time.time()
    result = run_search(cfg, os.path.join(work, "search"), verbose=0)
    search_wall = time.time() - t
    keras.backend.clear_session()
    accuracy, train_wall = [], 0.0
    for s in args.train_seeds:
        train_cfg = TrainConfig.from_preset(train_preset, genotype=result.genotype, seed=s,
                                            **json.loads(args.train_overrides))
        run_dir = os.path.join(work, "train" if s == 0 else f"train-seed{s}")
        _, summary = run_training(train_cfg, run_dir, verbose=0)
        keras.backend.clear_session()
        accuracy.append(float(summary["test_accuracy"]))
        train_wall += summary["wall_s"]
    history = result.history
    return {"space": space, "method": method, "seed": seed, "genotype": str(result.genotype),
            "test_accuracy": sum(accuracy) / len(accuracy), "test_accuracies": accuracy,
            "train_seeds": list(args.train_seeds), "params_m": summary["params_m"],
            "parameter_free_ops": parameter_free_ops(result.genotype),
            "ies": [round(float(v), 4) for v in history.get("ies", [])],
            "discrete_accuracy": [round(float(v), 4) for v in history.get("discrete_accuracy",
                                                                           [])],
            "search_wall_s": round(result.summary.get("wall_s", search_wall), 1),
            "train_wall_s": round(train_wall, 1)}


def random_pool(space, args, num_samples):
    """The space's first `num_samples` random cells (resumable); returns their records.

    The draw is a function of `--random-seed` alone and a longer draw starts with a
    shorter one, so growing `num_samples` one at a time trains one new cell per call.
    """
    from keras_darts.baseline import run_baseline
    from keras_darts.training import TrainConfig

    search_preset, train_preset, _ = SPACES[space]
    from keras_darts.search import PRESETS

    preset = PRESETS[search_preset]
    train_cfg = TrainConfig.from_preset(train_preset, seed=0, **json.loads(args.train_overrides))
    result = run_baseline(train_cfg, os.path.join(args.work, space, "random"),
                          num_samples=num_samples, space=space,
                          steps=preset.get("steps", 4), multiplier=preset.get("multiplier", 4),
                          seed=args.random_seed, train_seeds=args.train_seeds, verbose=0)
    return result.samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", nargs="+", default=list(SPACES), choices=list(SPACES))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--random", type=int, default=30, help="random cells per space")
    parser.add_argument("--random-seed", type=int, default=0)
    parser.add_argument("--train-seeds", nargs="+", type=int, default=[0],
                        help="training seeds of every cell; cells rank by their mean accuracy")
    parser.add_argument("--search-overrides", default="{}", help="JSON SearchConfig overrides")
    parser.add_argument("--train-overrides", default="{}", help="JSON TrainConfig overrides")
    parser.add_argument("--work", default=os.path.join(ROOT, "benchmarks", "work",
                                                       "search_quality"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "search_quality_2cpu.json"))
    parser.add_argument("--random-first", action="store_true",
                        help="train the random cells before the searches")
    args = parser.parse_args(argv)

    from keras_darts.baseline import baseline_summary
    from keras_darts.utils import atomic_write_json

    doc = _load(args.out) or {"benchmark": "search_quality", "cases": [], "random": {}}
    for key in ("search_overrides", "train_overrides", "random_seed", "train_seeds"):
        if "settings" not in doc:  # a new JSON
            break
        default = [0] if key == "train_seeds" else getattr(args, key)  # older JSON: seed 0
        kept = doc["settings"].get(key, default)
        if kept != getattr(args, key):  # its cases and random cells were run otherwise
            parser.error(f"{args.out} holds results with {key}={kept!r}, not "
                         f"{getattr(args, key)!r}: pass another --out.")
    doc.update(machine={"cpus": os.cpu_count(), "python": platform.python_version()},
               settings={k: v for k, v in vars(args).items() if k not in ("work", "out")})
    done = {(c["space"], c["method"], c["seed"]) for c in doc["cases"]}

    def write():
        for c in doc["cases"]:
            pool = doc["random"].get(c["space"], [])
            if pool and "test_accuracy" in c:
                s = baseline_summary(pool, c)
                c.update(percentile=round(s["percentile"], 1), random_completed=s["completed"],
                         random_median=round(s["median"], 4))
        doc["summary"] = summarize(doc)
        atomic_write_json(args.out, doc)

    def pool(space):
        """Trains the space's random cells one at a time, each into the JSON as it finishes."""
        for n in range(len(doc["random"].get(space, [])) + 1, args.random + 1):
            t = time.time()
            doc["random"][space] = random_pool(space, args, n)
            partial_pool(space)  # its settings
            write()
            rec = doc["random"][space][-1]
            print(f"{space} random cell {n}/{args.random}: acc {rec['test_accuracy']:.4f} "
                  f"({time.time() - t:.0f} s)  {rec['genotype']}", file=sys.stderr, flush=True)

    def partial_pool(space):
        """Random cells finished so far by an interrupted pool (its baseline.json).

        The JSON keeps the pool's baseline settings, so a pool cut off on one machine goes on
        from its cells in the JSON on another (`run_baseline` resumes from baseline.json).
        """
        path = os.path.join(args.work, space, "random", "baseline.json")
        run = _load(path)
        if run is None and space in doc.get("random_settings", {}):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write_json(path, {"settings": doc["random_settings"][space],
                                     "samples": doc["random"].get(space, []), "searched": None})
            return
        if run:
            doc.setdefault("random_settings", {})[space] = run["settings"]
            if len(run.get("samples", [])) > len(doc["random"].get(space, [])):
                doc["random"][space] = run["samples"]
            write()

    for space in args.spaces:
        partial_pool(space)  # cases finished before the pool rank against what it has
        if args.random_first:
            pool(space)
        for seed in args.seeds:
            for method in args.methods:
                if (space, method, seed) in done:
                    continue
                if method not in SPACES[space][2]:
                    why = ("D-DARTS has per-cell alphas over DARTS-family cells"
                           if method == "d-darts" else f"not configured for the {space} space")
                    doc["cases"].append({"space": space, "method": method, "seed": seed,
                                         "not_applicable": why})
                    write()
                    continue
                t = time.time()
                doc["cases"].append(run_case(space, method, seed, args))
                c = doc["cases"][-1]
                print(f"{space} {method} seed {seed}: {c['genotype']} acc "
                      f"{c['test_accuracy']:.4f} ({time.time() - t:.0f} s)", file=sys.stderr,
                      flush=True)
                write()
        pool(space)
    print(json.dumps(doc["summary"], indent=1))
    return 0


def summarize(doc):
    """Per space and method: accuracy, percentile and parameter-free ops over the seeds."""
    from keras_darts.baseline import baseline_summary

    out = {}
    for c in doc["cases"]:
        if "test_accuracy" not in c:
            continue
        row = out.setdefault(c["space"], {}).setdefault(
            c["method"], {"accuracy": [], "percentile": [], "parameter_free_ops": [],
                          "search_wall_s": []})
        row["accuracy"].append(round(c["test_accuracy"], 4))
        row["percentile"].append(c.get("percentile"))
        row["parameter_free_ops"].append(c["parameter_free_ops"])
        row["search_wall_s"].append(c["search_wall_s"])
    for space, rows in out.items():
        pool = doc["random"].get(space, [])
        if pool:
            rows["random"] = {k: round(v, 4) for k, v in baseline_summary(pool).items()}
    return out


if __name__ == "__main__":
    sys.exit(main())
