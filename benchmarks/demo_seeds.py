"""Benchmark: `make demo` on several search seeds, and where each searched cell ranks.

For every seed, runs the README's main job (`make demo SEED=N OUT=WORK/seedN`) end to end and
records its wall time, the searched genotype and how it moved over the search (IES per epoch,
the derived cell per epoch), the cell's stand-alone test accuracy, its rank among the
demo's random cells (`baseline/baseline.json`), and the demo's closing table (`verdict.json`:
the derived network against the reference network trained for the same wall time). The random cells are drawn and trained with
seed 0 whatever the search seed, so every seed is ranked against the same cells.

Resumable: a seed whose `baseline/baseline.json` is complete is not run again, and the JSON is
rewritten after each seed.

Usage:
    python benchmarks/demo_seeds.py --seeds 0 1 2 --out benchmarks/results/demo_nb201_2cpu.json
"""

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _timed_make(cmd, log):
    """Runs `make demo`, its output to `log`; returns the seconds of each `keras-darts` step.

    make echoes each command before running it, so a step lasts from its echo to the next
    one's (the last one to make's end); the install, if any, is not a step.
    """
    os.makedirs(os.path.dirname(log), exist_ok=True)
    marks = []
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        for line in proc.stdout:
            f.write(line)
            words = line.split()
            if len(words) > 1 and words[0].endswith("bin/keras-darts"):
                # `train` runs twice: the derived network, then the reference network
                name = "reference" if words[1] == "train" and "--network" in words else words[1]
                marks.append((name, time.time()))
        if proc.wait():
            raise subprocess.CalledProcessError(proc.returncode, cmd)
    ends = [t for _, t in marks[1:]] + [time.time()]
    return {name: round(end - begin, 1) for (name, begin), end in zip(marks, ends)}


def run_seed(seed, work, make_args):
    """Runs the demo for `seed` unless finished; returns its record."""
    out = os.path.join(work, f"seed{seed}")
    baseline = os.path.join(out, "baseline", "baseline.json")
    wall_file = os.path.join(out, "wall_s.json")
    if not (os.path.isfile(baseline) and os.path.isfile(wall_file)):
        start = time.time()
        steps = _timed_make(["make", "demo", f"SEED={seed}", f"OUT={out}", *make_args],
                            os.path.join(work, f"seed{seed}.log"))
        with open(wall_file, "w", encoding="utf-8") as f:
            json.dump({"wall_s": round(time.time() - start, 1), "steps_s": steps}, f)
    search = os.path.join(out, "search")
    with open(os.path.join(search, "history.csv"), encoding="utf-8") as f:
        ies = [round(float(row["ies"]), 4) for row in csv.DictReader(f) if row.get("ies")]
    history = [e["genotype"].get("arch", e["genotype"]) for e in
               _json(os.path.join(search, "genotype_history.json"))]
    doc = _json(baseline)
    verdict = os.path.join(out, "verdict.json")  # the demo's last table (`keras-darts compare`)
    extra = {"verdict": _json(verdict)["runs"]} if os.path.isfile(verdict) else {}
    wall = _json(wall_file)
    return {**extra, "seed": seed, "wall_s": wall["wall_s"], "steps_s": wall.get("steps_s"),
            "search_wall_s": round(_json(os.path.join(search, "summary.json"))["wall_s"], 1),
            "genotype": doc["searched"]["genotype"], "genotype_per_epoch": history,
            "ies_per_epoch": ies, "test_accuracy": doc["searched"]["test_accuracy"],
            "parameter_free_ops": doc["searched"]["parameter_free_ops"],
            **{k: doc["summary"][k] for k in ("completed", "median", "percentile", "rank",
                                              "above_median")},
            "random": [round(s["test_accuracy"], 4) for s in doc["samples"]]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--work", default=os.path.join(ROOT, "benchmarks", "work", "demo"))
    parser.add_argument("--make-args", nargs="*", default=[],
                        help="extra make variables, e.g. BASELINE_SAMPLES=30")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "demo_nb201_2cpu.json"))
    args = parser.parse_args(argv)
    doc = {"benchmark": "demo_seeds", "machine": {"cpus": os.cpu_count(),
                                                  "python": platform.python_version()},
           "make_args": args.make_args, "seeds": []}
    for seed in args.seeds:
        doc["seeds"].append(run_seed(seed, args.work, args.make_args))
        doc["above_median"] = sum(r["above_median"] for r in doc["seeds"])
        with open(args.out + ".tmp", "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
        os.replace(args.out + ".tmp", args.out)
    print(json.dumps({r["seed"]: (r["test_accuracy"], r["percentile"], r["rank"])
                      for r in doc["seeds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
