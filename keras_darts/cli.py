"""The `keras-darts` command line.

Subcommands:
    search    run an architecture search (`keras-darts search --preset small --out runs/demo`)
    train     train a genotype's network stand-alone (`keras-darts train --genotype DARTS_V2`)
    export    export a trained network to SavedModel / ONNX / TFLite with parity checks
    profile   parameters, multiply-adds and measured latency of a genotype's network
    latency-table  time a search space's ops on this device's TFLite (or import times)
    latency   a genotype's predicted (and measured) TFLite latency from a latency table
    genotype  show, validate or draw a genotype (`keras-darts genotype DARTS_V2 --plot out/`)
    baseline  rank a searched cell among random cells of its space, trained identically
    compare   trained networks side by side: accuracy, size, TFLite latency, training time
"""

import argparse
import dataclasses
import os
import sys

# Quiet TensorFlow's C++ start-up log before anything imports it (users may override).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _add_config_flags(p, config_cls, skip=()):
    """One flag per dataclass field (`--learning-rate`, `--no-auxiliary`, ...), default None.

    A field's `help` and `choices` metadata (`keras_darts.utils.config.setting`) go to its flag.
    """
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        text = field.metadata.get("help")
        if field.metadata.get("choices"):  # checked with the settings, not by argparse
            text += f": one of {', '.join(map(str, field.metadata['choices']))}"
        default = f"(default: the preset's, else {field.default!r})"
        text = f"{text} {default}" if text else default
        if isinstance(field.default, bool):
            p.add_argument(flag, dest=field.name, default=None, help=text,
                           action=argparse.BooleanOptionalAction)
            continue
        kind = type(field.default) if field.default is not None else field.type
        if kind is object:  # a name or a path on the command line (e.g. the genotype)
            kind = str
        if kind in (int, float, str):
            p.add_argument(flag, dest=field.name, type=kind, default=None, help=text)


def _search_methods(argv):
    """The method of a `search` command line and the one its runs also take (DARTS-PD's stage-1
    method), as `[(name, Settings class), ...]`; empty for an unknown method."""
    from keras_darts.search import SearchConfig, search_method, settings_classes

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--method", default=SearchConfig.method)
    pre.add_argument("--preset", default="small")
    known, _ = pre.parse_known_args(argv)
    try:
        own = search_method(known.method).Settings
    except ValueError:
        return []  # SearchConfig names the unknown method, with the known ones
    _add_config_flags(pre, own)  # the method's own flags may name its stage-1 method
    given, _ = pre.parse_known_args(argv)
    values = {k: v for k, v in vars(given).items() if v is not None and k in own.names()}
    try:
        return settings_classes(known.method, values, known.preset)
    except ValueError:  # an unknown stage-1 method: its validation names it
        return [(known.method, own)]


def _overrides(args, exclude):
    return {k: v for k, v in vars(args).items() if k not in exclude and v is not None}


def _search_parser(sub, argv):
    from keras_darts.search import PRESETS, SearchConfig

    methods, known = [], ""
    if argv[:1] == ["search"]:  # the strategies (and TensorFlow) load for a search only
        from keras_darts.search import search_method_names

        methods = _search_methods(argv)
        known = f" Methods: {', '.join(search_method_names())}."
    p = sub.add_parser(
        "search", help="run an architecture search",
        description="Run a differentiable architecture search. A preset sets every "
                    "hyperparameter; flags override it. Each method has its own settings "
                    "besides the shared ones: `keras-darts search --method M --help` lists "
                    f"M's.{known}",
    )
    p.add_argument("--preset", default="small", choices=sorted(PRESETS),
                   help="'paper': DARTS's CIFAR-10 settings; 'imagenet': PC-DARTS's search "
                        "on ImageNet (the ImageNet stem, 12.5%% of ImageNet); 'small': minutes "
                        "on 2 CPU cores on the embedded dataset (default)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    _add_config_flags(p, SearchConfig)
    for i, (name, settings) in enumerate(methods):
        title = f"settings of {name}" + (" (its stage-1 search)" if i else "")
        _add_config_flags(p.add_argument_group(title), settings)
    return p


def _run_search(args):
    from keras_darts.search import SearchConfig, run_search

    overrides = _overrides(args, ("command", "preset", "out", "verbose", "func"))
    config = SearchConfig.from_preset(args.preset, **overrides)
    result = run_search(config, args.out, verbose=args.verbose)
    moved = result.summary.get("architecture", {})
    if "alpha_change_max" in moved and "stable_epochs" in moved:
        print(f"\nArchitecture parameters moved by up to {moved['alpha_change_max']:.3f} "
              f"(mean {moved['alpha_change_mean']:.3f}) from their initial values; the derived "
              f"cell has been the same for the last {moved['stable_epochs']} of "
              f"{moved['epochs']} epochs.")
    fallback = result.summary.get("derivation", {}).get("fallback_share")
    if fallback:  # D-DARTS: the threshold parser could not fill every node
        d = result.summary["derivation"]
        print(f"\n{fallback:.0%} of the nodes had no op at or above threshold={d['threshold']} "
              f"(the search did not push the sigmoid weights to 0 or 1); "
              + ("each keeps its strongest op." if d["min_node_inputs"] else "they are empty."))
    print("\nDerived genotype:")
    print(result.genotype.render())
    print(f"\n{result.genotype.to_text()}")
    if "pareto" in result.summary:  # DARTS-PD: a family of architectures
        print("\nPareto front (parameters M, held-out accuracy) in stage3/pareto/:")
        for rank, r in enumerate(result.summary["pareto"]):
            print(f"  arch_{rank:02d}.json  {r['params']:.4f}  {r['accuracy']:.4f}")
    print(f"\nResults in {os.path.abspath(args.out)}")
    return 0


def _train_parser(sub):
    from keras_darts.training import TRAIN_PRESETS, TrainConfig

    p = sub.add_parser(
        "train", help="train a genotype's network stand-alone",
        description="Train the network of a genotype as the papers evaluate it (SGD, cosine, "
                    "cutout, drop-path, auxiliary head), then report its test accuracy. "
                    "--network trains a hand-designed reference network (plain-cnn, "
                    "resnet20) instead, with the same data, schedule and budget.")
    p.add_argument("--preset", default="small", choices=sorted(TRAIN_PRESETS),
                   help="'cifar': DARTS's CIFAR-10 evaluation; 'imagenet': mobile setting; "
                        "'small': minutes on 2 CPU cores (default)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.add_argument("--same-time-as", metavar="RUN",
                   help="a finished training run: train for as long as it trained (its "
                        "fit_wall_s as --budget-seconds), to compare two networks at equal "
                        "time")
    _add_config_flags(p, TrainConfig)
    return p


def _run_train(args):
    from keras_darts.training import TrainConfig, run_training

    if args.same_time_as is not None:
        from keras_darts.training import finished_run_paths
        from keras_darts.utils import read_json

        if args.budget_seconds is not None:
            raise ValueError("Give --budget-seconds or --same-time-as, not both.")
        path = finished_run_paths(args.same_time_as, ("summary.json",))["summary.json"]
        done = read_json(path)
        # Its time in `fit()`, which is what a budget counts (runs saved before that was
        # recorded: their whole wall time).
        args.budget_seconds = round(float(done.get("fit_wall_s", done["wall_s"])), 1)
    config = TrainConfig.from_preset(
        args.preset, **_overrides(args, ("command", "preset", "out", "verbose", "func",
                                         "same_time_as")))
    _, summary = run_training(config, args.out, verbose=args.verbose)
    print(f"\nTest accuracy: {summary['test_accuracy']:.4f}  params: {summary['params_m']} M  "
          f"multiply-adds: {summary['macs_m']} M")
    print(f"Model and summary in {os.path.abspath(args.out)}")
    return 0


def _export_parser(sub):
    from keras_darts.export import FORMATS

    p = sub.add_parser(
        "export", help="export a network to SavedModel / ONNX / TFLite, verified",
        description="Export a trained network (a .keras file from `keras-darts train`). Each "
                    "artifact is loaded by its own runtime, compared with Keras on real test "
                    "images, and its parity report saved beside it; a failed check exits 1 "
                    "and leaves no artifact under the final name.")
    p.add_argument("--model", required=True, help="a .keras model file")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--dataset", default="fashion_mnist_subset",
                   help="data for parity checks and int8 calibration: a dataset name, "
                        "'tfds:NAME' or an image folder (default: embedded)")
    p.add_argument("--data-dir")
    p.add_argument("--formats", nargs="+", default=list(FORMATS), metavar="FORMAT",
                   help=f"subset of {list(FORMATS)}")
    p.add_argument("--quantizations", nargs="+", default=["float32", "float16", "dynamic", "int8"],
                   metavar="Q", help="TFLite variants: float32 float16 dynamic int8")
    p.add_argument("--opset", type=int, help="ONNX opset (default: tf2onnx's)")
    p.add_argument("--num-images", type=int, default=200,
                   help="test images for the parity checks")
    p.add_argument("--calibration-images", type=int, default=200,
                   help="training images for int8 calibration")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the test and calibration samples (spread over the classes)")
    return p


def _run_export(args):
    import keras

    from keras_darts.data import sample_images
    from keras_darts.data.sources import open_source
    from keras_darts.export import export_all

    quant = {"float32": None, "float16": "float16", "dynamic": "dynamic", "int8": "int8"}
    bad = [q for q in args.quantizations if q not in quant]
    if bad:
        raise ValueError(f"Unknown quantizations {bad}. Supported: {list(quant)}.")
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"No model file {args.model!r}.")
    model = keras.models.load_model(args.model)
    source = open_source(args.dataset, data_dir=args.data_dir, image_size=model.input_shape[1])
    # Seeded samples spread over the classes: a folder's first images are all one class.
    images = sample_images(source, args.num_images, "eval", seed=args.seed)[0]
    calib = sample_images(source, args.calibration_images, "train", seed=args.seed)[0]
    reports = export_all(model, args.out, images, calib, formats=args.formats,
                         quantizations=[quant[q] for q in args.quantizations], opset=args.opset)
    for name, r in reports.items():
        print(f"{name:18s} max|diff| {r['max_abs_diff']:.2e}  top-1 agreement "
              f"{r['top1_agreement']:.3f}  -> {r['path']}")
    return 0


def _profile_parser(sub):
    from keras_darts.networks import NETWORK_PRESETS

    p = sub.add_parser("profile", help="parameters, multiply-adds and latency of a network",
                       description="Count parameters (auxiliary head excluded) and "
                                   "multiply-adds as the papers' tables do; optionally measure "
                                   "per-image latency with Keras, ONNX Runtime and TFLite.")
    p.add_argument("genotype", help="a published name, a genotype.json, or a .keras model")
    p.add_argument("--preset", default="cifar", choices=sorted(NETWORK_PRESETS))
    p.add_argument("--layers", type=int)
    p.add_argument("--channels", type=int)
    p.add_argument("--cells-per-stage", type=int, help="NAS-Bench-201 cells per stage")
    p.add_argument("--input-shape", type=int, nargs=3, metavar=("H", "W", "C"))
    p.add_argument("--num-classes", type=int)
    p.add_argument("--latency", action="store_true",
                   help="also measure per-image latency (exports to ONNX and TFLite fp32/int8)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def _run_profile(args):
    import json

    from keras_darts.networks import NETWORK_PRESETS, build_network
    from keras_darts.profiling import RUNTIMES, export_latency, profile

    if args.genotype.endswith(".keras"):
        import keras

        model = keras.models.load_model(args.genotype)
    else:
        kw = dict(NETWORK_PRESETS[args.preset])
        for key in ("layers", "channels", "num_classes", "cells_per_stage"):
            if getattr(args, key) is not None:
                kw[key] = getattr(args, key)
        if args.input_shape:
            kw["input_shape"] = tuple(args.input_shape)
        # The deployable network: no auxiliary head (NAS-Bench-201 networks have none).
        model = build_network(args.genotype, auxiliary=False, **kw)
    result = profile(model)
    if args.latency:
        result["latency"] = export_latency(model, RUNTIMES, runs=30, warmup=5)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"params: {result['params_m']:.3f} M   multiply-adds: {result['macs_m']:.1f} M   "
              f"input: {result['input_shape']}")
        for k, v in result.get("latency", {}).items():
            print(f"  {k}: {v:.2f} ms/image")
    return 0


def _latency_table_parser(sub):
    from keras_darts.training import TRAIN_PRESETS

    p = sub.add_parser(
        "latency-table", help="measure (or import) a latency table for hardware-aware search",
        description="Time every candidate op of a search space at every input size, channel "
                    "count and stride of a network, and its fixed parts (stem, cell "
                    "preprocessing, sums, concatenations, head), with the TFLite interpreter "
                    "(float32 and int8, batch 1, fixed threads; median and interquartile range "
                    "over repeated runs after warm-up), and save them as JSON with the "
                    "device's description. `--write-units` writes the unit models to time "
                    "elsewhere (e.g. on a phone with TFLite's benchmark_model) and `--import` "
                    "reads those times back from CSV (columns unit, precision, ms, spread_ms). "
                    "Use the table with `keras-darts search --latency-table`.")
    p.add_argument("--space", default="darts", help="the search space (its candidate ops)")
    p.add_argument("--op-subsets", help="JSON file of per-edge op subsets (space s1)")
    p.add_argument("--preset", default="small", choices=sorted(TRAIN_PRESETS),
                   help="the network: a training preset's (cells, channels, stem, input), with "
                        "the cells of the search preset of that name (default: small)")
    for flag in ("layers", "channels", "steps", "multiplier", "cells-per-stage",
                 "num-classes", "stem-multiplier"):
        p.add_argument(f"--{flag}", type=int, help=f"override the preset's {flag}")
    p.add_argument("--stem", choices=("cifar", "imagenet"), help="override the preset's stem")
    p.add_argument("--input-shape", type=int, nargs=3, metavar=("H", "W", "C"))
    p.add_argument("--precisions", nargs="+", default=["float32", "int8"],
                   choices=["float32", "int8"])
    p.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    p.add_argument("--runs", type=int, default=100, help="timed runs per unit (default 100)")
    p.add_argument("--warmup", type=int, default=20, help="untimed runs first (default 20)")
    p.add_argument("--import", dest="import_csv", metavar="CSV",
                   help="build the table from times measured elsewhere instead of here")
    p.add_argument("--device", help="with --import: a description of the device the times "
                                    "come from")
    p.add_argument("--write-units", metavar="DIR",
                   help="write every unit as DIR/<precision>/<unit>.tflite instead of timing")
    p.add_argument("--out", help="the table's JSON file (resumed if it exists)")
    return p


def _run_latency_table(args):
    from keras_darts.latency import (
        LatencyTable, NetworkLayout, mark_units, measure_table, write_unit_models,
    )
    from keras_darts.search_space.spaces import get_search_space

    space = get_search_space(args.space, args.op_subsets)
    overrides = {k: getattr(args, k) for k in ("layers", "channels", "steps", "multiplier",
                                                "cells_per_stage", "num_classes",
                                                "stem_multiplier", "stem")}
    if args.input_shape:
        overrides["input_shape"] = tuple(args.input_shape)
    layout = NetworkLayout.from_preset(args.preset, space, **overrides)
    if args.write_units:
        files = write_unit_models(layout, space, args.write_units, args.precisions)
        print(f"{len(files)} unit models in {args.write_units}: time each on the device and "
              "import the times with --import CSV (columns unit, precision, ms, spread_ms).")
        return 0
    if not args.out:
        raise ValueError("latency-table needs --out (the table's JSON file).")
    if args.import_csv:
        table = LatencyTable.from_csv(args.import_csv, layout, space.name, space.primitives,
                                      {"description": args.device} if args.device else None)
        table.check_space(space.primitives, layout, table.precisions[0])
        # How each unit's graph begins and ends (shared and fused ReLUs) is the converted
        # graph's, whatever the device: converted here, not timed.
        mark_units(table)
        table.save(args.out)
    else:
        def progress(done, total, what):
            print(f"\r{done}/{total} {what:<60s}", end="", flush=True)

        table = measure_table(layout, space, precisions=args.precisions, threads=args.threads,
                              warmup=args.warmup, runs=args.runs, path=args.out,
                              progress=progress)
        print()
    counts = ", ".join(f"{len(table.entries[p])} {p}" for p in table.precisions)
    print(f"Latency table of space {space.name!r} for {layout.to_dict()}: {counts} units "
          f"-> {args.out}")
    return 0


def _latency_parser(sub):
    p = sub.add_parser(
        "latency", help="a genotype's predicted (and measured) TFLite latency",
        description="Predict a genotype's network latency from a latency table (the sum of its "
                    "units), and with --measure export it to TFLite and time it the same way.")
    p.add_argument("genotype", help="a published name, a genotype.json or an arch string")
    p.add_argument("--table", required=True, help="a latency table (keras-darts latency-table)")
    p.add_argument("--measure", action="store_true", help="also export and time the network")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def _run_latency(args):
    import json

    from keras_darts.architecture.genotype import get_genotype
    from keras_darts.latency import LatencyTable, measure_network

    table = LatencyTable.load(args.table)
    genotype = args.genotype if args.genotype.startswith("|") else get_genotype(args.genotype)
    result = {"predicted_ms": {p: round(table.predict(genotype, p), 4)
                               for p in table.precisions}}
    if args.measure:
        measured = measure_network(table.layout.build(genotype), table.precisions,
                                   threads=table.threads)
        result["measured_ms"] = {p: v["ms"] for p, v in measured.items()}
    if args.json:
        print(json.dumps(result))
        return 0
    for p in table.precisions:
        line = f"{p:8s} predicted {result['predicted_ms'][p]:8.4f} ms"
        if args.measure:
            line += f"   measured {result['measured_ms'][p]:8.4f} ms"
        print(line)
    return 0


def _genotype_parser(sub):
    p = sub.add_parser("genotype", help="show, validate or draw a genotype",
                       description="Show a published genotype or a genotype.json, validate it, "
                                   "and optionally draw its cells.")
    p.add_argument("genotype", help="a published name (DARTS_V1, DARTS_V2, PC_DARTS_cifar, "
                                    "PC_DARTS_image, PDARTS), a genotype.json, the reference "
                                    "text form 'Genotype(normal=[...], ...)', or a "
                                    "NAS-Bench-201 arch string '|op~0|+|...|'")
    p.add_argument("--plot", metavar="DIR",
                   help="write normal.png and reduce.png (NAS-Bench-201: cell.png) to DIR")
    p.add_argument("--json", action="store_true", help="print as JSON")
    return p


def _run_genotype(args):
    from keras_darts.architecture.genotype import get_genotype, plot_cell

    g = get_genotype(args.genotype)  # a name, the reference text, an arch string or a file
    print(g.to_json() if args.json else g.render())
    if args.plot:
        for kind in g.cell_kinds:
            print(plot_cell(g, os.path.join(args.plot, f"{kind}.png"), kind))
    return 0


def _baseline_parser(sub):
    from keras_darts.latency import PRECISIONS
    from keras_darts.search_space.spaces import search_space_names
    from keras_darts.training import TRAIN_PRESETS, TrainConfig

    p = sub.add_parser(
        "baseline", help="rank a searched cell among random cells of its space",
        description="Sample cells uniformly from a search space, train each stand-alone with "
                    "the same settings (a training preset and flags, as `keras-darts train`), "
                    "and report the searched cell's percentile among them: baseline.json and "
                    "baseline.png in --out. Run again with the same --out to resume.")
    p.add_argument("--search", metavar="DIR",
                   help="a search run directory: its space, op subsets, cell size and derived "
                        "genotype (flags below override them)")
    p.add_argument("--trained", metavar="DIR",
                   help="a `keras-darts train` run of the searched genotype with the same "
                        "settings: its result is used instead of training it again")
    p.add_argument("--genotype", help="the searched genotype (a name, genotype.json or arch "
                                      "string); default: the --search run's")
    p.add_argument("--samples", type=int, default=8, help="random cells (default 8)")
    p.add_argument("--sample-seed", type=int, help="sampling seed (default: --seed)")
    p.add_argument("--train-seeds", type=int, nargs="+", metavar="SEED",
                   help="train every cell once per seed and rank cells by their mean accuracy "
                        "(default: --seed alone); one run's accuracy moves with the seed")
    p.add_argument("--space", choices=search_space_names(),
                   help="search space (default: the --search run's, else 'darts')")
    p.add_argument("--op-subsets", help="JSON file of per-edge op subsets")
    p.add_argument("--steps", type=int, help="DARTS cell nodes (default: the search's, else 4)")
    p.add_argument("--multiplier", type=int, help="concatenated nodes (default: as --steps)")
    p.add_argument("--preset", choices=sorted(TRAIN_PRESETS),
                   help="training preset (default: 'nb201-small' for NAS-Bench-201 cells, "
                        "else 'small')")
    p.add_argument("--latency-table", metavar="JSON",
                   help="a latency table of the trained network (keras-darts latency-table): "
                        "every cell's latency is predicted and measured, and the Pareto fronts "
                        "of accuracy against latency reported (baseline_latency.png)")
    p.add_argument("--latency-precision", default="float32", choices=PRECISIONS,
                   help="the table's precision (default float32)")
    p.add_argument("--min-latency", type=float, metavar="MS",
                   help="draw only random cells predicted at or above this latency (ms)")
    p.add_argument("--max-latency", type=float, metavar="MS",
                   help="draw only random cells predicted within this latency (ms)")
    p.add_argument("--no-measure-latency", dest="measure_latency", action="store_false",
                   help="predict latencies only, without timing each cell's TFLite network")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    _add_config_flags(p, TrainConfig, skip=("genotype", "network"))
    return p


def _run_baseline(args):
    import json

    from keras_darts.baseline import run_baseline
    from keras_darts.search_space.spaces import get_search_space
    from keras_darts.training import TrainConfig

    search = {}
    if args.search:
        path = os.path.join(args.search, "config.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{args.search!r} is not a search run: no config.json.")
        with open(path, encoding="utf-8") as f:
            search = json.load(f)
        if args.genotype is None and args.trained is None:
            args.genotype = os.path.join(args.search, "genotype.json")
            if not os.path.isfile(args.genotype):
                raise FileNotFoundError(f"{args.search!r} holds no genotype.json yet.")
    space = args.space or search.get("space", "darts")
    op_subsets = args.op_subsets or (search.get("op_subsets") if not args.space else None)
    steps = args.steps or search.get("steps", 4)
    multiplier = args.multiplier or (search.get("multiplier", steps) if not args.steps
                                     else args.steps)
    preset = args.preset or ("nb201-small" if get_search_space(space, op_subsets).family
                             == "nb201" else "small")
    skip = ("command", "preset", "out", "verbose", "func", "search", "trained", "genotype",
            "samples", "sample_seed", "train_seeds", "space", "op_subsets", "steps",
            "multiplier", "latency_table", "latency_precision", "min_latency", "max_latency",
            "measure_latency")
    config = TrainConfig.from_preset(preset, **_overrides(args, skip))
    result = run_baseline(config, args.out, num_samples=args.samples, space=space,
                          op_subsets=op_subsets, steps=steps, multiplier=multiplier,
                          searched=None if args.trained else args.genotype,
                          trained=args.trained, seed=args.sample_seed,
                          train_seeds=args.train_seeds, latency_table=args.latency_table,
                          latency_precision=args.latency_precision,
                          min_latency_ms=args.min_latency, max_latency_ms=args.max_latency,
                          measure_latency=args.measure_latency, verbose=args.verbose)
    s = result.summary
    seeds = (f", mean of {len(args.train_seeds)} training seeds"
             if args.train_seeds and len(args.train_seeds) > 1 else "")
    print(f"\nRandom baseline: {s['completed']} random cells of space {space!r}, each trained "
          f"like the searched one (preset {preset!r}, {config.epochs} epochs{seeds})")
    print(f"  random cells   median {s['median']:.4f}   min {s['min']:.4f}   "
          f"max {s['max']:.4f}")
    if "reliability" in s:
        print(f"  training noise a cell's mean accuracy +-{s['mean_noise_std']:.4f}; reliability "
              f"{s['reliability']:.2f} (near 0: the cells cannot be told apart at this "
              f"training budget)")
    if result.searched is not None:
        verdict = "above" if s["above_median"] else "NOT above"
        print(f"  searched cell  {result.searched['test_accuracy']:.4f}   "
              f"percentile {s['percentile']:.1f}   rank {s['rank']} of {s['completed'] + 1}"
              f"   ({verdict} the random median)")
    if "latency" in s:
        fronts = s["latency"]
        for kind, key in (("predicted", "latency_ms"), ("measured", "measured_ms")):
            if not fronts[kind]:
                continue
            points = ", ".join(f"{p[key]:.3f} ms {p['test_accuracy']:.4f}"
                               + (" (searched)" if p["searched"] else "")
                               for p in fronts[kind])
            print(f"  accuracy-latency front, {kind} {args.latency_precision}: {points}")
    plots = "baseline.png" + (", baseline_latency.png" if "latency" in s else "")
    print(f"Results in {os.path.abspath(args.out)} (baseline.json, {plots})")
    return 0


def _compare_parser(sub):
    p = sub.add_parser(
        "compare", help="trained networks side by side (accuracy, size, latency, time)",
        description="Print finished `keras-darts train` runs side by side: test accuracy, "
                    "parameters, multiply-adds, float32 TFLite latency on this CPU, training "
                    "wall time and epochs; with --baseline, where the searched cell ranks "
                    "among random cells.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="training run directories")
    p.add_argument("--baseline", metavar="DIR", help="a `keras-darts baseline` directory")
    p.add_argument("--no-latency", dest="latency", action="store_false",
                   help="skip the TFLite latency measurement")
    p.add_argument("--out", help="also write the table as JSON to this file")
    return p


def _run_compare(args):
    from keras_darts.training import compare_runs
    from keras_darts.utils import atomic_write_json, read_json

    baseline = None
    if args.baseline:
        path = os.path.join(args.baseline, "baseline.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{args.baseline!r} is not a baseline run: no baseline.json.")
        baseline = read_json(path)
    rows = compare_runs(args.runs, latency=args.latency)
    width = max(len("run"), *(len(r["run"]) for r in rows))
    print(f"\n{'run':{width}s} {'network':10s} {'test acc':>8s} {'params M':>9s} "
          f"{'MACs M':>8s} {'TFLite ms':>9s} {'train s':>8s} {'epochs':>6s}")
    for r in rows:
        network = r["network"] if r["reference"] else "genotype"
        latency = f"{r['tflite_ms']:9.3f}" if "tflite_ms" in r else f"{'-':>9s}"
        print(f"{r['run']:{width}s} {network:10s} {r['test_accuracy']:8.4f} "
              f"{r['params_m']:9.4f} {r['macs_m']:8.2f} {latency} {r['wall_s']:8.1f} "
              f"{r['epochs']:6d}")
    doc = {"runs": rows}
    if baseline is not None and baseline.get("searched"):
        s = baseline["summary"]
        doc["baseline"] = {k: s.get(k) for k in ("completed", "median", "percentile", "rank")}
        print(f"Searched cell among {s['completed']} random cells of its space trained the same "
              f"way: {100 * baseline['searched']['test_accuracy']:.2f}% against a median of "
              f"{100 * s['median']:.2f}%, percentile {s['percentile']:.1f}, rank {s['rank']} "
              f"of {s['completed'] + 1}")
    if args.out:
        atomic_write_json(args.out, doc)
    return 0


def _unrecognized(args, extra):
    """The message for flags no parser took, naming the methods whose settings they are."""
    message = f"unrecognized arguments: {' '.join(extra)}"
    if args.command != "search":
        return message
    from keras_darts.search import SearchConfig, all_method_settings

    owners = all_method_settings()
    for arg in extra:
        name = arg.split("=", 1)[0].lstrip("-").replace("-", "_")
        if arg.startswith("--") and name in owners:
            method = getattr(args, "method", None) or SearchConfig.method
            return (f"{arg.split('=', 1)[0]} is a setting of {owners[name]}, not of method "
                    f"{method!r} (keras-darts search --method {method} --help lists its "
                    "settings)")
    return message


def main(argv=None):
    """Entry point of `keras-darts`.

    Args:
        argv: arguments (default: `sys.argv[1:]`).

    Returns:
        The exit code: 0 on success, 1 when an export fails its parity check,
        2 for bad input (with a one-line error).

    Example:

    >>> main(["genotype", "DARTS_V2"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(
        prog="keras-darts", description="Differentiable architecture search with Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    _search_parser(sub, argv).set_defaults(func=_run_search)
    _train_parser(sub).set_defaults(func=_run_train)
    _export_parser(sub).set_defaults(func=_run_export)
    _profile_parser(sub).set_defaults(func=_run_profile)
    _latency_table_parser(sub).set_defaults(func=_run_latency_table)
    _latency_parser(sub).set_defaults(func=_run_latency)
    _genotype_parser(sub).set_defaults(func=_run_genotype)
    _baseline_parser(sub).set_defaults(func=_run_baseline)
    _compare_parser(sub).set_defaults(func=_run_compare)
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.error(_unrecognized(args, extra))
    from keras_darts.architecture.genotype import GraphvizNotFoundError
    from keras_darts.data.datasets import DatasetNotAvailableError
    from keras_darts.export.verify import ParityError

    try:
        return args.func(args)
    except ParityError as e:
        print(f"keras-darts {args.command}: parity check failed: {e}", file=sys.stderr)
        return 1
    except (ValueError, DatasetNotAvailableError, GraphvizNotFoundError, FileNotFoundError,
            PermissionError) as e:
        print(f"keras-darts {args.command}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - only a bad image file is turned into a message
        message = bad_image_message(e)
        if message is None:
            raise
        print(f"keras-darts {args.command}: error: {message}", file=sys.stderr)
        return 2


def bad_image_message(error):
    """A one-line message for an image file that fails when read mid-run, else None.

    A folder too large to be checked file by file when it is opened
    (`keras_darts.data.sources.VERIFY_LIMIT`) has its files checked as they
    are read: a file that is no image stops the run naming its path.

    Example:

    >>> bad_image_message(ValueError("other"))  # None: not about an image
    """
    import re

    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(error, tf.errors.InvalidArgumentError):
        return None
    text = str(error)
    named = re.search(r"Not a JPEG, PNG, BMP or GIF image:\]? \[?([^\]\n]+)", text)
    if named:
        return f"Corrupt image {named.group(1)}: not a JPEG, PNG, BMP or GIF image."
    # TensorFlow's image decoders' own errors, not any error that mentions an image.
    if re.search(r"Decode(Image|Jpeg|Png|Bmp|Gif)|jpeg::|Invalid (JPEG|PNG)|"
                 r"Unknown image file format", text):
        first = text.strip().splitlines()[0][:300]
        return (f"an image could not be decoded ({first}). Check the folder's files with "
                "keras_darts.data.ImageFolderSource(folder, verify=True).")
    return None


if __name__ == "__main__":
    sys.exit(main())
