"""GDAS (Dong and Yang, CVPR 2019): search over one Gumbel-sampled path per edge and step.

Settings:

* the method's own: the Gumbel-softmax temperature annealed linearly from 10 (first epoch)
  to 0.1 (last), one op drawn per edge and cell kind at every step, hard one-hot weights
  forward and the softmax's gradient backward; first-order bi-level steps (weights on the
  training half, then alphas on the validation half, each through its own draw);
* NAS-Bench-201 (`--space nb201`, the default): the benchmark's search settings, under which
  its authors (GDAS's) re-ran GDAS (the `nb201` preset: C=16, 5 cells per stage, batch 64,
  50 epochs, SGD 0.025 -> 0.001 with momentum 0.9 and weight decay 5e-4, alphas Adam 3e-4
  with betas (0.5, 0.999) and weight decay 1e-3);
* DARTS space (`--space darts`): the DARTS paper's search settings (the `paper` preset).

The dataset must be prepared for tensorflow_datasets (keras_darts never downloads at run
time); `--small` runs the recipe at CPU size on the embedded Fashion-MNIST subset.

Usage:
    python recipes/gdas.py --out runs/gdas-nb201
    python recipes/gdas.py --out runs/gdas-darts --space darts
    python recipes/gdas.py --out runs/gdas-small --small
"""

import sys

from _recipe import make_config, recipe_parser, run, run_overrides

from keras_darts.search import PRESETS

CITATION = ("Xuanyi Dong and Yi Yang. Searching for A Robust Neural Architecture in Four GPU "
            "Hours. CVPR 2019.")

SETTINGS = {
    "nb201": dict(PRESETS["nb201"], arch_weight_decay=1e-3),
    "darts": dict(PRESETS["paper"], space="darts", arch_weight_decay=1e-3),
}


def config_for(space="nb201", small=False, **overrides):
    """The recipe's `SearchConfig` for a space (`"nb201"` or `"darts"`).

    Args:
        space: `"nb201"` or `"darts"`.
        small: CPU-sized supernet and data on the embedded dataset.
        **overrides: other `SearchConfig` settings, GDAS's `tau_max` and
            `tau_min` included (None values ignored).

    Returns:
        A `SearchConfig`.

    Example:

    >>> config_for("nb201").tau_max
    10.0
    """
    settings = dict(SETTINGS[space], method="gdas", tau_max=10.0, tau_min=0.1)
    # Small: few steps, so larger rates than the paper's.
    return make_config(settings, small, "nb201-small" if space == "nb201" else "small",
                       dict(learning_rate=0.05, arch_learning_rate=3e-3), **overrides)


def main(argv=None):
    parser = recipe_parser(__doc__)
    parser.add_argument("--space", default="nb201", choices=sorted(SETTINGS))
    parser.add_argument("--dataset", help="tensorflow_datasets name (default: cifar10)")
    parser.add_argument("--tau-max", type=float)
    parser.add_argument("--tau-min", type=float)
    args = parser.parse_args(argv)
    config = config_for(args.space, args.small, dataset=args.dataset, tau_max=args.tau_max,
                        tau_min=args.tau_min, **run_overrides(args))
    run(config, args.out, CITATION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
