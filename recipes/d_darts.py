"""D-DARTS (Heuillet, Arioui and Tabia): a separate architecture for every cell.

Settings of the paper: an 8-cell supernet (C=16, 4 nodes, reductions at cells 2 and 5)
whose every cell owns its alphas (sigmoid, initialised at 0: weight 1/2) and its own Adam
optimiser and cosine schedule; weights SGD 0.025 -> 0.001 (cosine), momentum 0.9, weight
decay 3e-4, gradient clipping 5; search batch 72 (lowered from FairDARTS's 96 for the
memory of the ablation loss), 50 epochs, bi-level; alphas Adam 3e-4, betas (0.5, 0.999),
weight decay 1e-3 (FairDARTS's settings). Each cell's loss is
L_CE + w01 * L_01 + w_abl * L_AB with w01 = 8 and w_abl = 0.5 (the paper's experiments;
its sensitivity study prefers w01 = 7). Cells are parsed `sparse` (1 op per kept edge) or
`edge` (up to 2 ops per edge) at the sigmoid threshold 0.8. `--deepen N` writes the
N-cell network derived by Algorithm 1 beside the searched one.

What keras_darts chose where the authors' released code differs from the paper: the
ablation term carries gradient to the alphas (`--no-ablation-gradient` for the code's
behaviour); a removed cell passes its input through instead of taking random op weights;
each cell's alphas see only their own loss; deepening places the reductions at n//3 and
2n//3 of the new network.

The dataset must be prepared for tensorflow_datasets (keras_darts never downloads at run
time); `--small` runs the recipe at CPU size on the embedded Fashion-MNIST subset.

Usage:
    python recipes/d_darts.py --out runs/d-darts-c100 --dataset cifar100 --parser edge
    python recipes/d_darts.py --out runs/d-darts-small --small --deepen 8
"""

import os
import sys

from _recipe import make_config, recipe_parser, run, run_overrides

from keras_darts.derivation import deepen

CITATION = ("Alexandre Heuillet, Hichem Arioui, Hedi Tabia. D-DARTS: Distributed "
            "Differentiable Architecture Search.")

PAPER = dict(method="d-darts", level="bilevel", layers=8, channels=16, steps=4, multiplier=4,
             batch_size=72, epochs=50, learning_rate=0.025, min_learning_rate=0.001,
             momentum=0.9, weight_decay=3e-4, grad_clip=5.0, arch_learning_rate=3e-4,
             arch_weight_decay=1e-3, w01=8.0, w_abl=0.5, threshold=0.8, parser="sparse")


def config_for(small=False, **overrides):
    """The recipe's `SearchConfig`.

    Args:
        small: CPU-sized supernet and data on the embedded dataset.
        **overrides: other `SearchConfig` fields (None values ignored).

    Returns:
        A `SearchConfig`.

    Example:

    >>> config_for().w01
    8.0
    """
    return make_config(dict(PAPER, dataset="cifar10"), small, "small",
                       dict(learning_rate=0.05, arch_learning_rate=3e-3), **overrides)


def main(argv=None):
    parser = recipe_parser(__doc__)
    parser.add_argument("--dataset", help="tensorflow_datasets name (default: cifar10)")
    parser.add_argument("--parser", choices=("sparse", "edge", "darts"))
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--min-node-inputs", type=int, choices=(0, 1),
                        help="1 (default): a node with no op at the threshold keeps its "
                             "strongest; 0: the paper's rule (such a node is empty)")
    parser.add_argument("--no-ablation-gradient", action="store_true")
    parser.add_argument("--deepen", type=int, metavar="N",
                        help="also write the N-cell network (Algorithm 1) as deepened.json")
    args = parser.parse_args(argv)
    config = config_for(args.small, dataset=args.dataset, parser=args.parser,
                        threshold=args.threshold, min_node_inputs=args.min_node_inputs,
                        ablation_gradient=False if args.no_ablation_gradient else None,
                        **run_overrides(args))
    if args.deepen is not None and args.deepen < 3:
        parser.error("--deepen needs at least 3 cells")
    result = run(config, args.out, CITATION)
    if args.deepen:
        deeper, indices = deepen(result.genotype, args.deepen)
        deeper.save(os.path.join(args.out, "deepened.json"), searched_cells=indices)
        print(f"{args.deepen}-cell network from searched cells {indices}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
