"""The `keras-darts` command line.

Subcommands:
    search    run an architecture search (`keras-darts search --preset small --out runs/demo`)
    genotype  show, validate or draw a genotype (`keras-darts genotype DARTS_V2 --plot out/`)
"""

import argparse
import dataclasses
import os
import sys


def _search_parser(sub):
    from keras_darts.search import PRESETS, SearchConfig

    p = sub.add_parser(
        "search", help="run an architecture search",
        description="Run a differentiable architecture search. A preset sets every "
                    "hyperparameter; flags override it.",
    )
    p.add_argument("--preset", default="small", choices=sorted(PRESETS),
                   help="'paper': DARTS's CIFAR-10 settings; 'small': minutes on 2 CPU cores "
                        "on the embedded dataset (default)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    types = {int: int, float: float, str: str}
    for field in dataclasses.fields(SearchConfig):
        flag = "--" + field.name.replace("_", "-")
        default_type = type(field.default) if field.default is not None else None
        if field.name in ("max_train",):
            kind = int
        elif field.name in ("data_dir",):
            kind = str
        else:
            kind = types.get(default_type)
        if default_type is bool:
            p.add_argument(flag, dest=field.name, default=None,
                           action=argparse.BooleanOptionalAction)
        elif kind is not None:
            p.add_argument(flag, dest=field.name, type=kind, default=None,
                           help=f"(default: the preset's, else {field.default!r})")
    return p


def _run_search(args):
    from keras_darts.search import SearchConfig, run_search

    overrides = {k: v for k, v in vars(args).items()
                 if k not in ("command", "preset", "out", "verbose", "func") and v is not None}
    config = SearchConfig.from_preset(args.preset, **overrides)
    result = run_search(config, args.out, verbose=args.verbose)
    print("\nDerived genotype:")
    print(result.genotype.render())
    print(f"\n{result.genotype.to_text()}")
    print(f"\nResults in {os.path.abspath(args.out)}")
    return 0


def _genotype_parser(sub):
    p = sub.add_parser("genotype", help="show, validate or draw a genotype",
                       description="Show a published genotype or a genotype.json, validate it, "
                                   "and optionally draw its cells.")
    p.add_argument("genotype", help="a published name (DARTS_V1, DARTS_V2, PC_DARTS_cifar, "
                                    "PC_DARTS_image, PDARTS), a genotype.json, or the reference "
                                    "text form 'Genotype(normal=[...], ...)'")
    p.add_argument("--plot", metavar="DIR", help="write normal.png and reduce.png to DIR")
    p.add_argument("--json", action="store_true", help="print as JSON")
    return p


def _run_genotype(args):
    from keras_darts.architecture.genotype import Genotype, get_genotype, plot_cell

    text = args.genotype.strip()
    g = Genotype.from_text(text) if text.startswith("Genotype") or "=" in text.split("(")[0] \
        else get_genotype(text)
    print(g.to_json() if args.json else g.render())
    if args.plot:
        for kind in ("normal", "reduce"):
            print(plot_cell(g, os.path.join(args.plot, f"{kind}.png"), kind))
    return 0


def main(argv=None):
    """Entry point of `keras-darts`.

    Args:
        argv: arguments (default: `sys.argv[1:]`).

    Returns:
        The exit code: 0 on success, 2 for bad input (with a one-line error).

    Example:

    >>> main(["genotype", "DARTS_V2"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(
        prog="keras-darts", description="Differentiable architecture search with Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True)
    _search_parser(sub).set_defaults(func=_run_search)
    _genotype_parser(sub).set_defaults(func=_run_genotype)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_darts.architecture.genotype import GraphvizNotFoundError
    from keras_darts.data.datasets import DatasetNotAvailableError

    try:
        return args.func(args)
    except (ValueError, DatasetNotAvailableError, GraphvizNotFoundError, FileNotFoundError) as e:
        print(f"keras-darts {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
