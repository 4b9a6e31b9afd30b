"""DARTS-PD (Cai, Zhang, Feng and Guo): a family of architectures from path-wise weight sharing.

Three stages, each with the paper's settings (CIFAR-10):

1. Supernet pruning: PC-DARTS's search (an 8-cell supernet, C=16, 4 nodes; partial channel
   connections K=4 and edge normalisation; 50 epochs, batch 256; weights SGD 0.1 -> 0 with
   cosine, momentum 0.9, weight decay 3e-4, gradient clipping 5; alphas and betas Adam 6e-4,
   betas (0.5, 0.999), weight decay 1e-3, frozen for the first 15 epochs; first order,
   50/50 split of the training set), then the top k=2 ops of every edge of the derived
   topology are kept.
2. Path-wise training of the pruned supernet with Path-wise Strict Fairness (every step, each
   edge's k ops are dealt to k paths by a random permutation; the k losses are summed into one
   update): 600 epochs, batch 256, SGD 0.0025 with cosine decay, momentum 0.9, weight decay
   3e-4, cutout 16; architecture weights frozen.
3. Evolutionary search over the paths, scored by held-out accuracy with the shared weights
   after BN recalibration on 20 training batches: population 50, tournament 10, mutation 0.1,
   crossover 0.5, 1000 paths (SPOS's budget: 20 generations of 50), parameters counted on the
   20-cell, C=36 CIFAR network. Output: the best paths and the Pareto front of accuracy
   against parameters, each a genotype for `keras-darts train`.

What keras_darts chose where the paper is silent: the k paths of a step see the same batch;
the evolution is steady-state (one child per trial from the 50 best so far) so that it runs
as a keras-tuner Oracle; paths are scored on the half of the training set stage 1 used for
the alphas. Left out: the paper's dropout of 0.3 in stage 2 (where it applies is not stated).

`--imagenet` runs the paper's ImageNet setting: stage 1 as PC-DARTS's search on ImageNet (the
`imagenet` search preset: the ImageNet stem, K=2, 12.5% of ImageNet, batch 1024, SGD 0.5, alphas
Adam 6e-3 frozen for 35 of 50 epochs), stage 2 for 250 epochs at 0.045 (cosine), paths costed
on the mobile network (14 cells, C=48). The paper's stage-2 batch (2048) and weight decay
(4e-5) are not separate settings: stage 2 takes the run's batch and weight decay.

The dataset must be prepared for tensorflow_datasets (keras_darts never downloads at run
time); `--small` runs the three stages at CPU size on the embedded Fashion-MNIST subset.

Usage:
    python recipes/darts_pd.py --out runs/darts-pd-c10
    python recipes/darts_pd.py --out runs/darts-pd-imagenet --imagenet --data-dir /data/tfds
    python recipes/darts_pd.py --out runs/darts-pd-small --small
    python recipes/darts_pd.py --out runs/darts-pd-small --small --oracle bayesian --max-params 0.1
"""

import sys

from _recipe import make_config, recipe_parser, run_overrides

from keras_darts.search import SearchConfig, run_search

CITATION = ("He Cai, Zhaokai Zhang, Tianpeng Feng, Yandong Guo. DARTS-PD: Differentiable "
            "Architecture Search with Path-wise Weight Sharing Derivation.")

PAPER = dict(method="darts-pd", base_method="darts", order=1, layers=8, channels=16, steps=4,
             multiplier=4, batch_size=256, epochs=50, learning_rate=0.1, min_learning_rate=0.0,
             momentum=0.9, weight_decay=3e-4, grad_clip=5.0, arch_learning_rate=6e-4,
             arch_weight_decay=1e-3, warmup_epochs=15, partial_channels=4,
             edge_normalization=True, top_k=2, pd_epochs=600, pd_learning_rate=0.0025,
             pd_min_learning_rate=0.0, pd_cutout=16, es_oracle="evolution", es_trials=1000,
             es_population=50, es_tournament=10, es_mutation_prob=0.1, es_crossover_prob=0.5,
             es_calibration_batches=20, eval_layers=20, eval_channels=36)

#: The CPU variant: the `small` preset's supernet and data (5 cells, C=8, 3 nodes, 1280
#: images, 3 epochs), K=2, and short stages 2 and 3.
SMALL = dict(partial_channels=2, warmup_epochs=1, learning_rate=0.05, arch_learning_rate=3e-3,
             pd_epochs=4, pd_learning_rate=0.025, pd_cutout=0, es_trials=60, es_population=12,
             es_tournament=4, es_calibration_batches=4, eval_layers=6, eval_channels=8)


#: Stage 3 and the pruning, the same in the paper's ImageNet setting.
SEARCH_OVER_PATHS = ("top_k", "es_oracle", "es_trials", "es_population", "es_tournament",
                     "es_mutation_prob", "es_crossover_prob", "es_calibration_batches")


def config_for(small=False, imagenet=False, **overrides):
    """The recipe's `SearchConfig`.

    Args:
        small: CPU-sized supernet, data and stages on the embedded dataset.
        imagenet: the paper's ImageNet setting (the `imagenet` search preset
            with DARTS-PD's part of it).
        **overrides: other `SearchConfig` fields (None values ignored).

    Returns:
        A `SearchConfig`.

    Raises:
        ValueError: for `small` and `imagenet` together.

    Example:

    >>> config_for().partial_channels
    4
    >>> config_for(imagenet=True).partial_channels
    2
    """
    if imagenet:
        if small:
            raise ValueError("The ImageNet setting is the paper's full size: no small.")
        settings = dict(method="darts-pd", base_method="darts", order=1,
                        **{name: PAPER[name] for name in SEARCH_OVER_PATHS})
        settings.update({k: v for k, v in overrides.items() if v is not None})
        return SearchConfig.from_preset("imagenet", **settings)
    return make_config(dict(PAPER, dataset="cifar10"), small, "small", SMALL, **overrides)


def main(argv=None):
    parser = recipe_parser(__doc__)
    parser.add_argument("--dataset", help="tensorflow_datasets name (default: cifar10)")
    parser.add_argument("--k", type=int, help="ops kept per edge (2)")
    parser.add_argument("--oracle", choices=("evolution", "random", "bayesian"))
    parser.add_argument("--trials", type=int, help="paths scored in stage 3")
    parser.add_argument("--pd-epochs", type=int, help="epochs of stage 2")
    parser.add_argument("--max-params", type=float, help="bound (M) on a path's parameters")
    parser.add_argument("--min-params", type=float)
    parser.add_argument("--imagenet", action="store_true",
                        help="the paper's ImageNet setting (PC-DARTS's ImageNet search first)")
    args = parser.parse_args(argv)
    if args.imagenet and args.small:
        parser.error("--imagenet is the paper's full size: no --small")
    config = config_for(args.small, args.imagenet, dataset=args.dataset, top_k=args.k,
                        es_oracle=args.oracle, es_trials=args.trials, pd_epochs=args.pd_epochs,
                        es_max_params=args.max_params, es_min_params=args.min_params,
                        **run_overrides(args))
    print(f"{CITATION}\n{config}\n")
    result = run_search(config, args.out)
    summary = result.summary
    print(f"stages (s): {summary['timings_s']}")
    print(f"fairness: {summary['fairness']}")
    print("Pareto front (parameters M, held-out accuracy):")
    for r in summary["pareto"]:
        print(f"  {r['params']:.4f}  {r['accuracy']:.4f}  {r['genotype']}")
    print(result.genotype.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
