"""Single-DARTS (Hou, Jin, Chen et al.): single-level search with a sigmoid activation.

Settings of the paper:

* NAS-Bench-201 (`--space nb201`, the default): the benchmark's supernet
  (C=16, 5 cells per stage), 50 epochs, batch 64, weights SGD 0.005 with
  momentum 0.9, weight decay 3e-4 and a cosine schedule; alphas Adam with a
  constant 3e-4, betas (0.5, 0.999), no weight decay; sigmoid activation with
  alphas initialised at -ln(k - 1) (1/5 for the 5 ops); weights and alphas
  step on the same batch of the whole training set.
* DARTS space (`--space darts`): 8 cells, C=16, 50 epochs, weights SGD 0.025
  (cosine), weight decay 3e-4; alphas Adam 3e-4, betas (0.5, 0.999), no weight
  decay; sigmoid initialised at -ln(7) = 1/8, on the chosen dataset.
* Directly on ImageNet (`--imagenet`, the DARTS space): the `imagenet` search
  preset's supernet (the ImageNet stem: 224 -> 28 before the first cell) and
  Single-DARTS's part of it: the whole training set, 50 epochs, batch 360,
  weights SGD 0.025 (cosine) with weight decay 3e-4, alphas Adam 3e-4 from the
  first epoch, no weight decay.

`--activation softmax` and `--batches different` run the paper's ablations
(Tables 4 and 5). The dataset must be prepared for tensorflow_datasets
(keras_darts never downloads at run time); `--small` runs the recipe at CPU
size on the embedded Fashion-MNIST subset.

Usage:
    python recipes/single_darts.py --out runs/single-darts-nb201
    python recipes/single_darts.py --out runs/single-darts-darts --space darts
    python recipes/single_darts.py --out runs/single-darts-imagenet --imagenet --data-dir /data/tfds
    python recipes/single_darts.py --out runs/single-darts-small --small
"""

import sys

from _recipe import make_config, recipe_parser, run, run_overrides

from keras_darts.search import SearchConfig

CITATION = ("Pengfei Hou, Ying Jin, Yukang Chen et al. Single-DARTS: Towards Stable "
            "Architecture Search.")

SETTINGS = {
    "nb201": dict(space="nb201", channels=16, cells_per_stage=5, batch_size=64, epochs=50,
                  learning_rate=0.005, min_learning_rate=0.0, momentum=0.9,
                  weight_decay=3e-4, arch_learning_rate=3e-4, arch_weight_decay=0.0),
    "darts": dict(space="darts", layers=8, channels=16, batch_size=64, epochs=50,
                  learning_rate=0.025, min_learning_rate=0.0, momentum=0.9, weight_decay=3e-4,
                  arch_learning_rate=3e-4, arch_weight_decay=0.0),
}


def config_for(space="nb201", small=False, imagenet=False, **overrides):
    """The recipe's `SearchConfig` for a space (`"nb201"` or `"darts"`).

    Args:
        space: `"nb201"` or `"darts"`.
        small: CPU-sized supernet and data on the embedded dataset.
        imagenet: the paper's search directly on ImageNet (the DARTS space;
            the `imagenet` search preset with Single-DARTS's part of it).
        **overrides: other `SearchConfig` fields (None values ignored).

    Returns:
        A `SearchConfig`.

    Raises:
        ValueError: for `imagenet` with `small` or with the NAS-Bench-201 space.

    Example:

    >>> config_for("nb201").learning_rate
    0.005
    >>> config_for("darts", imagenet=True).batch_size
    360
    """
    method = dict(method="single-darts", activation="sigmoid", batches="same")
    if imagenet:
        if small or space != "darts":
            raise ValueError("The ImageNet search is the paper's DARTS-space search at full "
                             "size: pass space='darts' and no small.")
        settings = dict(method, arch_weight_decay=0.0)
        settings.update({k: v for k, v in overrides.items() if v is not None})
        return SearchConfig.from_preset("imagenet", **settings)
    settings = dict(SETTINGS[space], **method, dataset="cifar10")
    # Small: few steps, so larger rates than the paper's.
    return make_config(settings, small, "nb201-small" if space == "nb201" else "small",
                       dict(learning_rate=0.05, arch_learning_rate=3e-3), **overrides)


def main(argv=None):
    parser = recipe_parser(__doc__)
    parser.add_argument("--space", default="nb201", choices=sorted(SETTINGS))
    parser.add_argument("--dataset", help="tensorflow_datasets name (default: cifar10)")
    parser.add_argument("--activation", choices=("sigmoid", "softmax"))
    parser.add_argument("--batches", choices=("same", "different"))
    parser.add_argument("--imagenet", action="store_true",
                        help="search directly on ImageNet (DARTS space, the ImageNet stem)")
    args = parser.parse_args(argv)
    if args.imagenet and (args.small or args.space != "darts"):
        parser.error("--imagenet searches the DARTS space at full size: pass --space darts "
                     "and no --small")
    config = config_for(args.space, args.small, args.imagenet, dataset=args.dataset,
                        activation=args.activation, batches=args.batches, **run_overrides(args))
    run(config, args.out, CITATION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
