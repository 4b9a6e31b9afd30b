"""Benchmark: does a refactor change what a search finds? Genotypes on fixed seeds, before and after.

Each case of `benchmarks/reproducibility.py` (every method, the DARTS and NAS-Bench-201
spaces) runs once per seed through the CLI in a fresh process, and its record holds the
derived genotype and a SHA-256 of the files that carry the search's numbers (the alphas
after every epoch and the per-epoch history; for DARTS-PD also stage 1's genotype, without
the metadata beside it, stage 2's history and stage 3's trials). Run it on the code before a change and on the code after it, then compare with
`--against`: a behaviour-preserving change gives the same genotype and the same hashes for
every case. One JSON record is written per case as it finishes; finished cases are skipped
when the script runs again with the same `--out`.

Usage:
    python benchmarks/genotype_identity.py --out /tmp/before.json      # on the old code
    python benchmarks/genotype_identity.py --out /tmp/after.json --against /tmp/before.json
    python benchmarks/genotype_identity.py --cases darts-1 d-darts --seeds 0 1
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reproducibility import CASES, PD_FILES, SEARCH_FILES, _cli, save_results  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _digest(directory, files):
    h = hashlib.sha256()
    for name in files:
        if name == "genotype.json":  # the run's result, compared on its own
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        if name.endswith("genotype.json"):  # a stage's genotype, without the run's metadata
            data = json.dumps(json.loads(data)["genotype"], sort_keys=True).encode()
        h.update(name.encode() + b"\0" + data)
    return h.hexdigest()


def run_case(name, seed, epochs, max_train, work):
    """One search of `name` on `seed`; returns its record (genotype, hash of its numbers)."""
    args = [*CASES[name], "--seed", str(seed), "--epochs", str(epochs),
            "--max-train", str(max_train), "--verbose", "0", "--out", work]
    wall = _cli("search", *args)
    files = PD_FILES if "darts-pd" in name else SEARCH_FILES
    with open(os.path.join(work, "genotype.json")) as f:
        genotype = json.load(f).get("genotype")
    return {"case": name, "seed": seed, "epochs": epochs, "max_train": max_train,
            "genotype": genotype, "numbers_sha256": _digest(work, files),
            "wall_s": round(wall, 1)}


def compare(records, reference):
    """Lines saying, case by case, whether `records` match `reference`; and whether all do."""
    ref = {(r["case"], r["seed"]): r for r in reference["cases"]}
    lines, same = [], True
    for r in records["cases"]:
        other = ref.get((r["case"], r["seed"]))
        if other is None:
            lines.append(f"{r['case']} seed {r['seed']}: not in the reference")
            continue
        g = r["genotype"] == other["genotype"]
        n = r["numbers_sha256"] == other["numbers_sha256"]
        same = same and g and n
        lines.append(f"{r['case']} seed {r['seed']}: genotype {'same' if g else 'DIFFERENT'}, "
                     f"alphas and histories {'same' if n else 'DIFFERENT'}")
    return lines, same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=sorted(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-train", type=int, default=256)
    parser.add_argument("--out", required=True)
    parser.add_argument("--against", help="a results file of the code before the change")
    args = parser.parse_args(argv)

    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                        capture_output=True, text=True).stdout.strip(),
               "cases": []}
    if os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    done = {(r["case"], r["seed"]) for r in results["cases"]}
    for name in args.cases:
        for seed in args.seeds:
            if (name, seed) in done:
                continue
            work = tempfile.mkdtemp(prefix=f"genotype-{name}-")
            try:
                record = run_case(name, seed, args.epochs, args.max_train, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            results["cases"].append(record)
            save_results(results, args.out)
            print(json.dumps(record), flush=True)
    if args.against:
        with open(args.against) as f:
            lines, same = compare(results, json.load(f))
        print("\n".join(lines))
        print("all identical" if same else "SOME DIFFER")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
