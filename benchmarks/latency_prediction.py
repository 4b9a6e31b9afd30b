"""Benchmark: how well does a latency table predict the TFLite latency of whole networks?

For each layout (a search space's stand-alone network at a size), a latency table is
measured (`keras_darts.latency.measure_table`), then random genotypes of the space are
built, exported to TFLite (float32 and int8) and timed at batch 1 with the same interpreter
settings (`measure_network`). The result per layout and precision: Spearman's rank
correlation between predicted and measured latency, and the mean relative error of the
prediction. The table and every network are measured in `--rounds` rounds, each keeping its
fastest round (the machine's slow spells last minutes). Every measurement is written as it
finishes; finished ones (and the tables, kept beside the results) are reused when the script
runs again with the same `--out`.

Usage:
    python benchmarks/latency_prediction.py                  # every layout, 20 genotypes each
    python benchmarks/latency_prediction.py --layouts nb201-small --genotypes 5
    # after a change to the prediction: score the recorded networks again, measuring nothing
    python benchmarks/latency_prediction.py --rescore \
        nb201-small=benchmarks/results/latency_table_nb201_small_2cpu.json
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reproducibility import save_results  # noqa: E402

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


def _score(entry, table, genotypes, keys):
    """Predicts every recorded network with `table`; the per-precision summaries."""
    from keras_darts.latency import PRECISIONS

    records = {r["genotype"]: r for r in entry["records"]}
    for g, key in zip(genotypes, keys):
        record = records[key]
        record["predicted_ms"] = {p: round(table.predict(g, p), 5) for p in PRECISIONS}
        record["measured_ms"] = {p: min(r[p] for r in record["rounds"]) for p in PRECISIONS}
    entry["records"] = [records[k] for k in keys]
    entry["table_units"] = len(table.entries["float32"])
    entry["summary"] = {p: _summary(entry["records"], p) for p in PRECISIONS}


def _rescore(results, items, args):
    """`--rescore LAYOUT=TABLE ...`: the recorded networks predicted again, nothing measured."""
    from keras_darts.baseline import sample_genotypes
    from keras_darts.latency import LatencyTable, mark_units

    for item in items:
        name, path = item.split("=", 1)
        entry = results["layouts"][name]
        table = LatencyTable.load(path)
        if table.marks_outdated:  # structural marks only: nothing timed
            mark_units(table)
            table.save(path)
        genotypes = sample_genotypes(entry["space"], len(entry["records"]),
                                     seed=results["settings"].get("seed", args.seed))
        _score(entry, table, genotypes, [json.dumps(g.to_dict(), sort_keys=True)
                                         for g in genotypes])
        save_results(results, args.out)
        print(name, json.dumps(entry["summary"]), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=sorted(LAYOUTS))
    parser.add_argument("--genotypes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "latency_prediction_2cpu.json"))
    parser.add_argument("--rescore", nargs="+", metavar="LAYOUT=TABLE",
                        help="measure nothing: predict the networks recorded in --out again "
                             "with these tables (their graph marks brought up to date)")
    args = parser.parse_args(argv)

    from keras_darts.baseline import sample_genotypes
    from keras_darts.latency import (
        PRECISIONS, LatencyTable, NetworkLayout, measure_network, measure_table,
    )

    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               "settings": {"threads": args.threads, "runs": args.runs, "passes": args.passes,
                            "rounds": args.rounds, "seed": args.seed},
               "layouts": {}}
    if os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    if args.rescore:
        return _rescore(results, args.rescore, args)
    for name in args.layouts:
        space, config = LAYOUTS[name]
        layout = NetworkLayout(**config)
        entry = results["layouts"].setdefault(name, {"space": space, "layout": layout.to_dict(),
                                                     "records": []})
        genotypes = sample_genotypes(space, args.genotypes, seed=args.seed)
        keys = [json.dumps(g.to_dict(), sort_keys=True) for g in genotypes]
        records = {r["genotype"]: r for r in entry["records"]}
        # Rounds: the table and every network are measured once per round, rounds apart in
        # time, and each keeps its fastest round: a slow spell of the machine during one part
        # of a round does not end up in the comparison.
        for r in range(args.rounds):
            table_path = os.path.splitext(args.out)[0] + f"_{name}_table_{r}.json"
            t = time.time()
            measure_table(layout, space, threads=args.threads, runs=args.runs,
                          passes=args.passes, path=table_path)
            entry.setdefault("table_s", round(time.time() - t, 1))
            for g, key in zip(genotypes, keys):
                record = records.setdefault(key, {"genotype": key, "rounds": []})
                if len(record["rounds"]) > r:
                    continue
                measured = measure_network(layout.build(g), threads=args.threads, runs=args.runs,
                                           passes=args.passes)
                record["rounds"].append({p: measured[p]["ms"] for p in PRECISIONS})
                entry["records"] = list(records.values())
                save_results(results, args.out)
        tables = [LatencyTable.load(os.path.splitext(args.out)[0] + f"_{name}_table_{r}.json")
                  for r in range(args.rounds)]
        table = tables[0]
        for other in tables[1:]:
            for p in PRECISIONS:
                for key, stats in other.entries[p].items():
                    if stats["ms"] < table.entries[p][key]["ms"]:
                        table.entries[p][key] = stats
        table.save(os.path.splitext(args.out)[0] + f"_{name}_table.json")
        entry["records"] = list(records.values())
        _score(entry, table, genotypes, keys)
        save_results(results, args.out)
        print(name, json.dumps(entry["summary"]), flush=True)
    print(json.dumps({n: e.get("summary") for n, e in results["layouts"].items()}, indent=1))


if __name__ == "__main__":
    main()
