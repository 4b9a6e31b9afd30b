"""Benchmark: does a mixed-precision search derive the float32 search's genotype?

For each method and seed, the same search (the `small` preset, or `--preset`) runs in
float32, mixed_bfloat16 and mixed_float16 (`keras_darts.utils.precision`), each in a fresh
process, and the results are set beside float32's:

- `same_genotype`: the derived genotype is float32's, text for text;
- `edge_agreement`: the share of (cell, edge) pairs whose strongest op is float32's;
- `flipped_margins`: for each edge that differs, float32's gap between its top two
  mixing weights: flips on near ties (gaps of a few 1e-3) are rounding deciding a tie,
  flips on wide gaps would be a search that went elsewhere;
- `max_weight_diff`: the largest difference of a mixing weight from float32's;
- `movement_cosine`: the cosine between the two searches' moves of the mixing weights away
  from the uniform start (1: the architecture moved the same way);
- the search's first and median step time and its final search loss (as recorded; for
  speed, `search_step.py --precision` times steps on an otherwise idle machine).

As a yardstick, the summary also sets float32 searches of different seeds beside each other:
a short search's genotype turns on near ties, and a mixed precision is worth as much as it
stays closer to float32 than another seed does.

The host's bfloat16 support is recorded (`avx512_bf16`, `amx_bf16` in /proc/cpuinfo): oneDNN
runs bfloat16 convolutions natively only with them. One JSON line per run is appended to
`--out` as it finishes; a run already there is skipped, so an interrupted sweep goes on
where it stopped.

Usage:
    python benchmarks/precision.py --out benchmarks/results/precision_small_2cpu.json
    python benchmarks/precision.py --methods darts-1 d-darts --seeds 0 1 2 --epochs 3
    python benchmarks/precision.py --summary benchmarks/results/precision_small_2cpu.json
"""

import argparse
import json
import os
import subprocess
import sys

METHODS = {
    "darts-1": dict(method="darts", order=1),
    "darts-2": dict(method="darts", order=2),
    "single-darts": dict(method="single-darts"),
    "sp-darts": dict(method="sp-darts", order=1),
    "d-darts": dict(method="d-darts"),
}
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def cpu_bf16_flags():
    """The bfloat16-related CPU flags of this host (Linux; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return []
    return sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16", "amx_tile", "avx512f"))


def _child(method, seed, precision, preset, dataset, epochs, max_train):
    """One search; returns its genotype, mixing weights and timings."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tempfile

    import numpy as np

    from keras_darts.search import SearchConfig, run_search

    config = SearchConfig.from_preset(preset, **METHODS[method], seed=seed,
                                      precision=precision, dataset=dataset, epochs=epochs,
                                      max_train=max_train)
    with tempfile.TemporaryDirectory() as out:
        result = run_search(config, out, verbose=0)
    weights = [np.asarray(w, dtype="float64").round(6).tolist()
               for w in result.model.architecture.mixing_weights()]
    return {"method": method, "seed": seed, "precision": precision, "preset": preset,
            "dataset": dataset, "epochs": epochs, "max_train": max_train,
            "genotype": result.genotype.to_text(), "mixing_weights": weights,
            "first_step_s": result.summary.get("first_step_s"),
            "median_step_s": result.summary.get("median_step_s"),
            "final_loss": result.summary["final"]["loss"]}


def compare(run, reference):
    """`run`'s agreement with the float32 run `reference` of the same method and seed."""
    import numpy as np

    same, flipped, total, max_diff, seen = 0, [], 0, 0.0, []
    moves, moves32 = [], []
    for w, w32 in zip(run["mixing_weights"], reference["mixing_weights"]):
        w, w32 = np.asarray(w), np.asarray(w32)
        if any(np.array_equal(w32, other) for other in seen):
            continue  # a cell sharing its kind's alphas: that kind is counted once
        seen.append(w32)
        max_diff = max(max_diff, float(np.abs(w - w32).max()))
        moves.append((w - 1.0 / w.shape[-1]).ravel())  # away from the uniform start
        moves32.append((w32 - 1.0 / w32.shape[-1]).ravel())
        for edge, edge32 in zip(w, w32):
            total += 1
            if np.argmax(edge) == np.argmax(edge32):
                same += 1
            else:
                top = np.sort(edge32)[::-1]
                flipped.append(round(float(top[0] - top[1]), 6))
    move, move32 = np.concatenate(moves), np.concatenate(moves32)
    cosine = float(move @ move32 / (np.linalg.norm(move) * np.linalg.norm(move32) + 1e-12))
    return {"same_genotype": run["genotype"] == reference["genotype"],
            "edge_agreement": round(same / max(total, 1), 4), "flipped_margins": flipped,
            "max_weight_diff": round(max_diff, 6), "movement_cosine": round(cosine, 4)}


def summary(runs):
    """Per method and precision: genotypes equal to float32's, mean edge agreement."""
    by_key = {(r["method"], r["seed"], r["precision"]): r for r in runs if "error" not in r}
    table = {}
    for (method, seed, precision), r in sorted(by_key.items()):
        ref = by_key.get((method, seed, "float32"))
        if precision == "float32" or ref is None:
            continue
        _add(table, f"{method} {precision}", compare(r, ref))
    # The baseline: how far apart float32 searches of two seeds end (a flip rate that mixed
    # precision's rounding can be set against).
    f32 = sorted((k, r) for k, r in by_key.items() if k[2] == "float32")
    for i, ((method, seed, _), r) in enumerate(f32):
        for (method2, _, _), r2 in f32[i + 1:]:
            if method2 == method:
                _add(table, f"{method} float32 other seed", compare(r2, r))
    return table


def _add(table, key, comparison):
    """Adds one `compare` result to the summary row `key`: counts, then lists per figure."""
    row = table.setdefault(key, {"pairs": 0, "same_genotype": 0, "edge_agreement": [],
                                 "movement_cosine": [], "max_weight_diff": [],
                                 "flipped_margins": []})
    row["pairs"] += 1
    row["same_genotype"] += int(comparison["same_genotype"])
    for figure in ("edge_agreement", "movement_cosine", "max_weight_diff"):
        row[figure].append(comparison[figure])
    row["flipped_margins"] += comparison["flipped_margins"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["darts-1", "single-darts", "sp-darts",
                                                         "d-darts"], choices=sorted(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS),
                        choices=PRECISIONS)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--dataset", default="fashion_mnist_subset")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-train", type=int, default=1280)
    parser.add_argument("--out", help="JSON lines file: one run per line, appended")
    parser.add_argument("--summary", metavar="JSON", help="print the summary of a file (no run)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, seed, precision = args.child
        print(json.dumps(_child(method, int(seed), precision, args.preset, args.dataset,
                                args.epochs, args.max_train)))
        return
    if args.summary:
        with open(args.summary) as f:
            runs = [json.loads(line) for line in f if line.strip()]
        print(json.dumps({"cpu_bf16_flags": runs[0].get("cpu_bf16_flags") if runs else None,
                          "by_method": summary(runs)}, indent=1))
        return
    done = set()
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    done.add((r["method"], r["seed"], r["precision"], r["epochs"]))
    flags = cpu_bf16_flags()
    for method in args.methods:
        for seed in args.seeds:
            for precision in args.precisions:
                if (method, seed, precision, args.epochs) in done:
                    continue
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", method, str(seed), precision,
                     "--preset", args.preset, "--dataset", args.dataset,
                     "--epochs", str(args.epochs), "--max-train", str(args.max_train)],
                    capture_output=True, text=True)
                if proc.returncode:
                    run = {"method": method, "seed": seed, "precision": precision,
                           "epochs": args.epochs, "error": proc.stderr[-1500:]}
                else:
                    run = json.loads(proc.stdout.strip().splitlines()[-1])
                run["cpu_bf16_flags"] = flags
                print(json.dumps({k: v for k, v in run.items() if k != "mixing_weights"}),
                      file=sys.stderr)
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(json.dumps(run) + "\n")


if __name__ == "__main__":
    main()
