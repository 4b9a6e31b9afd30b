"""Benchmark: does a unit's latency depend on the values it reads?

Latency tables time every unit on tensors of its input shape from a network of the layout
(`keras_darts.latency.reference_activations`). This times units of a layout three ways, in
float32 and int8:

* `random`: as tables were measured before, calibrated on and fed independent random values;
* `activations`: calibrated on and fed a network's tensor of that shape (how tables are
  measured now);
* `shuffled`: calibrated on that tensor, fed its values in random order (the same values,
  without their pattern).

A kernel whose time follows the values it reads shows `activations` apart from the other two.
Every unit is written as it finishes; finished ones are skipped when the script runs again
with the same `--out`.

Usage:
    python benchmarks/latency_inputs.py                       # darts-small
    python benchmarks/latency_inputs.py --layout nb201-small --ops relu nor_conv_3x3
"""

import argparse
import json
import os
import platform
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency_prediction import LAYOUTS  # noqa: E402
from reproducibility import save_results  # noqa: E402

MODES = ("random", "activations", "shuffled")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", default="darts-small", choices=sorted(LAYOUTS))
    parser.add_argument("--ops", nargs="+",
                        default=["relu", "preprocess_conv", "sep_conv_3x3", "avg_pool_3x3",
                                 "max_pool_3x3", "add", "concat"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    out = args.out or os.path.join(ROOT, "benchmarks", "results",
                                   f"latency_inputs_{args.layout.replace('-', '_')}_2cpu.json")

    from keras_darts.latency import (
        PRECISIONS, NetworkLayout, TFLiteTimer, convert_tflite, device_description,
        reference_activations, unit_inputs, unit_model,
    )
    from keras_darts.search_space.spaces import get_search_space

    space, config = LAYOUTS[args.layout]
    layout = NetworkLayout(**config)
    results = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version()},
               "device": device_description(args.threads),
               "settings": {"layout": args.layout, "threads": args.threads, "runs": args.runs,
                            "passes": args.passes, "modes": list(MODES)},
               "units": {}}
    if os.path.exists(out):
        with open(out) as f:
            results = json.load(f)
    acts = reference_activations(layout, space)
    rng = np.random.default_rng(0)
    units = [u for u in layout.candidate_units(get_search_space(space).primitives)
             if u.op in args.ops]
    for unit in units:
        if unit.key in results["units"]:
            continue
        inputs = unit_inputs(unit, acts)
        if inputs is None:
            continue
        shuffled = [rng.permutation(x.ravel()).reshape(x.shape) for x in inputs]
        model = unit_model(unit)
        entry = {}
        for p in PRECISIONS:
            uncalibrated = convert_tflite(model, p)
            timers = {"random": TFLiteTimer(uncalibrated, args.threads)}
            # float32 has nothing to calibrate: one conversion serves all three
            calibrated = (convert_tflite(model, p, samples=[inputs]) if p == "int8"
                          else uncalibrated)
            timers["activations"] = TFLiteTimer(calibrated, args.threads, inputs=inputs)
            timers["shuffled"] = TFLiteTimer(calibrated, args.threads, inputs=shuffled)
            passes = {m: [] for m in MODES}
            for _ in range(args.passes):  # modes alternate: a slow spell touches all three
                for m in MODES:
                    passes[m].append(timers[m].time(20, args.runs))
            entry[p] = {m: TFLiteTimer.best(passes[m])["ms"] for m in MODES}
        results["units"][unit.key] = entry
        save_results(results, out)
        print(unit.key, json.dumps(entry), flush=True)
    for p in PRECISIONS:
        ratios = {m: [e[p][m] / e[p]["activations"] for e in results["units"].values()]
                  for m in ("random", "shuffled")}
        by_op = {}
        for key, e in results["units"].items():
            by_op.setdefault(key.split("@")[0], []).append(e[p]["random"] / e[p]["activations"])
        results.setdefault("summary", {})[p] = {
            "random_over_activations_mean": round(float(np.mean(ratios["random"])), 3),
            "shuffled_over_activations_mean": round(float(np.mean(ratios["shuffled"])), 3),
            "random_over_activations_by_op": {op: round(float(np.mean(v)), 3)
                                              for op, v in sorted(by_op.items())}}
    save_results(results, out)
    print(json.dumps(results["summary"], indent=1))


if __name__ == "__main__":
    main()
