"""What every recipe shares: its command line, the CPU-sized variant, running and printing.

Recipes are scripts (`python recipes/<paper>.py`); this module sits beside them.
"""

import argparse

from keras_darts.search import SearchConfig, run_search

#: The supernet and data fields that `--small` takes from a CPU preset.
SIZE_FIELDS = ("dataset", "channels", "cells_per_stage", "layers", "steps", "multiplier",
               "batch_size", "epochs", "max_train")


def recipe_parser(doc):
    """An argument parser with the options every recipe has.

    Args:
        doc: the recipe's module docstring (its first line is the description).

    Returns:
        An `argparse.ArgumentParser` with `--out`, `--small`, `--epochs`, `--seed`
        and `--data-dir` (the last three become config overrides: `run_overrides`).
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--small", action="store_true",
                        help="CPU-sized run on the embedded dataset")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir")
    return parser


def run_overrides(args):
    """The `SearchConfig` overrides of the options `recipe_parser` adds (None: the recipe's).

    Args:
        args: the parsed command line.

    Returns:
        `{"epochs": ..., "seed": ..., "data_dir": ...}`.
    """
    return dict(epochs=args.epochs, seed=args.seed, data_dir=args.data_dir)


def make_config(settings, small=False, small_preset="small", small_extra=None, **overrides):
    """The recipe's `SearchConfig`: the paper preset, the recipe's settings, then overrides.

    Args:
        settings: the paper's settings for this recipe.
        small: replace sizes and data by those of `small_preset`.
        small_extra: settings applied on top for the small variant.
        **overrides: command-line values (None values ignored).

    Returns:
        A `SearchConfig`.
    """
    settings = dict(settings)
    if small:
        sizes = SearchConfig.from_preset(small_preset)
        settings.update({name: getattr(sizes, name) for name in SIZE_FIELDS})
        settings.update(small_extra or {})
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return SearchConfig.from_preset("paper", **settings)


def run(config, out, citation):
    """Prints the citation and settings, runs the search, prints the genotype.

    Returns:
        The `SearchResult`.
    """
    print(f"{citation}\n{config}\n")
    result = run_search(config, out)
    print(result.genotype.render())
    print(result.genotype.to_text())
    return result
