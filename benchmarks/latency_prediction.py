"""Benchmark: how well does a latency table predict the TFLite latency of whole networks?

For each layout (a search space's stand-alone network at a size), a latency table is
measured (`keras_darts.latency.measure_table`), then random genotypes of the space are
built, exported to TFLite (float32 and int8) and timed at batch 1 with the same interpreter
settings (`measure_network`). The result per layout and precision: Spearman's rank
correlation between predicted and measured latency, and the mean relative error of the
prediction. One JSON record per genotype is written as it finishes; finished genotypes (and
the table, kept beside the results) are reused when the script runs again with the same
`--out`.

Usage:
    python benchmarks/latency_prediction.py                  # every layout, 20 genotypes each
    python benchmarks/latency_prediction.py --layouts nb201-small --genotypes 5
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

LAYOUTS = {
    # The demo's network: NAS-Bench-201 cells at CPU size on the embedded dataset.
    "nb201-small": ("nb201", dict(family="nb201", input_shape=(28, 28, 1), num_classes=10,
                                  channels=8, cells_per_stage=1)),
    # The `small` training preset's network (6 cells, C=8) with 4-node DARTS cells.
    "darts-small": ("darts", dict(family="darts", input_shape=(28, 28, 1), num_classes=10,
                                  layers=6, channels=8)),
    # The paper's search supernet size as a stand-alone network: 8 cells, C=16, CIFAR input.
    "darts-8x16": ("darts", dict(family="darts", input_shape=(32, 32, 3), num_classes=10,
                                 layers=8, channels=16)),
}


def _summary(records, precision):
    from scipy.stats import spearmanr

    pred = np.array([r["predicted_ms"][precision] for r in records])
    meas = np.array([r["measured_ms"][precision] for r in records])
    rel = np.abs(pred - meas) / meas
    return {"genotypes": len(records), "spearman": round(float(spearmanr(pred, meas)[0]), 4),
            "mean_relative_error": round(float(rel.mean()), 4),
            "max_relative_error": round(float(rel.max()), 4),
            "measured_ms_range": [round(float(meas.min()), 4), round(float(meas.max()), 4)]}


def save(results, out):
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=sorted(LAYOUTS))
    parser.add_argument("--genotypes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "latency_prediction_2cpu.json"))
    args = parser.parse_args(argv)

    from keras_darts.baseline import sample_genotypes
    from keras_darts.latency import (
        PRECISIONS, LatencyTable, NetworkLayout, measure_network, measure_table,
    )
    from keras_darts.networks import build_network

    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               "settings": {"threads": args.threads, "runs": args.runs, "passes": args.passes,
                            "seed": args.seed},
               "layouts": {}}
    if os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    for name in args.layouts:
        space, config = LAYOUTS[name]
        layout = NetworkLayout(**config)
        entry = results["layouts"].setdefault(name, {"space": space, "layout": layout.to_dict(),
                                                     "records": []})
        table_path = os.path.splitext(args.out)[0] + f"_{name}_table.json"
        t = time.time()
        table = measure_table(layout, space, threads=args.threads, runs=args.runs,
                              passes=args.passes, path=table_path)
        entry.setdefault("table_s", round(time.time() - t, 1))
        entry["table_units"] = len(table.entries["float32"])
        table = LatencyTable.load(table_path)
        done = {r["genotype"] for r in entry["records"]}
        for g in sample_genotypes(space, args.genotypes, seed=args.seed):
            key = json.dumps(g.to_dict() if hasattr(g, "to_dict") else str(g), sort_keys=True)
            if key in done:
                continue
            model = build_network(g, **layout.network_kwargs())
            measured = measure_network(model, threads=args.threads, runs=args.runs,
                                       passes=args.passes)
            entry["records"].append({
                "genotype": key,
                "predicted_ms": {p: round(table.predict(g, p), 5) for p in PRECISIONS},
                "measured_ms": {p: measured[p]["ms"] for p in PRECISIONS},
                "measured_spread_ms": {p: measured[p]["spread_ms"] for p in PRECISIONS}})
            entry["summary"] = {p: _summary(entry["records"], p) for p in PRECISIONS}
            save(results, args.out)
            print(name, len(entry["records"]), json.dumps(entry["summary"]), flush=True)
    print(json.dumps({n: e.get("summary") for n, e in results["layouts"].items()}, indent=1))


if __name__ == "__main__":
    main()
