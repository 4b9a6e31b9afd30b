"""SP-DARTS: batch-mixed sparse training with a sparse and a smooth softmax temperature.

Settings of the paper (Tables II and IV; unlisted settings are the space's
defaults):

* NAS-Bench-201 (`--space nb201`, the default; bi-level, first order): the
  benchmark's supernet (C=16, 5 cells per stage) and search settings (50
  epochs, momentum 0.9, weight decay 5e-4, alphas Adam 3e-4), with a constant
  weight learning rate 0.05 (eta_min 0.05), no alpha weight decay, batch 256,
  t_sp = 1.1e-3 (CIFAR-10) / 1.3e-3 (CIFAR-100), t_sm = 10 t_sp, p from
  p_low = 0 to p_up = 1 (CIFAR-10) / 0.9 (CIFAR-100) after 1 warm-up epoch.
* DARTS space (`--space darts7`: the 7 DARTS ops without `none`): DARTS's
  settings (8 cells, C=16, 50 epochs, weight decay 3e-4, alphas Adam 3e-4)
  with a constant learning rate 0.05, no alpha weight decay, batch 80,
  t_sp = 1e-3, t_sm = 10 t_sp, p from 0 to 1 after 1 warm-up epoch.
* Robustness spaces (`--space s1..s4`; `s1` needs `--op-subsets FILE`): the
  DARTS-space settings; the paper runs t_sp in {4e-4, 5e-4, 6e-4, 7e-4} and
  keeps the best (`--t-sp`).

The dataset must be prepared for tensorflow_datasets (keras_darts never
downloads at run time); `--small` runs the recipe at CPU size on the embedded
Fashion-MNIST subset.

Usage:
    python recipes/sp_darts.py --out runs/sp-darts-nb201
    python recipes/sp_darts.py --out runs/sp-darts-c100 --dataset cifar100
    python recipes/sp_darts.py --out runs/sp-darts-darts --space darts7
    python recipes/sp_darts.py --out runs/sp-darts-small --small
"""

import sys

from _recipe import make_config, recipe_parser, run, run_overrides

CITATION = ("Jiuling Zhang. Robustifying DARTS by Eliminating Information Bypass Leakage via "
            "Explicit Sparse Regularization (SP-DARTS).")

NB201 = dict(space="nb201", channels=16, cells_per_stage=5, batch_size=256, epochs=50,
             learning_rate=0.05, min_learning_rate=0.05, momentum=0.9, weight_decay=5e-4,
             arch_learning_rate=3e-4, arch_weight_decay=0.0, p_low=0.0, p_warmup_epochs=1)
DARTS = dict(layers=8, channels=16, batch_size=80, epochs=50, learning_rate=0.05,
             min_learning_rate=0.05, momentum=0.9, weight_decay=3e-4, arch_learning_rate=3e-4,
             arch_weight_decay=0.0, p_low=0.0, p_up=1.0, p_warmup_epochs=1, t_sp=1e-3)
#: NAS-Bench-201 per dataset: (t_sp, p_up).
NB201_BY_DATASET = {"cifar10": (1.1e-3, 1.0), "cifar100": (1.3e-3, 0.9)}
SPACES = ("nb201", "darts7", "s1", "s2", "s3", "s4")


def config_for(space="nb201", dataset="cifar10", small=False, **overrides):
    """The recipe's `SearchConfig`.

    Args:
        space: one of `SPACES`.
        dataset: the dataset (selects t_sp and p_up on NAS-Bench-201).
        small: CPU-sized supernet and data on the embedded dataset.
        **overrides: other `SearchConfig` fields (None values ignored).

    Returns:
        A `SearchConfig`.

    Example:

    >>> config_for("nb201", "cifar100").t_sp
    0.0013
    """
    if space == "nb201":
        t_sp, p_up = NB201_BY_DATASET.get(dataset, NB201_BY_DATASET["cifar10"])
        settings = dict(NB201, t_sp=t_sp, p_up=p_up)
    else:
        settings = dict(DARTS, space=space)
    settings.update(method="sp-darts", level="bilevel", order=1, dataset=dataset)
    # Small: 4 epochs (warm-up plus a ramp of p) and a larger alpha rate for few steps.
    return make_config(settings, small, "nb201-small" if space == "nb201" else "small",
                       dict(epochs=4, arch_learning_rate=3e-3), **overrides)


def main(argv=None):
    parser = recipe_parser(__doc__)
    parser.add_argument("--space", default="nb201", choices=SPACES)
    parser.add_argument("--op-subsets", help="JSON file of per-edge op subsets (s1)")
    parser.add_argument("--dataset", default="cifar10", help="tensorflow_datasets name")
    parser.add_argument("--t-sp", type=float)
    parser.add_argument("--level", choices=("bilevel", "single"))
    args = parser.parse_args(argv)
    config = config_for(args.space, args.dataset, args.small, op_subsets=args.op_subsets,
                        t_sp=args.t_sp, level=args.level, **run_overrides(args))
    run(config, args.out, CITATION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
