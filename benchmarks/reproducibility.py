"""Benchmark: is a CLI search a pure function of (config, seed)? Two fresh processes per case.

For each case, `keras-darts search` runs twice with the same command, each time in a fresh
process, and the two run directories are compared: the alphas after every epoch
(`alpha_history.json`, exactly), the genotype (`genotype.json`) and the per-epoch history
(`history.csv`, exactly). With `--train`, the derived genotype is then trained twice
(`keras-darts train --preset small`) and the training histories and test accuracies compared:
the demo's whole search-then-train path.

The cases run at the `small` presets' sizes (the demo's supernet, batch 32 on the embedded
Fashion-MNIST), where Grappler's memory optimizer made runs differ before determinism covered
it; epochs and data are cut so that one case takes a few minutes. One JSON record per case is
written as soon as the case finishes, and finished cases are skipped when the script runs
again with the same `--out`, so a run cut off goes on where it stopped.

Usage:
    python benchmarks/reproducibility.py --out benchmarks/results/reproducibility.json
    python benchmarks/reproducibility.py --cases darts-1 sp-darts --seeds 0 7
    python benchmarks/reproducibility.py --cases darts-1 --train     # search, then training
    python benchmarks/reproducibility.py --cases darts-1 --no-deterministic   # the control
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> search arguments. DARTS-PD's later stages are cut to a few steps and trials.
CASES = {
    "darts-1": ["--preset", "small", "--method", "darts", "--order", "1"],
    "darts-2": ["--preset", "small", "--method", "darts", "--order", "2"],
    "single-level": ["--preset", "small", "--method", "single-level"],
    "single-darts": ["--preset", "small", "--method", "single-darts"],
    "sp-darts": ["--preset", "small", "--method", "sp-darts"],
    "d-darts": ["--preset", "small", "--method", "d-darts"],
    "darts-pd": ["--preset", "small", "--method", "darts-pd", "--pd-epochs", "1",
                 "--es-trials", "6", "--es-population", "3", "--es-tournament", "2"],
    "nb201-darts-1": ["--preset", "nb201-small", "--method", "darts", "--order", "1"],
    "nb201-sp-darts": ["--preset", "nb201-small", "--method", "sp-darts"],
    "nb201-single-darts": ["--preset", "nb201-small", "--method", "single-darts"],
}
# The files of a search that must be equal between the two runs.
SEARCH_FILES = ("alpha_history.json", "genotype.json", "history.csv")
# DARTS-PD: stage 1's search, stage 2's path-wise training, stage 3's scored trials, the best path.
PD_FILES = ("stage1/alpha_history.json", "stage1/genotype.json", "stage2/history.csv",
            "stage3/trials.json", "genotype.json")


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env.pop("TF_CONFIG", None)
    start = time.time()
    out = subprocess.run([sys.executable, "-m", "keras_darts.cli", *args], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"keras-darts {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return time.time() - start


def _read(path):
    with open(path) as f:
        return f.read()


def _max_alpha_difference(a_path, b_path):
    """The largest absolute difference between two `alpha_history.json` files (0.0: equal)."""
    def flat(x):
        if isinstance(x, dict):
            return [v for k in sorted(x) for v in flat(x[k])]
        if isinstance(x, list):
            return [v for e in x for v in flat(e)]
        return [x] if isinstance(x, float) else []

    with open(a_path) as f:
        a = flat(json.load(f))
    with open(b_path) as f:
        b = flat(json.load(f))
    if len(a) != len(b):
        return float("inf")
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0)


def run_case(name, seed, args, work):
    """Runs one case twice in fresh processes; returns its JSON record."""
    record = {"case": name, "seed": seed, "deterministic": args.deterministic}
    search = [*CASES[name], "--seed", str(seed), "--epochs", str(args.epochs),
              "--max-train", str(args.max_train), "--verbose", "0"]
    if not args.deterministic:
        search.append("--no-deterministic")
    dirs = [os.path.join(work, f"search-{i}") for i in (0, 1)]
    record["search_wall_s"] = [round(_cli("search", *search, "--out", d), 1) for d in dirs]
    files = PD_FILES if "darts-pd" in name else SEARCH_FILES
    for file in files:
        record[f"same_{file}"] = _read(os.path.join(dirs[0], file)) == _read(
            os.path.join(dirs[1], file))
    record["max_alpha_difference"] = _max_alpha_difference(
        *(os.path.join(d, files[0]) for d in dirs))
    with open(os.path.join(dirs[0], "genotype.json")) as f:
        record["genotype"] = json.load(f).get("genotype")
    same = all(record[f"same_{file}"] for file in files)
    if args.train:
        preset = "nb201-small" if name.startswith("nb201") else "small"
        trains = [os.path.join(work, f"train-{i}") for i in (0, 1)]
        record["train_wall_s"] = [round(_cli(
            "train", "--preset", preset, "--genotype", os.path.join(dirs[i], "genotype.json"),
            "--seed", str(seed), "--epochs", str(args.train_epochs), "--out", trains[i],
            "--verbose", "0"), 1) for i in (0, 1)]
        record["same_train_history"] = _read(os.path.join(trains[0], "history.csv")) == _read(
            os.path.join(trains[1], "history.csv"))
        accuracies = []
        for t in trains:
            with open(os.path.join(t, "summary.json")) as f:
                accuracies.append(json.load(f).get("test_accuracy"))
        record["test_accuracy"] = accuracies
        same = same and record["same_train_history"] and accuracies[0] == accuracies[1]
    record["reproducible"] = same
    return record


def save_results(results, out):
    """Writes `results` to `out` atomically (a run cut off leaves the last whole file)."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=sorted(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[7])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-train", type=int, default=256,
                        help="training examples of the search (4 bi-level steps an epoch)")
    parser.add_argument("--train", action="store_true", help="also train the genotype twice")
    parser.add_argument("--train-epochs", type=int, default=1)
    parser.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "reproducibility.json"))
    args = parser.parse_args(argv)

    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()}, "cases": []}
    if os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    done = {(r["case"], r["seed"], r["deterministic"], "test_accuracy" in r)
            for r in results["cases"]}
    for name in args.cases:
        for seed in args.seeds:
            if (name, seed, args.deterministic, args.train) in done:
                continue
            work = tempfile.mkdtemp(prefix=f"repro-{name}-")
            try:
                record = run_case(name, seed, args, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            results["cases"].append(record)
            save_results(results, args.out)
            print(json.dumps(record), flush=True)
    bad = [r for r in results["cases"] if r["deterministic"] and not r["reproducible"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
