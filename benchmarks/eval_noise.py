"""Benchmark: how much a cell's stand-alone accuracy moves with the training seed alone.

A searched cell's percentile among random cells (`keras-darts baseline`,
`benchmarks/search_quality.py`) comes from one training run per cell. This trains each given
genotype with a training preset under several training seeds (everything else equal) and
reports the per-cell accuracies, mean and spread, to set against the random cells' spread.

Resumable: every finished (genotype, seed) is kept in the JSON, which is rewritten after each.

Usage:
    python benchmarks/eval_noise.py --preset nb201-small --seeds 0 1 2 \
        --genotypes '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|...|' ... \
        --out benchmarks/results/eval_noise_nb201_2cpu.json
"""

import argparse
import json
import os
import platform
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nb201-small")
    parser.add_argument("--genotypes", nargs="+", required=True,
                        help="genotypes (names, arch strings or genotype.json files)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "eval_noise_nb201_2cpu.json"))
    args = parser.parse_args(argv)

    import keras

    from keras_darts.training import TrainConfig, run_training
    from keras_darts.utils import atomic_write_json

    doc = {"benchmark": "eval_noise", "preset": args.preset, "runs": {}}
    if os.path.isfile(args.out):
        with open(args.out, encoding="utf-8") as f:
            doc = json.load(f)
    doc["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    for genotype in args.genotypes:
        runs = doc["runs"].setdefault(genotype, {})
        for seed in args.seeds:
            if str(seed) in runs:
                continue
            config = TrainConfig.from_preset(args.preset, genotype=genotype, seed=seed)
            with tempfile.TemporaryDirectory() as tmp:
                _, summary = run_training(config, tmp, verbose=0)
            keras.backend.clear_session()
            runs[str(seed)] = round(summary["test_accuracy"], 4)
            print(f"{genotype} seed {seed}: {runs[str(seed)]}", flush=True)
            values = list(runs.values())
            doc.setdefault("summary", {})[genotype] = {
                "mean": round(float(np.mean(values)), 4), "min": min(values),
                "max": max(values), "spread": round(max(values) - min(values), 4)}
            atomic_write_json(args.out, doc)
    print(json.dumps(doc.get("summary", {}), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
