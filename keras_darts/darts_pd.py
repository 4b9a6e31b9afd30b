"""DARTS-PD end to end: differentiable search and top-k pruning, path-wise training, path search.

`run_darts_pd` is what `run_search` (and `keras-darts search --method
darts-pd`) runs for the `darts-pd` method. The run directory holds:

- `stage1/`: the differentiable search with `base_method` (all of
  `run_search`'s outputs, on the PC-DARTS options the config sets);
- `stage2/`: `kept.json` (the pruned supernet's ops per edge), `history.csv`,
  `fairness.json` (updates per op and per path), `checkpoints/`;
- `stage3/`: the keras-tuner directory and the path search's outputs
  (`trials.json`, `pareto.json`, `pareto/arch_*.json`, `best/`,
  `pareto.png`, see `keras_darts.path_search.search_paths`);
- `genotype.json` (the best path) and `summary.json` (timings, fairness
  counters, the Pareto front).
"""

import os
import time

from keras_darts.utils.seed import restores_determinism


@restores_determinism
def run_darts_pd(config, out_dir, verbose=1, callbacks=()):
    """Runs DARTS-PD's three stages for a `SearchConfig` with `method="darts-pd"`.

    Args:
        config: a validated `SearchConfig`.
        out_dir: the run directory.
        verbose: Keras progress output.
        callbacks: extra callbacks for the stage-2 training.

    Returns:
        A `SearchResult` whose genotype is the best path, whose model is the
        trained pruned supernet and whose summary has the stages' timings,
        the fairness counters and the Pareto front.

    Raises:
        ValueError: for invalid settings (checked before anything runs).

    Example:

    >>> cfg = SearchConfig.from_preset("small", method="darts-pd", pd_epochs=2, es_trials=20,
    ...                                es_population=8, es_tournament=3)
    >>> result = run_search(cfg, "runs/pd")  # doctest: +SKIP
    """
    from keras_darts.callbacks import StepTimer
    from keras_darts.data import search_data
    from keras_darts.optimizers import search_optimizers
    from keras_darts.path_search import Bounds, GenotypeCost, PathEvaluator, search_paths
    from keras_darts.resume import check_same_run, fit_resumable
    from keras_darts.search import SearchResult, distribution_strategy, run_search
    from keras_darts.utils.config import RUN_OPTIONS
    from keras_darts.utils.distribute import task_dir
    from keras_darts.strategies import prune_supernet
    from keras_darts.utils import atomic_write_json, read_json, set_seed

    config.validate()
    bounds = Bounds(config.es_min_params, config.es_max_params, config.es_min_macs,
                    config.es_max_macs)
    strategy = distribution_strategy(config)
    root_dir, out_dir = out_dir, task_dir(out_dir, strategy)
    check_same_run(out_dir, config, ignore=RUN_OPTIONS)
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(os.path.join(out_dir, "config.json"), config.to_dict())
    timings = {}

    # A finished run reopened (a benchmark resuming) keeps the stage-3 time it measured.
    summary_path = os.path.join(out_dir, "summary.json")
    finished = read_json(summary_path) if os.path.isfile(summary_path) else {}

    # Stage 1: a differentiable search, then the top-k ops of each edge of its topology.
    stage1 = run_search(config.inner_config(),
                        os.path.join(root_dir, "stage1"), verbose=verbose)
    # The search's own wall time, over all its sessions (`StepTimer.run_wall_s`); the
    # pruning counts to stage 2, whose session time starts here.
    timings["stage1_s"] = stage1.summary["wall_s"]
    start = time.time()
    set_seed(config.seed, config.deterministic)
    with strategy.scope():
        model = prune_supernet(stage1.model, k=config.top_k)
    stage2_dir = os.path.join(out_dir, "stage2")
    edges_per_kind = len(model.kept_edges()) // len(model.kinds)
    atomic_write_json(os.path.join(stage2_dir, "kept.json"),
                      {"k": model.k, "kept": model.kept,
                       "paths_per_cell_kind": model.k ** edges_per_kind})

    # Stage 2: path-wise strictly fair training of the pruned supernet (alphas frozen).
    data = search_data(config.dataset, batch_size=config.batch_size, mode="split",
                       train_portion=config.train_portion, seed=config.seed,
                       augmentation=config.augmentation, max_train=config.max_train,
                       data_dir=config.data_dir, cutout=config.pd_cutout)
    with strategy.scope():
        w_opt, _ = search_optimizers(config.pd_epochs, data.steps_per_epoch,
                                     config.pd_learning_rate, config.pd_min_learning_rate,
                                     config.momentum, config.weight_decay)
        model.compile(optimizer=w_opt, epochs=config.pd_epochs,
                      steps_per_epoch=data.steps_per_epoch,
                      steps_per_execution=config.steps_per_execution,
                      run_eagerly=config.run_eagerly)
    timer = StepTimer()
    history = fit_resumable(model, data, config.pd_epochs, os.path.join(stage2_dir, "checkpoints"),
                            os.path.join(stage2_dir, "history.csv"), [timer, *callbacks],
                            verbose=verbose, every_steps=config.checkpoint_every)
    fairness = model.fairness()
    atomic_write_json(os.path.join(stage2_dir, "fairness.json"), fairness)
    timings["stage2_s"] = timer.run_wall_s(time.time() - start)  # all sessions of a resumed run

    # Stage 3: evolutionary (or keras-tuner) search over the paths, scored on held-out data.
    start = time.time()
    evaluator = PathEvaluator(model, data.train, data.holdout,
                              calibration_batches=config.es_calibration_batches)
    # The cost network: `eval_layers` DARTS cells, or `cells_per_stage` NAS-Bench-201 cells per
    # stage, at `eval_channels`.
    cost = GenotypeCost(data.info.num_classes, data.info.image_shape, config.eval_layers,
                        config.eval_channels, macs=bounds.needs_macs,
                        cells_per_stage=config.cells_per_stage)
    evolution = dict(population=config.es_population, tournament=config.es_tournament,
                     mutation_prob=config.es_mutation_prob,
                     crossover_prob=config.es_crossover_prob) \
        if config.es_oracle == "evolution" else {}
    stage3 = search_paths(model, evaluator, cost, os.path.join(out_dir, "stage3"),
                          oracle=config.es_oracle, max_trials=config.es_trials, bounds=bounds,
                          seed=config.seed, top=config.es_top, **evolution)
    timings["stage3_s"] = finished.get("timings_s", {}).get("stage3_s", time.time() - start)

    best = stage3.genotypes[stage3.best[0]["trial_id"]]
    best.save(os.path.join(out_dir, "genotype.json"), method="darts-pd",
              base_method=config.base_method, accuracy=stage3.best[0]["accuracy"],
              params_m=stage3.best[0]["params"], seed=config.seed)
    summary = {
        "genotype": best.to_text(),
        "stage1_genotype": stage1.genotype.to_text(),
        "timings_s": timings,
        "wall_s": sum(timings.values()),  # the three stages, over all sessions
        "stage2": {"final": {k: float(v[-1]) for k, v in history.items()},
                   **timer.summary()},
        "fairness": {k: fairness[k] for k in ("steps", "k", "path_updates", "min_op_updates",
                                              "max_op_updates", "strict")},
        "paths_scored": len(stage3.records),
        "pareto": stage3.pareto,
        "best": stage3.best,
    }
    atomic_write_json(os.path.join(out_dir, "summary.json"), summary)
    return SearchResult(best, model, history, summary, out_dir)
