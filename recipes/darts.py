"""DARTS (Liu, Simonyan and Yang, ICLR 2019): the paper's CIFAR-10 search.

Settings (the paper and its reference implementation): 8 cells, 16 initial
channels, 4 nodes per cell, batch 64, 50 epochs; the training set split 50/50
into weight and architecture halves; weights SGD momentum 0.9 with cosine
learning rate 0.025 -> 0.001, coupled weight decay 3e-4, gradient clipping 5;
alphas Adam 3e-4, betas (0.5, 0.999), coupled weight decay 1e-3. First order
(`--order 1`, xi = 0) or second order (`--order 2`, the unrolled gradient,
which the paper reports as the better of the two). `--reuse-train-gradient`
makes a second-order step four passes instead of five (the weight step reuses
the virtual step's gradient; not the paper's alternating order).

CIFAR-10 must be prepared for tensorflow_datasets (keras_darts never
downloads at run time); `--small` runs the same recipe at CPU size on the
embedded Fashion-MNIST subset instead.

Usage:
    python recipes/darts.py --out runs/darts-cifar10 --order 2
    python recipes/darts.py --out runs/darts-small --small
"""

import sys

from _recipe import make_config, recipe_parser, run, run_overrides

CITATION = ("Hanxiao Liu, Karen Simonyan, Yiming Yang. DARTS: Differentiable Architecture "
            "Search. ICLR 2019. arXiv:1806.09055")


def main(argv=None):
    parser = recipe_parser(__doc__)
    parser.add_argument("--order", type=int, default=2, choices=(1, 2))
    parser.add_argument("--reuse-train-gradient", action="store_true",
                        help="second order: the weight step reuses the virtual step's gradient "
                             "(4 passes a step instead of 5; not the paper's order)")
    args = parser.parse_args(argv)
    config = make_config(dict(method="darts"), args.small, "small",
                         dict(learning_rate=0.05, arch_learning_rate=3e-3),
                         order=args.order, reuse_train_gradient=args.reuse_train_gradient,
                         **run_overrides(args))
    run(config, args.out, CITATION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
