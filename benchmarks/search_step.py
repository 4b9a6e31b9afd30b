"""Benchmark: seconds per search step, tracing time, images/s and peak memory per strategy.

Each (configuration, strategy) runs in a fresh subprocess so that peak resident memory is
its own: `peak_rss_mb` is the process's peak (graph tracing included), `steady_peak_rss_mb`
the peak over the timed steps only (Linux: the high-water mark is reset after the first step).
With `--reference` and torch installed, the same supernet and steps written directly in
PyTorch (`torch_reference.py`: first order, second order, single level) run in the same
invocation, and the ratios are reported. Prints one JSON document and, with --out, writes it
after every case; run again with the same --out, the cases already there are not timed again.

Usage:
    python benchmarks/search_step.py                       # small preset, every strategy
    python benchmarks/search_step.py --config paper --steps 3 --reference
    python benchmarks/search_step.py --config paper small --strategies darts-1 single-level
    python benchmarks/search_step.py --strategies d-darts d-darts-no-ablation   # ablation cost
    python benchmarks/search_step.py --config tiny --strategies darts-1 --steps 2   # smoke run
    python benchmarks/search_step.py --determinism both   # the cost of determinism per strategy
    python benchmarks/search_step.py --config small --split --out split.json   # first step split
    python benchmarks/search_step.py --table split.json --before old.json   # README tables
    python benchmarks/search_step.py --precision float32 mixed_bfloat16 mixed_float16

Steps run with determinism on (`keras_darts.utils.set_determinism`), as a search does by
default; `--determinism off` times them as `--no-deterministic` runs them, and `both` times
each strategy both ways and reports `determinism_cost` (median step with / without).
`--precision` times the supernet computing in float32 (the default) or a mixed precision
(`keras_darts.utils.precision`); `--recompute` with the edges' activations recomputed in the
backward pass; each result names both.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

CONFIGS = {
    # DARTS paper supernet: 8 cells, 16 channels, 4 nodes, batch 64, 32x32x3, 10 classes.
    "paper": dict(layers=8, channels=16, steps=4, multiplier=4, stem_multiplier=3, batch=64,
                  input_shape=(32, 32, 3), num_classes=10),
    # The CLI's small preset on the embedded dataset's shape.
    "small": dict(layers=5, channels=8, steps=3, multiplier=3, stem_multiplier=3, batch=32,
                  input_shape=(28, 28, 1), num_classes=10),
    # PC-DARTS's ImageNet search supernet (the `imagenet` search preset): 8 cells, 16
    # channels, the ImageNet stem (224 -> 28 before the first cell), 1000 classes; batch 8
    # on a CPU (the paper's 1024 are spread over 8 GPUs).
    "imagenet": dict(layers=8, channels=16, steps=4, multiplier=4, stem_multiplier=3,
                     stem="imagenet", batch=8, input_shape=(224, 224, 3), num_classes=1000),
    # The same supernet with the CIFAR stem, all cells at 224 x 224: what a search on
    # ImageNet built before the ImageNet stem.
    "imagenet-cifar-stem": dict(layers=8, channels=16, steps=4, multiplier=4,
                                stem_multiplier=3, batch=8, input_shape=(224, 224, 3),
                                num_classes=1000),
    # The test suite's tiny supernet: a quick check that the script runs, not a measurement.
    "tiny": dict(layers=3, channels=4, steps=2, multiplier=2, stem_multiplier=1, batch=16,
                 input_shape=(28, 28, 1), num_classes=10),
}
STRATEGIES = {
    "darts-1": ("darts", {"order": 1}),
    "darts-2": ("darts", {"order": 2}),
    # Second order whose weight step reuses the virtual step's gradient: 4 passes, not 5.
    "darts-2-reuse": ("darts", {"order": 2, "reuse_train_gradient": True}),
    "single-level": ("single-level", {}),
    "single-darts": ("single-darts", {}),
    "sp-darts": ("sp-darts", {"order": 1, "t_sp": 1e-3}),
    # D-DARTS with the ablation loss (n extra forward passes) and without (FairDARTS loss).
    "d-darts": ("d-darts", {"w_abl": 0.5}),
    "d-darts-no-ablation": ("d-darts", {"w_abl": 0.0}),
    # PC-DARTS options on the first-order search: K=4 partial channels, edge normalisation.
    "pc-darts": ("darts", {"order": 1, "partial_channels": 4, "edge_normalization": True}),
    # DARTS-PD stage 2: a pruned supernet (top-2 ops of the derived topology), k=2 paths a step.
    "darts-pd": ("darts-pd", {"top_k": 2}),
}


#: strategies the PyTorch reference implements (`torch_reference.KINDS`).
TORCH_KINDS = ("darts-1", "darts-2", "single-level")


def _peak_rss_mb():
    """This process's peak resident memory (VmHWM) in MB, or None where /proc has none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Resets VmHWM to the current resident size (Linux `clear_refs`); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _time_steps(run_step, steps):
    """Runs `run_step()` once (first step, tracing included), then `steps` times.

    `run_step` must block until the step is done (return a Python float).
    Returns a dict: `first_step_s`, `median_step_s`, `peak_rss_mb` (the whole
    process, tracing included) and `steady_peak_rss_mb` (the peak over the
    timed steps only, when the kernel lets it be reset; else None).
    """
    import numpy as np

    t = time.perf_counter()
    run_step()
    first = time.perf_counter() - t
    peak_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    can_reset = _reset_peak_rss()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        run_step()
        times.append(time.perf_counter() - t)
    steady = _peak_rss_mb() if can_reset else None
    # getrusage's maximum and /proc's VmHWM are kept apart by the kernel (the first is not
    # reset by clear_refs and can lag the second by a page or so); the whole run's peak is at
    # least the timed steps' peak.
    peak = max(peak_first, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, steady or 0)
    return {"first_step_s": round(first, 2), "median_step_s": round(float(np.median(times)), 3),
            "peak_rss_mb": round(peak), "steady_peak_rss_mb": steady}


def _trace_split(step, data):
    """Traces `step` on `data` (no run) and says where the tracing time went.

    Returns a dict: `trace_s` (Python tracing of the step into a graph, all of it),
    `autograph_s` (AutoGraph's source conversion within it), `gradient_s` (building the
    gradient graphs: `GradientTape.gradient` calls, outermost only), `graph_nodes` (nodes
    of the traced graph and of the functions in its library).
    """
    from tensorflow.python.autograph.impl import api as autograph_api
    from tensorflow.python.eager import backprop

    spent = {"autograph": 0.0, "gradient": 0.0}
    depth = [0]
    transpiler = autograph_api._TRANSPILER
    transform, gradient = transpiler.transform, backprop.GradientTape.gradient

    def timed_transform(*args, **kwargs):
        t = time.perf_counter()
        try:
            return transform(*args, **kwargs)
        finally:
            spent["autograph"] += time.perf_counter() - t

    def timed_gradient(self, *args, **kwargs):
        depth[0] += 1
        t = time.perf_counter()
        try:
            return gradient(self, *args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:
                spent["gradient"] += time.perf_counter() - t

    transpiler.transform, backprop.GradientTape.gradient = timed_transform, timed_gradient
    try:
        t = time.perf_counter()
        concrete = step.get_concrete_function(data)
        trace = time.perf_counter() - t
    finally:
        transpiler.transform, backprop.GradientTape.gradient = transform, gradient
    graph = concrete.graph.as_graph_def()
    nodes = len(graph.node) + sum(len(f.node_def) for f in graph.library.function)
    return {"trace_s": round(trace, 2), "autograph_s": round(spent["autograph"], 2),
            "gradient_s": round(spent["gradient"], 2), "graph_nodes": nodes}


#: Grappler logs each pass of its meta optimizer at this verbosity (`--split`).
GRAPPLER_LOG = {"TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_VMODULE": "meta_optimizer=1"}


def grappler_split(log):
    """Grappler's share of a first step, from the meta optimizer's log lines in `log`.

    Returns a dict: `grappler_s` (wall seconds from its first to its last log line: the
    graph optimisation that runs when the traced step is first called), `grappler_passes_s`
    (seconds per pass, summed over the graph and its functions, largest first), or an
    empty dict when `log` has no such lines.
    """
    import re

    stamps, passes = [], {}
    for line in log.splitlines():
        if "meta_optimizer.cc" not in line:
            continue
        stamp = re.match(r"\S+ \d\d:\d\d:(\d+\.\d+)", line)
        if stamp:
            stamps.append(float(stamp.group(1)))
        done = re.search(r"\] ([\w-]+)(?:\{.*\})?: Graph size after: .*time = ([\d.]+)ms", line)
        if done:
            passes[done.group(1)] = passes.get(done.group(1), 0.0) + float(done.group(2)) / 1e3
    if not stamps:
        return {}
    return {"grappler_s": round(stamps[-1] - stamps[0], 2),
            "grappler_passes_s": {k: round(v, 2) for k, v in
                                  sorted(passes.items(), key=lambda kv: -kv[1])}}


def _child(config_name, strategy, steps, deterministic=True, split=False,
           precision="float32", recompute=False):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from keras_darts.strategies import create_search_model, prune_supernet
    from keras_darts.utils import set_determinism
    from keras_darts.utils.graph_options import quick_graph_optimization

    set_determinism(deterministic)

    cfg = dict(CONFIGS[config_name])
    batch = cfg.pop("batch")
    method, extra = STRATEGIES[strategy]
    if method == "darts-pd":
        model = prune_supernet(create_search_model("darts", seed=0, alpha_init_scale=1.0,
                                                   precision=precision, recompute=recompute,
                                                   **cfg),
                               k=extra["top_k"])
    else:
        model = create_search_model(method, seed=0, precision=precision, recompute=recompute,
                                    **cfg, **extra)
    model.compile(epochs=50, steps_per_epoch=100)
    rng = np.random.default_rng(0)
    shape = (batch,) + tuple(cfg["input_shape"])

    def batch_pair():
        x = tf.constant(rng.normal(size=shape).astype("float32"))
        y = tf.constant(rng.integers(0, cfg["num_classes"], batch))
        return x, y

    data = batch_pair() if model.data_mode in ("single", "split") else (batch_pair(),
                                                                         batch_pair())
    step = tf.function(model.train_step)
    # The step's graph optimised as `fit` optimises it.
    with quick_graph_optimization(model.quick_graph_optimization):
        split = _trace_split(step, data) if split else {}
        timing = _time_steps(lambda: float(step(data)["loss"]), steps)
    if split:
        split["first_call_s"] = timing["first_step_s"]
        timing["first_step_s"] = round(split["trace_s"] + timing["first_step_s"], 2)
    return {
        "config": config_name, "strategy": strategy, "deterministic": deterministic,
        "precision": precision, "recompute": recompute, "batch": batch, **timing, **split,
        "images_per_s": round(batch / timing["median_step_s"], 1), "steps_timed": steps,
        "weights_m": round(sum(int(np.prod(v.shape)) for v in model.weight_variables) / 1e6, 3),
    }


def _torch_child(config_name, strategy, steps):
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_reference import Network, make_step

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    cfg = dict(CONFIGS[config_name])
    batch = cfg["batch"]
    h, w, c = cfg["input_shape"]
    net = Network(cfg["channels"], cfg["num_classes"], cfg["layers"], cfg["steps"],
                  cfg["multiplier"], cfg["stem_multiplier"], c)
    step = make_step(strategy, net)
    gen = torch.Generator().manual_seed(0)

    def batch_pair():
        return (torch.randn(batch, c, h, w, generator=gen),
                torch.randint(0, cfg["num_classes"], (batch,), generator=gen))

    data = batch_pair() if strategy == "single-level" else (batch_pair(), batch_pair())
    timing = _time_steps(lambda: float(step(data)), steps)
    return {
        "config": config_name, "strategy": strategy, "implementation": "pytorch",
        "torch": torch.__version__, "batch": batch, **timing,
        "images_per_s": round(batch / timing["median_step_s"], 1), "steps_timed": steps,
    }


#: how the README names each strategy of `STRATEGIES`.
LABELS = {
    "darts-1": "DARTS 1st order", "darts-2": "DARTS 2nd order",
    "darts-2-reuse": "2nd order, `reuse_train_gradient`", "single-level": "single-level",
    "single-darts": "Single-DARTS (sigmoid)", "sp-darts": "SP-DARTS (bi-level, 1st order)",
    "d-darts": "D-DARTS (ablation loss)", "d-darts-no-ablation": "D-DARTS without ablation loss",
    "pc-darts": "PC-DARTS options (K=4, edge norm.)", "darts-pd": "DARTS-PD stage 2 (k=2 paths)",
}


def _mine(doc, config, precision="float32", recompute=False):
    mine = {}
    for r in doc["results"]:  # the first result of a strategy counts
        if (r["config"] == config and r.get("implementation") == "keras_darts"
                and "error" not in r and r.get("precision", "float32") == precision
                and bool(r.get("recompute")) == recompute):
            mine.setdefault(r["strategy"], r)
    return mine


def _recompute_table(recomputed, kept):
    """Recomputed activations against kept ones, one row per strategy (Markdown)."""
    lines = ["| strategy | s/step kept -> recomputed | peak RSS kept -> recomputed | "
             "first step kept -> recomputed |", "|---|---|---|---|"]
    for s in [s for s in STRATEGIES if s in recomputed]:
        r, k = recomputed[s], kept.get(s)
        if k is None:
            lines.append(f"| {LABELS.get(s, s)} | {r['median_step_s']:.2f} s | "
                         f"{r['peak_rss_mb'] / 1024:.1f} GiB | {r['first_step_s']:.0f} s |")
            continue
        lines.append(
            f"| {LABELS.get(s, s)} | {k['median_step_s']:.2f} -> {r['median_step_s']:.2f} s "
            f"({r['median_step_s'] / k['median_step_s']:.2f}x) | "
            f"{k['peak_rss_mb'] / 1024:.1f} -> {r['peak_rss_mb'] / 1024:.1f} GiB | "
            f"{k['first_step_s']:.0f} -> {r['first_step_s']:.0f} s |")
    return "\n".join(lines) + "\n"


def markdown_tables(doc, config, before=None):
    """The README's tables of `doc` (this script's JSON) for `config`, as Markdown.

    One row per strategy: seconds per step, images per second, peak memory and the first
    step, with the first step of `before` (an earlier JSON) beside it where it has the
    strategy. Where `doc` has `--split` results, a second table splits the first step;
    where it has mixed-precision results, a third sets them beside float32. A document
    of `--recompute` results gives one table: each strategy recomputed against its run
    with kept activations (in `doc`, else in `before`).

    Args:
        doc: a JSON document written by this script.
        config: `"small"`, `"paper"` or `"tiny"`.
        before: an earlier document to compare first steps with, or None.

    Returns:
        Markdown text (empty if `doc` has no result for `config`).
    """
    rows = _mine(doc, config)
    old = _mine(before, config) if before else {}
    recomputed = _mine(doc, config, recompute=True)
    if recomputed:  # kept activations: this document's runs, else the earlier ones
        return _recompute_table(recomputed, {**old, **rows})
    if not rows:
        return ""
    order = [s for s in STRATEGIES if s in rows]
    head = "| strategy | s/step | images/s | peak RSS | first step |"
    if old:
        head += " first step before |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for s in order:
        r = rows[s]
        line = (f"| {LABELS.get(s, s)} | {r['median_step_s']:.2f} | {r['images_per_s']:.1f} | "
                f"{r['peak_rss_mb'] / 1024:.1f} GiB | {r['first_step_s']:.0f} s |")
        if old:
            line += f" {old[s]['first_step_s']:.0f} s |" if s in old else " |"
        lines.append(line)
    split = [s for s in order if "trace_s" in rows[s]]
    if split:
        lines += ["", "| strategy | first step | tracing | of which AutoGraph / gradients | "
                      "graph nodes | Grappler | runtime setup | steady step |",
                  "|---|---|---|---|---|---|---|---|"]
        for s in split:
            r, o = rows[s], old.get(s) if "trace_s" in old.get(s, {}) else None

            def cell(key, fmt, unit=" s"):
                now = format(r.get(key, float("nan")), fmt) + unit
                return f"{format(o[key], fmt)}{unit} -> {now}" if o and key in o else now

            lines.append(
                f"| {LABELS.get(s, s)} | {cell('first_step_s', '.0f')} | "
                f"{cell('trace_s', '.1f')} | {cell('autograph_s', '.1f')} / "
                f"{cell('gradient_s', '.1f')} | {cell('graph_nodes', 'd', '')} | "
                f"{cell('grappler_s', '.1f')} | {cell('runtime_setup_s', '.1f')} | "
                f"{cell('median_step_s', '.2f')} |")
    mixed = [p for p in ("mixed_bfloat16", "mixed_float16") if _mine(doc, config, p)]
    if mixed:
        lows = {p: _mine(doc, config, p) for p in mixed}
        head = "| strategy | float32 s/step |" + "".join(
            f" {p} s/step (x float32) | {p} peak RSS | {p} first step |" for p in mixed)
        lines += ["", head, "|" + "---|" * (head.count("|") - 1)]
        for s in [s for s in order if any(s in lows[p] for p in mixed)]:
            base = rows[s]["median_step_s"]
            line = f"| {LABELS.get(s, s)} | {base:.2f} |"
            for p in mixed:
                r = lows[p].get(s)
                line += (f" {r['median_step_s']:.2f} ({r['median_step_s'] / base:.2f}x) | "
                         f"{r['peak_rss_mb'] / 1024:.1f} GiB | {r['first_step_s']:.0f} s |"
                         if r else " | | |")
            lines.append(line)
    return "\n".join(lines) + "\n"


def _run_child(args_list, split=False):
    env = {**os.environ, **GRAPPLER_LOG} if split else None
    proc = subprocess.run([sys.executable, __file__, *args_list, *(["--split"] if split else [])],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        return {"error": proc.stderr[-1000:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if split:
        result.update(grappler_split(proc.stderr))
        if "grappler_s" in result:
            # What is left of the first call: placement, function inlining, partitioning,
            # kernel creation (the step's own execution, `median_step_s`, taken out).
            result["runtime_setup_s"] = round(max(0.0, result["first_call_s"] - result[
                "grappler_s"] - result["median_step_s"]), 2)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", default=["small"], choices=sorted(CONFIGS))
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES),
                        choices=sorted(STRATEGIES))
    parser.add_argument("--steps", type=int, default=5, help="timed steps after the first")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument("--reference", action="store_true",
                        help="also time the PyTorch reference (needs torch)")
    parser.add_argument("--determinism", choices=("on", "off", "both"), default="on",
                        help="time the steps with determinism on (a search's default), off, "
                             "or both ways")
    parser.add_argument("--split", action="store_true",
                        help="also split the first step: tracing (AutoGraph, gradient graphs), "
                             "Grappler (per pass), runtime setup")
    parser.add_argument("--table", nargs="+", metavar="JSON",
                        help="print the README's Markdown tables of these results (no run)")
    parser.add_argument("--before", nargs="+", metavar="JSON",
                        help="with --table: earlier results to set the first steps beside")
    parser.add_argument("--precision", nargs="+", default=["float32"],
                        choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        help="time the supernet in these precisions (each a case of its own)")
    parser.add_argument("--recompute", action="store_true",
                        help="recompute the edges' activations in the backward pass "
                             "(SearchModel(recompute=True))")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--torch-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({**_child(args.child[0], args.child[1], args.steps,
                                   args.child[2] == "on", args.split, args.precision[0],
                                   args.recompute),
                          "implementation": "keras_darts"}))
        return
    if args.table:
        before = None
        for path in args.before or ():  # later files' results first
            with open(path) as f:
                results = json.load(f)["results"]
            before = {"results": results + (before["results"] if before else [])}
        for path in args.table:
            with open(path) as f:
                doc = json.load(f)
            for config in args.config if "--config" in sys.argv else sorted(CONFIGS):
                text = markdown_tables(doc, config, before)
                if text:
                    print(f"{config} ({path}):\n\n{text}")
        return
    if args.torch_child:
        print(json.dumps(_torch_child(args.torch_child[0], args.torch_child[1], args.steps)))
        return
    has_torch = False
    if args.reference:
        import importlib.util

        has_torch = importlib.util.find_spec("torch") is not None
        if not has_torch:
            print("torch is not installed: skipping the PyTorch reference", file=sys.stderr)
    import tensorflow as tf

    doc = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "tensorflow": tf.__version__}, "results": []}
    if args.out and os.path.exists(args.out):  # a run cut off goes on where it stopped
        with open(args.out) as f:
            doc["results"] = json.load(f)["results"]
    results = doc["results"]

    def save():
        if args.out:
            with open(args.out + ".tmp", "w") as f:
                f.write(json.dumps(doc, indent=2) + "\n")
            os.replace(args.out + ".tmp", args.out)

    def timed_before(config, strategy, implementation, deterministic=None, precision=None):
        for r in results:
            if (r["config"], r["strategy"], r.get("implementation")) == (
                    config, strategy, implementation) and "error" not in r and (
                    r.get("precision", "float32") == (precision or "float32")) and (
                    implementation == "pytorch" or r.get("recompute", False) == args.recompute
                    ) and (
                    implementation == "pytorch" or (r.get("deterministic") == deterministic
                                                    and ("trace_s" in r) == args.split)):
                return r
        return None

    for config, precision, strategy in [(c, p, s) for c in args.config
                                        for p in args.precision
                                        for s in args.strategies]:
        steps = ["--steps", str(args.steps), "--precision", precision,
                 *(["--recompute"] if args.recompute else [])]
        modes = ("on", "off") if args.determinism == "both" else (args.determinism,)
        timed = {}
        for mode in modes:
            timed[mode] = timed_before(config, strategy, "keras_darts", mode == "on", precision)
            if timed[mode] is None:
                timed[mode] = {"config": config, "strategy": strategy, "precision": precision,
                               "recompute": args.recompute,
                               **_run_child(["--child", config, strategy, mode, *steps],
                                            args.split)}
                results.append(timed[mode])
                print(json.dumps(timed[mode]), file=sys.stderr)
        mine = timed[modes[0]]
        if len(modes) == 2 and all("median_step_s" in t for t in timed.values()):
            mine["determinism_cost"] = round(
                timed["on"]["median_step_s"] / timed["off"]["median_step_s"], 3)
            mine["determinism_first_step_cost"] = round(
                timed["on"]["first_step_s"] / timed["off"]["first_step_s"], 3)
        save()
        if (has_torch and strategy in TORCH_KINDS and precision == "float32"
                and not args.recompute and "stem" not in CONFIGS[config]):  # CIFAR stem only
            ref = timed_before(config, strategy, "pytorch")
            if ref is None:
                ref = {"config": config, "strategy": strategy,
                       **_run_child(["--torch-child", config, strategy, *steps])}
                results.append(ref)
                print(json.dumps(ref), file=sys.stderr)
            if "median_step_s" in ref and "median_step_s" in mine:
                mine["speedup_vs_pytorch"] = round(
                    ref["median_step_s"] / mine["median_step_s"], 2)
                mine["memory_ratio_vs_pytorch"] = round(
                    mine["peak_rss_mb"] / ref["peak_rss_mb"], 2)
                if mine.get("steady_peak_rss_mb") and ref.get("steady_peak_rss_mb"):
                    mine["steady_memory_ratio_vs_pytorch"] = round(
                        mine["steady_peak_rss_mb"] / ref["steady_peak_rss_mb"], 2)
            save()
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
