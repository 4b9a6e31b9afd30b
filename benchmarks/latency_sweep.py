"""Benchmark: an accuracy-latency trade-off from searches with several latency weights.

For each latency weight and seed: a search with the latency term (`--latency-table`,
`--latency-weight`), its derived network trained stand-alone (the matching training preset),
then exported to TFLite and timed (float32 and int8, batch 1, the table's threads) next to the
table's prediction. The default is the demo's setting (Single-DARTS in the NAS-Bench-201
space at CPU size, the embedded dataset). One JSON record per search is written as it finishes
(finished ones are skipped when the script runs again with the same `--out`), and a plot of
test accuracy against measured latency with the Pareto front (`--plot`).

Usage:
    python benchmarks/latency_sweep.py                        # weights 0, 0.3, 1, 3; seeds 0 1
    python benchmarks/latency_sweep.py --weights 0 1 --seeds 0 --plot sweep.png
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reproducibility import save_results  # noqa: E402


def plot(records, path, precision="float32", random=None):
    """Test accuracy against measured latency, one colour per weight, with the Pareto front;
    with `random` (a `keras-darts baseline --latency-table` document), its random cells and
    their front too."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_darts.costs import pareto_front

    points = [dict(r, latency=r["measured_ms"][precision], accuracy=r["test_accuracy"])
              for r in records]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    weights = sorted({r["weight"] for r in records})
    cmap = plt.get_cmap("viridis", max(len(weights), 2))
    for i, w in enumerate(weights):
        mine = [p for p in points if p["weight"] == w]
        ax.scatter([p["latency"] for p in mine], [p["accuracy"] for p in mine], color=cmap(i),
                   label=f"latency weight {w:g}", zorder=3)
        ax.scatter([p["predicted_ms"][precision] for p in mine], [p["accuracy"] for p in mine],
                   color=cmap(i), marker="x", alpha=0.6, zorder=2)
    front = pareto_front(points, cost="latency", score="accuracy")
    ax.plot([p["latency"] for p in front], [p["accuracy"] for p in front], "k--", lw=1,
            label="Pareto front (measured)", zorder=1)
    if random:
        cells = [dict(c, latency=c["measured_ms"], accuracy=c["test_accuracy"])
                 for c in random["samples"] if c.get("measured_ms") is not None]
        ax.scatter([c["latency"] for c in cells], [c["accuracy"] for c in cells], s=22,
                   marker="s", facecolors="none", edgecolors="0.5",
                   label=f"random cells ({len(cells)})", zorder=2)
        rfront = pareto_front(cells, cost="latency", score="accuracy")
        ax.plot([c["latency"] for c in rfront], [c["accuracy"] for c in rfront], ":",
                color="0.5", lw=1, label="random cells' front", zorder=1)
    ax.set_xlabel(f"TFLite {precision} latency, batch 1 (ms; o measured, x predicted)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _relative(value):
    """A path inside the repository, relative to it; any other value as it is."""
    if isinstance(value, str) and os.path.isabs(value) and \
            os.path.realpath(value).startswith(os.path.realpath(ROOT) + os.sep):
        return os.path.relpath(os.path.realpath(value), os.path.realpath(ROOT))
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.3, 1.0, 3.0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--search-preset", default="nb201-small")
    parser.add_argument("--method", default="single-darts")
    parser.add_argument("--space", default="nb201")
    parser.add_argument("--train-preset", default="nb201-small")
    parser.add_argument("--precision", default="float32", choices=["float32", "int8"],
                        help="the precision the search optimises for")
    parser.add_argument("--table", help="a latency table (default: measured into --out's "
                                        "directory for the training preset's network)")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                      "latency_sweep_nb201_2cpu.json"))
    parser.add_argument("--plot", help="write the accuracy-latency plot here")
    parser.add_argument("--baseline", help="a baseline.json of random cells with latencies "
                                           "(keras-darts baseline --latency-table) to plot "
                                           "beside the searched cells")
    args = parser.parse_args(argv)

    from keras_darts.architecture.genotype import get_genotype
    from keras_darts.latency import (
        LatencyTable, NetworkLayout, mark_units, measure_network, measure_table,
    )
    from keras_darts.search import SearchConfig, run_search
    from keras_darts.training import TrainConfig, run_training

    table_path = args.table or os.path.splitext(args.out)[0] + "_table.json"
    if not args.table:
        measure_table(NetworkLayout.from_preset(args.train_preset, args.space), args.space,
                      path=table_path)
    table = LatencyTable.load(table_path)
    if table.marks_outdated:  # structural marks only: nothing timed
        mark_units(table)
        table.save(table_path)
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               # Paths inside the repository are recorded relative to it.
               "settings": {k: _relative(v) for k, v in vars(args).items()},
               "table": _relative(table_path), "records": []}
    if os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    done = {(r["weight"], r["seed"]) for r in results["records"]}
    for seed in args.seeds:
        for weight in args.weights:
            if (weight, seed) in done:
                continue
            with tempfile.TemporaryDirectory() as work:
                t = time.time()
                config = SearchConfig.from_preset(
                    args.search_preset, method=args.method, space=args.space, seed=seed,
                    latency_table=table_path, latency_weight=weight,
                    latency_precision=args.precision)
                search = run_search(config, os.path.join(work, "search"), verbose=0)
                search_s = time.time() - t
                train = TrainConfig.from_preset(args.train_preset, genotype=search.genotype,
                                                seed=seed)
                model, summary = run_training(train, os.path.join(work, "train"), verbose=0)
                measured = measure_network(table.layout.build(search.genotype), table.precisions,
                                           threads=table.threads)
            record = {
                "weight": weight, "seed": seed, "genotype": search.genotype.to_text(),
                "test_accuracy": summary["test_accuracy"], "params_m": summary["params_m"],
                "expected_ms": search.summary["latency"]["expected_ms"],
                "predicted_ms": {p: round(table.predict(search.genotype, p), 5)
                                 for p in table.precisions},
                "measured_ms": {p: v["ms"] for p, v in measured.items()},
                "search_s": round(search_s, 1), "train_s": round(summary["wall_s"], 1)}
            results["records"].append(record)
            # A resumed run may add weights and seeds: the settings list those the records hold.
            for key in ("weight", "seed"):
                results["settings"][key + "s"] = sorted({r[key] for r in results["records"]})
            save_results(results, args.out)
            print(json.dumps(record), flush=True)
    # Predictions are the table's: made again for every record (after a change to the
    # prediction, a run with nothing left to measure brings them up to date).
    for record in results["records"]:
        genotype = get_genotype(record["genotype"])
        record["predicted_ms"] = {p: round(table.predict(genotype, p), 5)
                                  for p in table.precisions}
    save_results(results, args.out)
    if args.baseline:
        with open(args.baseline) as f:
            results["random"] = json.load(f)
        save_results(results, args.out)
    if args.plot:
        plot(results["records"], args.plot, args.precision, results.get("random"))


if __name__ == "__main__":
    main()
