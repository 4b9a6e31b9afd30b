"""DARTS-PD end to end: differentiable search and top-k pruning, path-wise training, path search.

`DartsPD` is the `darts-pd` method: `run_search` (and `keras-darts search --method
darts-pd`) runs its stages. The run directory holds:

- `stage1/`: the differentiable search with `base_method` (all of
  `run_search`'s outputs, on the PC-DARTS options the config sets);
- `stage2/`: `kept.json` (the pruned supernet's ops per edge), `history.csv`,
  `fairness.json` (updates per op and per path), `checkpoints/`;
- `stage3/`: the keras-tuner directory and the path search's outputs
  (`trials.json`, `pareto.json`, `pareto/arch_*.json`, `best/`,
  `pareto.png`; with a latency table also `pareto_latency.json`,
  `pareto_latency/arch_*.json`, `pareto_latency.png` and `measured.json`;
  see `keras_darts.path_search.search_paths`);
- `genotype.json` (the best path) and `summary.json` (timings, fairness
  counters, the Pareto front).
"""

import dataclasses
import os
import time

from keras_darts.pipelines.base import Pipeline, register_pipeline
from keras_darts.search_space.ops import op_spec
from keras_darts.search_space.spaces import get_search_space
from keras_darts.utils.config import (
    MethodSettings, check_non_negative, check_positive_ints, setting,
)

_CPU_STAGES = dict(pd_epochs=4, pd_learning_rate=0.025, pd_cutout=0, es_trials=60,
                   es_population=12, es_tournament=4, es_calibration_batches=4)


@dataclasses.dataclass
class DartsPDSettings(MethodSettings):
    """DARTS-PD's own settings: its stage-1 method, pruning, stage 2 and stage 3 (`DartsPD`).

    A DARTS-PD run also takes the settings of its stage-1 method
    (`inner_method`: `base_method`), e.g. `order` for `darts`.

    Example:

    >>> DartsPDSettings(top_k=3, es_trials=100).validate().es_population
    50
    """

    #: Stages 2 and 3 at CPU size on the CPU presets (2^6 = 64 paths with top_k=2 in
    #: NAS-Bench-201). On `nb201-small` stage 1 is Single-DARTS: the paper prunes "with
    #: differentiable methods", and bi-level DARTS collapses to parameter-free ops in that
    #: space, its top-2 keeping 2-3 of them (benchmarks/results/
    #: search_quality_nb201_train8_2cpu.json). The cost network is the matching training
    #: preset's (`small`: 6 cells, C=8; `nb201-small`).
    #: On `imagenet` stage 1 is PC-DARTS's ImageNet search (the preset) and stage 2 the
    #: paper's: 250 epochs, SGD 0.045 with cosine decay; the cost network is the mobile
    #: setting's (14 cells, C=48). The paper's stage-2 batch (2048) and weight decay (4e-5)
    #: are not settings of their own: stage 2 takes the run's `batch_size` and `weight_decay`.
    presets = {"small": dict(_CPU_STAGES, eval_layers=6, eval_channels=8),
               "imagenet": dict(pd_epochs=250, pd_learning_rate=0.045, pd_cutout=0,
                                eval_layers=14, eval_channels=48),
               "nb201-small": dict(_CPU_STAGES, base_method="single-darts", eval_channels=8)}
    constructor_fields = ()

    base_method: str = setting("darts", "stage 1's differentiable search method")
    top_k: int = setting(2, "ops kept per edge by the pruning")
    pd_epochs: int = setting(600, "stage 2: epochs of path-wise training")
    pd_learning_rate: float = setting(0.0025, "stage 2: initial learning rate (SGD, cosine)")
    pd_min_learning_rate: float = setting(0.0, "stage 2: final learning rate")
    pd_cutout: int = setting(16, "stage 2: cutout side in pixels (0: off)")
    es_oracle: str = setting("evolution", "stage 3: the search over paths",
                             choices=("evolution", "random", "bayesian"))
    es_trials: int = setting(1000, "stage 3: paths scored")
    es_population: int = setting(50, "stage 3: evolution's population")
    es_tournament: int = setting(10, "stage 3: evolution's tournament size")
    es_mutation_prob: float = setting(0.1, "stage 3: mutation probability per edge")
    es_crossover_prob: float = setting(0.5, "stage 3: crossover probability")
    es_calibration_batches: int = setting(20, "stage 3: training batches for BN recalibration "
                                              "of a path")
    es_top: int = setting(5, "stage 3: best paths written")
    es_min_params: float = setting(None, "stage 3: lower bound (millions) on the parameters of "
                                         "a path's stand-alone network")
    es_max_params: float = setting(None, "stage 3: upper bound (millions) on its parameters")
    es_min_macs: float = setting(None, "stage 3: lower bound (millions) on its multiply-adds")
    es_max_macs: float = setting(None, "stage 3: upper bound (millions) on its multiply-adds")
    es_min_latency: float = setting(None, "stage 3: lower bound (ms) on its latency predicted "
                                          "by the latency table (latency_table)")
    es_max_latency: float = setting(None, "stage 3: upper bound (ms) on its predicted latency")
    es_measure: str = setting("front", "stage 3, with a latency table: the paths exported to "
                                       "TFLite and timed here: those of the front of predicted "
                                       "latency, all, or none",
                              choices=("front", "all", "none"))
    eval_layers: int = setting(20, "cells of that stand-alone network")
    eval_channels: int = setting(36, "initial channels of that stand-alone network")

    def inner_method(self):
        return self.base_method

    def validate(self, config=None):
        """Validates the three stages' settings before anything runs.

        Raises:
            ValueError: naming the bad setting (base method, `top_k`, the
                evolution's sizes and probabilities, an empty bound range ...).
        """
        from keras_darts.search import search_method

        if issubclass(search_method(self.base_method), Pipeline):
            raise ValueError(f"base_method must be a differentiable search method, not "
                             f"{self.base_method!r}.")
        if self.base_method == "d-darts":
            raise ValueError("base_method 'd-darts' has per-cell alphas; DARTS-PD prunes per "
                             "cell kind. Use darts, single-level, single-darts or sp-darts.")
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool) or self.top_k < 1:
            raise ValueError(f"top_k must be a positive integer. Received: top_k={self.top_k!r}")
        if config is not None:
            space = get_search_space(config.space, config.op_subsets)
            fewest = min(sum(1 for i in active if not op_spec(space.primitives[i]).is_zero)
                         for kind in space.kinds
                         for active in (getattr(space, f"{kind}_active")
                                        or [range(len(space.primitives))]))
            if self.top_k > fewest:
                raise ValueError(f"top_k={self.top_k} is larger than the ops of an edge: search "
                                 f"space {config.space!r} has edges with only {fewest} "
                                 "candidate ops besides 'none'.")
        check_positive_ints(self, ("pd_epochs", "es_trials", "es_population", "es_tournament",
                                   "es_calibration_batches", "es_top", "eval_layers",
                                   "eval_channels"))
        check_non_negative(self, ("pd_learning_rate", "pd_min_learning_rate", "pd_cutout"))
        if self.pd_min_learning_rate > self.pd_learning_rate:
            raise ValueError(f"pd_min_learning_rate ({self.pd_min_learning_rate}) exceeds "
                             f"pd_learning_rate ({self.pd_learning_rate}).")
        if self.es_oracle not in ("evolution", "random", "bayesian"):
            raise ValueError(f"es_oracle must be 'evolution', 'random' or 'bayesian'. "
                             f"Received: {self.es_oracle!r}")
        if self.es_population < self.es_tournament:
            raise ValueError(f"es_population ({self.es_population}) is smaller than "
                             f"es_tournament ({self.es_tournament}).")
        for name in ("es_mutation_prob", "es_crossover_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]. Received: {getattr(self, name)!r}")
        if self.es_measure not in ("front", "all", "none"):
            raise ValueError(f"es_measure must be 'front', 'all' or 'none'. "
                             f"Received: {self.es_measure!r}")
        bounds = self.bounds()
        if config is not None and bounds.needs_latency and config.latency_table is None:
            raise ValueError("es_min_latency and es_max_latency need a latency_table of the "
                             "stage-3 cost network (eval_layers cells at eval_channels; "
                             "keras-darts latency-table).")
        return self

    def bounds(self):
        """Stage 3's `keras_darts.costs.Bounds` (raises `ValueError` for a bad bound)."""
        from keras_darts.costs import Bounds

        return Bounds(self.es_min_params, self.es_max_params, self.es_min_macs,
                      self.es_max_macs, self.es_min_latency, self.es_max_latency)


@register_pipeline("darts-pd")
class DartsPD(Pipeline):
    """DARTS-PD (Cai et al., 2022) as a pipeline: search, prune, train paths, search paths.

    Stages (`stages`), each a method below:

    1. `search`: the differentiable search of `base_method` (any strategy; its
       settings are the config's `inner_settings`), in `stage1/`;
    2. `prune`: the top-`top_k` ops of each edge of its derived topology
       (`prune_supernet`, a `PathwiseFairSearch`);
    3. `train_paths`: path-wise strictly fair training of the pruned supernet
       with the alphas frozen, `pd_*` settings;
    4. `search_paths`: the evolutionary (or keras-tuner) search over its
       single-op paths, scored on held-out data, `es_*` settings and bounds on
       the stand-alone network of a path (`eval_layers`, `eval_channels`); with
       the config's `latency_table` (that network's), bounds on its predicted
       latency and the Pareto fronts on predicted and measured latency.

    Example:

    >>> cfg = SearchConfig.from_preset("small", method="darts-pd", pd_epochs=2, es_trials=20,
    ...                                es_population=8, es_tournament=3)
    >>> result = run_search(cfg, "runs/pd")  # doctest: +SKIP
    >>> result.summary["pareto"]  # doctest: +SKIP
    """

    Settings = DartsPDSettings
    stages = ("search", "prune", "train_paths", "search_paths")

    def start(self, run):
        from keras_darts.data.sources import config_source
        from keras_darts.resume import check_same_run
        from keras_darts.search import distribution_strategy
        from keras_darts.utils import atomic_write_json, read_json
        from keras_darts.utils.config import RUN_OPTIONS
        from keras_darts.utils.distribute import task_dir

        config = run.config
        run.bounds = config.settings.bounds()
        # Opened once for stages 1 and 2; a bad dataset fails here, before any file is written.
        run.source = config_source(config)
        # A latency table of another network than stage 3's fails here too.
        run.cost = self._cost(config, run.source.info, run.bounds)
        run.strategy = distribution_strategy(config)
        run.root_dir, run.out_dir = run.out_dir, task_dir(run.out_dir, run.strategy)
        check_same_run(run.out_dir, config, ignore=RUN_OPTIONS)
        os.makedirs(run.out_dir, exist_ok=True)
        atomic_write_json(os.path.join(run.out_dir, "config.json"), config.to_dict())
        run.timings = {}
        # A finished run reopened (a benchmark resuming) keeps the stage-3 time it measured.
        summary_path = os.path.join(run.out_dir, "summary.json")
        run.finished = read_json(summary_path) if os.path.isfile(summary_path) else {}

    def search(self, run):
        """Stage 1: a differentiable search with `base_method`."""
        from keras_darts.search import run_search

        run.stage1 = run_search(run.config.inner_config(),
                                os.path.join(run.root_dir, "stage1"), verbose=run.verbose,
                                source=run.source)
        # The search's own wall time, over all its sessions (`StepTimer.run_wall_s`); the
        # pruning counts to stage 2, whose session time starts here.
        run.timings["stage1_s"] = run.stage1.summary["wall_s"]

    def prune(self, run):
        """The top-k ops of each edge of the searched topology: the pruned supernet."""
        from keras_darts.strategies import prune_supernet
        from keras_darts.utils import atomic_write_json, set_seed

        config = run.config
        run.stage2_start = time.time()
        set_seed(config.seed, config.deterministic)
        with run.strategy.scope():
            run.model = prune_supernet(run.stage1.model, k=config.top_k)
        model = run.model
        run.stage2_dir = os.path.join(run.out_dir, "stage2")
        edges_per_kind = len(model.kept_edges()) // len(model.kinds)
        atomic_write_json(os.path.join(run.stage2_dir, "kept.json"),
                          {"k": model.k, "kept": model.kept,
                           "paths_per_cell_kind": model.k ** edges_per_kind})

    def train_paths(self, run):
        """Stage 2: path-wise strictly fair training of the pruned supernet (alphas frozen)."""
        from keras_darts.callbacks import StepTimer
        from keras_darts.optimizers import search_optimizers
        from keras_darts.resume import fit_resumable
        from keras_darts.search import config_search_data
        from keras_darts.utils import atomic_write_json

        config, model = run.config, run.model
        run.data = data = config_search_data(config, "split", cutout=config.pd_cutout,
                                             source=run.source, strategy=run.strategy)
        with run.strategy.scope():
            w_opt, _ = search_optimizers(config.pd_epochs, data.steps_per_epoch,
                                         config.pd_learning_rate, config.pd_min_learning_rate,
                                         config.momentum, config.weight_decay)
            model.compile(optimizer=w_opt, epochs=config.pd_epochs,
                          steps_per_epoch=data.steps_per_epoch,
                          steps_per_execution=config.steps_per_execution,
                          run_eagerly=config.run_eagerly)
        run.timer = StepTimer()
        run.history = fit_resumable(
            model, data, config.pd_epochs, os.path.join(run.stage2_dir, "checkpoints"),
            os.path.join(run.stage2_dir, "history.csv"), [run.timer, *run.callbacks],
            verbose=run.verbose, every_steps=config.checkpoint_every)
        run.fairness = model.fairness()
        atomic_write_json(os.path.join(run.stage2_dir, "fairness.json"), run.fairness)
        # All sessions of a resumed run.
        run.timings["stage2_s"] = run.timer.run_wall_s(time.time() - run.stage2_start)

    def search_paths(self, run):
        """Stage 3: the search over paths, scored on held-out data."""
        from keras_darts.path_search import PathEvaluator, search_paths

        config, data = run.config, run.data
        start = time.time()
        evaluator = PathEvaluator(run.model, data.train, data.holdout,
                                  calibration_batches=config.es_calibration_batches)
        evolution = dict(population=config.es_population, tournament=config.es_tournament,
                         mutation_prob=config.es_mutation_prob,
                         crossover_prob=config.es_crossover_prob) \
            if config.es_oracle == "evolution" else {}
        run.stage3 = search_paths(run.model, evaluator, run.cost,
                                  os.path.join(run.out_dir, "stage3"), oracle=config.es_oracle,
                                  max_trials=config.es_trials, bounds=run.bounds,
                                  seed=config.seed, top=config.es_top,
                                  measure=config.es_measure, **evolution)
        run.timings["stage3_s"] = run.finished.get("timings_s", {}).get(
            "stage3_s", time.time() - start)

    @staticmethod
    def _cost(config, info, bounds):
        """Stage 3's `GenotypeCost`: `eval_layers` DARTS cells, or `cells_per_stage`
        NAS-Bench-201 cells per stage, at `eval_channels`; with the config's latency table
        (which must be this network's), the predicted latency too."""
        from keras_darts.costs import GenotypeCost
        from keras_darts.latency import GenotypeLatency

        latency = None
        if config.latency_table is not None:
            latency = GenotypeLatency(config.latency_table, config.latency_precision)
        return GenotypeCost(info.num_classes, info.image_shape, config.eval_layers,
                            config.eval_channels, macs=bounds.needs_macs,
                            cells_per_stage=config.cells_per_stage, latency=latency)

    def finish(self, run):
        """The best path's genotype and the run's summary; returns the `SearchResult`."""
        from keras_darts.search import SearchResult
        from keras_darts.utils import atomic_write_json

        config, stage3, fairness = run.config, run.stage3, run.fairness
        best = stage3.genotypes[stage3.best[0]["trial_id"]]
        best.save(os.path.join(run.out_dir, "genotype.json"), method="darts-pd",
                  base_method=config.base_method, accuracy=stage3.best[0]["accuracy"],
                  params_m=stage3.best[0]["params"], seed=config.seed)
        summary = {
            "genotype": best.to_text(),
            "stage1_genotype": run.stage1.genotype.to_text(),
            "timings_s": run.timings,
            "wall_s": sum(run.timings.values()),  # the three stages, over all sessions
            "stage2": {"final": {k: float(v[-1]) for k, v in run.history.items()},
                       **run.timer.summary()},
            "fairness": {k: fairness[k] for k in ("steps", "k", "path_updates",
                                                  "min_op_updates", "max_op_updates",
                                                  "strict")},
            "paths_scored": len(stage3.records),
            "pareto": stage3.pareto,
            "best": stage3.best,
        }
        if stage3.latency is not None:
            summary["latency"] = stage3.latency
        atomic_write_json(os.path.join(run.out_dir, "summary.json"), summary)
        return SearchResult(best, run.model, run.history, summary, run.out_dir)
