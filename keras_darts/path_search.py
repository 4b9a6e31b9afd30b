"""DARTS-PD stage 3: evolutionary search over the paths of a trained pruned supernet.

A candidate is one op per kept edge of a `PathwiseFairSearch` (a path, and
a DARTS genotype). It is scored by its accuracy on held-out data with the
shared weights, after the BatchNorm statistics of the path are recalibrated
on training images (`PathEvaluator`). The search runs on keras-tuner: the
evolution is an `Oracle` (`PathEvolutionOracle`), so trials are logged in
the tuner directory, a search resumes from it, and keras-tuner's random
search or Bayesian optimisation can replace the evolution (`make_oracle`).
The result is the best paths and the Pareto front of accuracy against
parameter count, each written as a genotype for stand-alone training. With
a latency table (`keras_darts.latency`), paths can be bounded by their
predicted latency, and the fronts on predicted and measured TFLite latency
are reported too. The costs, bounds and fronts are `keras_darts.costs`'.
"""

import dataclasses
import json
import os

import numpy as np

try:
    import keras_tuner
except ImportError as e:  # pragma: no cover - the tuner extra is part of requirements.txt
    raise ImportError("DARTS-PD's path search runs on keras-tuner: "
                      "pip install 'keras-darts[tuner]' (or keras-tuner).") from e

from keras_darts.costs import Bounds, GenotypeCost, pareto_front, plot_pareto  # noqa: F401

OBJECTIVE = "val_accuracy"


# ---------------------------------------------------------------------- scoring
class PathEvaluator:
    """Scores paths of a trained pruned supernet with its shared weights.

    For each path the BatchNorm statistics the path uses are recalibrated:
    the first `calibration_batches` training batches are concatenated into
    one batch and run in training mode with the running statistics replaced
    by that batch's exact mean and (unbiased) variance. The path's accuracy
    is then measured in inference mode on `validation_data`. Both functions
    are traced once; the path is a tensor input.

    Args:
        model: a trained `PathwiseFairSearch`.
        calibration_data: `(x, y)` batches of training images.
        validation_data: `(x, y)` batches to score on (held-out data).
        calibration_batches: batches used for recalibration.
        max_val_batches: score on at most this many batches (None: all).

    Raises:
        ValueError: for `calibration_batches < 1`.

    Example:

    >>> evaluator = PathEvaluator(pruned, data.train, data.holdout)  # doctest: +SKIP
    >>> evaluator(pruned.genotype())  # doctest: +SKIP
    0.71
    """

    def __init__(self, model, calibration_data, validation_data, calibration_batches=4,
                 max_val_batches=None):
        import tensorflow as tf

        if not isinstance(calibration_batches, int) or calibration_batches < 1:
            raise ValueError("calibration_batches must be a positive integer. Received: "
                             f"{calibration_batches!r}")
        self.model = model
        xs = [x for x, _ in calibration_data.take(calibration_batches)]
        self.calibration_images = tf.concat(xs, axis=0)
        self.validation = [(x, np.asarray(y).reshape(-1)) for x, y in (
            validation_data if max_val_batches is None else validation_data.take(max_val_batches))]
        network, kinds = model.network, model.network.cell_types
        index = {kind: i for i, kind in enumerate(model.kinds)}

        def cells(choices):
            return [choices[index[k]] for k in kinds]

        @tf.function(autograph=False)
        def calibrate(x, choices):
            network(x, cells(choices), training=True)
            return tf.constant(0)

        @tf.function(autograph=False)
        def predict(x, choices):
            return network(x, cells(choices), training=False)

        self._calibrate, self._predict = calibrate, predict
        # Private Keras API, where Keras 3 has no public route: `_flatten_layers` is the only
        # walk over nested sublayers (the supernet's BatchNorms sit in cells and edges).
        self._bns = [layer for layer in network._flatten_layers()
                     if type(layer).__name__ == "BatchNorm"]
        self._traced = False

    def _choices(self, genotype):
        import tensorflow as tf

        c = self.model.choices_of(genotype)
        return tuple(tf.constant(c[kind]) for kind in self.model.kinds)

    def recalibrate(self, genotype):
        """Replaces the running statistics of the path's BNs by calibration-batch statistics."""
        choices = self._choices(genotype)
        if not self._traced:
            saved = [bn.momentum for bn in self._bns]
            for bn in self._bns:  # traced with momentum 0: running stats := batch stats
                bn.momentum = 0.0
            try:
                self._calibrate(self.calibration_images, choices)
            finally:
                for bn, m in zip(self._bns, saved):
                    bn.momentum = m
            self._traced = True
        else:
            self._calibrate(self.calibration_images, choices)

    def __call__(self, genotype):
        """Recalibrates and returns the path's accuracy (a float in [0, 1])."""
        self.recalibrate(genotype)
        choices = self._choices(genotype)
        correct = total = 0
        for x, y in self.validation:
            pred = np.argmax(self._predict(x, choices).numpy(), axis=-1)
            correct += int(np.sum(pred == y))
            total += len(y)
        return correct / max(total, 1)


# ---------------------------------------------------------------------- oracle
def path_hyperparameters(model):
    """keras-tuner hyperparameters of a pruned supernet: one `Choice` per kept edge.

    Names are `"{kind}_e{edge}"`; values are the kept op names.

    Example:

    >>> sorted(path_hyperparameters(pruned).values)[:1]  # doctest: +SKIP
    ['normal_e0']
    """
    hp = keras_tuner.HyperParameters()
    for kind, e, names in model.kept_edges():
        hp.Choice(f"{kind}_e{e}", list(names))
    return hp


def values_to_genotype(model, values):
    """The genotype of a trial's hyperparameter values (see `path_hyperparameters`).

    Args:
        model: the `PathwiseFairSearch` whose paths the values choose.
        values: `{"{kind}_e{edge}": op name}` for every kept edge.

    Returns:
        A `Genotype` (an `NB201Genotype` in a NAS-Bench-201 space).

    Raises:
        KeyError: if a kept edge has no value.

    Example:

    >>> values_to_genotype(pruned, trial.hyperparameters.values)  # doctest: +SKIP
    """
    choices = {kind: [values[f"{kind}_e{e}"] for k, e, _ in model.kept_edges() if k == kind]
               for kind in model.kinds}
    return model.path_genotype(choices)


class PathEvolutionOracle(keras_tuner.Oracle):
    """Evolutionary search over paths as a keras-tuner `Oracle`.

    The first `population` trials are random paths. Afterwards the
    population is the `population` best scored trials; each new candidate is,
    with probability `crossover_prob`, the uniform crossover of two
    tournament winners followed by mutation, else a mutation of one winner
    (each edge resampled with probability `mutation_prob`, at least one edge
    changed). A tournament draws `tournament` members and keeps the best.
    Candidates already tried (any earlier trial) are never proposed again,
    nor candidates outside the bounds (`constraint`). Randomness comes from
    `(seed, trial number)`, so a search is reproducible and resumes from its
    directory with the same sequence.

    Args:
        hyperparameters: from `path_hyperparameters`.
        max_trials: candidates scored in total.
        population: population size (50 in SPOS's evolution).
        tournament: tournament size (at most `population`).
        mutation_prob: per-edge mutation probability.
        crossover_prob: probability of a crossover child.
        constraint: optional callable `values -> bool` (bounds); rejected
            candidates are not scored.
        seed: the search's seed.
        max_attempts: candidates drawn per trial before giving up (the
            search then stops: the space within the bounds is exhausted).

    Raises:
        ValueError: for a population smaller than the tournament, sizes
            below 1 or probabilities outside [0, 1].

    Example:

    >>> oracle = PathEvolutionOracle(path_hyperparameters(pruned), max_trials=100,
    ...                              population=20, tournament=5, seed=0)  # doctest: +SKIP
    """

    def __init__(self, hyperparameters, max_trials=100, population=50, tournament=10,
                 mutation_prob=0.1, crossover_prob=0.5, constraint=None, seed=0,
                 max_attempts=200, **kwargs):
        for name, v in (("max_trials", max_trials), ("population", population),
                        ("tournament", tournament), ("max_attempts", max_attempts)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")
        if population < tournament:
            raise ValueError(f"The population ({population}) is smaller than the tournament "
                             f"({tournament}): a tournament draws distinct members.")
        for name, v in (("mutation_prob", mutation_prob), ("crossover_prob", crossover_prob)):
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be in [0, 1]. Received: {name}={v!r}")
        super().__init__(objective=keras_tuner.Objective(OBJECTIVE, "max"),
                         max_trials=max_trials, hyperparameters=hyperparameters,
                         seed=seed, **kwargs)
        self.population = population
        self.tournament = tournament
        self.mutation_prob = float(mutation_prob)
        self.crossover_prob = float(crossover_prob)
        self.constraint = constraint
        self.max_attempts = max_attempts
        self.search_seed = int(seed)

    def _space(self):
        return {hp.name: list(hp.values) for hp in self.hyperparameters.space}

    def _key(self, values):
        return tuple(sorted((k, str(v)) for k, v in values.items()))

    def _random(self, rng, space):
        return {name: values[rng.integers(len(values))] for name, values in space.items()}

    def _winner(self, rng, pool):
        picks = rng.choice(len(pool), size=self.tournament, replace=False)
        return max((pool[i] for i in picks), key=lambda t: (t.score, t.trial_id))

    def _mutate(self, rng, values, space):
        child = dict(values)
        names = [n for n in space if len(space[n]) > 1]
        if not names:
            return child
        for name in names:
            if rng.random() < self.mutation_prob:
                child[name] = space[name][rng.integers(len(space[name]))]
        if child == values:  # at least one edge changes
            name = names[rng.integers(len(names))]
            others = [v for v in space[name] if v != values[name]]
            child[name] = others[rng.integers(len(others))]
        return child

    def propose(self, rng, completed, tried):
        """Draws one new candidate (or None when no admissible new one is found)."""
        space = self._space()
        evolve = len(completed) >= self.population
        pool = sorted(completed, key=lambda t: (-t.score, t.trial_id))[:self.population]
        for attempt in range(self.max_attempts):
            if not evolve or attempt >= self.max_attempts // 2:
                child = self._random(rng, space)
            elif rng.random() < self.crossover_prob:
                a = self._winner(rng, pool).hyperparameters.values
                b = self._winner(rng, pool).hyperparameters.values
                child = {n: (a if rng.random() < 0.5 else b)[n] for n in space}
                child = self._mutate(rng, child, space) if self._key(child) in tried else child
            else:
                child = self._mutate(rng, self._winner(rng, pool).hyperparameters.values, space)
            if self._key(child) in tried:
                continue
            tried.add(self._key(child))
            if self.constraint is None or self.constraint(child):
                return child
        return None

    def populate_space(self, trial_id):
        """keras-tuner hook: the hyperparameter values of the next trial."""
        from keras_tuner.engine.trial import TrialStatus

        try:
            number = int(trial_id)
        except ValueError:
            number = len(self.trials)
        rng = np.random.default_rng([self.search_seed, number])
        trials = [t for t in self.trials.values() if t.trial_id != trial_id]
        completed = [t for t in trials if t.status == TrialStatus.COMPLETED and t.score is not None]
        tried = {self._key(t.hyperparameters.values) for t in trials}
        values = self.propose(rng, completed, tried)
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}


def make_oracle(kind, hyperparameters, max_trials, seed=0, constraint=None, **evolution):
    """The stage-3 oracle: `"evolution"`, `"random"` or `"bayesian"` (keras-tuner's own).

    The random and Bayesian oracles do not know the bounds; candidates
    outside them fail their trial unscored (`PathTuner`).

    Args:
        kind: the oracle kind.
        hyperparameters: from `path_hyperparameters`.
        max_trials: trials in total.
        seed: the search's seed.
        constraint: bounds check for the evolution.
        **evolution: `PathEvolutionOracle` settings (population, ...).

    Returns:
        A keras-tuner oracle.

    Raises:
        ValueError: for an unknown kind or bad evolution settings.

    Example:

    >>> oracle = make_oracle("random", path_hyperparameters(pruned), 50)  # doctest: +SKIP
    """
    objective = keras_tuner.Objective(OBJECTIVE, "max")
    if kind == "evolution":
        return PathEvolutionOracle(hyperparameters, max_trials=max_trials, seed=seed,
                                   constraint=constraint, **evolution)
    common = dict(objective=objective, max_trials=max_trials, hyperparameters=hyperparameters,
                  seed=seed, max_consecutive_failed_trials=max(10, max_trials))
    if kind == "random":
        return keras_tuner.oracles.RandomSearchOracle(**common)
    if kind == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(**common)
    raise ValueError(f"Unknown oracle {kind!r}: use 'evolution', 'random' or 'bayesian'.")


class PathTuner(keras_tuner.engine.base_tuner.BaseTuner):
    """A keras-tuner tuner whose trials score paths of a trained pruned supernet.

    Each trial's genotype is costed (`GenotypeCost`); a candidate outside
    `bounds` fails unscored; otherwise `evaluator` scores it. The trial's
    metrics are `val_accuracy`, `params` and (when counted) `macs` and
    `latency_ms` (predicted).

    Args:
        oracle: a keras-tuner oracle over `path_hyperparameters(model)`.
        model: the trained `PathwiseFairSearch`.
        evaluator: a callable `genotype -> accuracy` (`PathEvaluator`).
        cost: a callable `genotype -> {"params", "macs"}` (`GenotypeCost`).
        bounds: a `Bounds`.
        directory: the tuner's directory (trials, oracle state).
        project_name: sub-directory name.
        overwrite: start afresh instead of resuming.

    Example:

    >>> tuner = PathTuner(oracle, pruned, evaluator, cost, Bounds(), "runs/pd", "tuner")
    >>> tuner.search(verbose=0)  # doctest: +SKIP
    """

    def __init__(self, oracle, model, evaluator, cost, bounds=None, directory=None,
                 project_name="tuner", overwrite=False):
        self.model = model
        self.evaluator = evaluator
        self.cost = cost
        self.bounds = bounds or Bounds()
        super().__init__(oracle=oracle, hypermodel=None, directory=directory,
                         project_name=project_name, overwrite=overwrite)

    def run_trial(self, trial, *args, **kwargs):
        from keras_tuner.errors import FailedTrialError

        genotype = values_to_genotype(self.model, trial.hyperparameters.values)
        cost = self.cost(genotype)
        if not self.bounds.admits(cost):
            raise FailedTrialError(f"outside the bounds: {cost}")
        metrics = {OBJECTIVE: float(self.evaluator(genotype)), "params": cost["params"]}
        for what in ("macs", "latency_ms"):
            if cost.get(what) is not None:
                metrics[what] = cost[what]
        return metrics

    def save_model(self, trial_id, model, step=0):
        """Nothing to save: candidates share the supernet's weights."""

    def load_model(self, trial):
        """Candidates are genotypes; build them with `keras_darts.build_network`."""
        raise NotImplementedError("Path candidates are genotypes, not saved models.")


# ---------------------------------------------------------------------- results
@dataclasses.dataclass
class PathSearchResult:
    """What `search_paths` returns.

    Attributes:
        records: every scored path: `trial_id`, `genotype` (text), `accuracy`,
            `params`, `macs`, `latency_ms` (predicted; None without a latency
            table) and, for the paths measured, `measured_ms`.
        best: the `top` best records, best first.
        pareto: the Pareto front (parameters vs accuracy).
        genotypes: `{trial_id: Genotype}` of the scored paths.
        latency: with a latency table, the fronts on latency: `predicted`
            (the front of every path's predicted latency vs accuracy),
            `measured` (the front of the measured paths' measured latency),
            `measure` (which paths were measured), and the table, precision
            and devices (`GenotypeLatency.describe`); else None.
    """

    records: list
    best: list
    pareto: list
    genotypes: dict
    latency: dict = None


def collect_records(tuner, model):
    """Scored trials of a tuner as records (see `PathSearchResult`), in trial order.

    Args:
        tuner: a `PathTuner` (after `search`, or reloaded from its directory).
        model: its `PathwiseFairSearch`.

    Returns:
        `(records, genotypes)`: the list of record dicts and `{trial_id: Genotype}`.

    Example:

    >>> records, genotypes = collect_records(tuner, pruned)  # doctest: +SKIP
    """
    from keras_tuner.engine.trial import TrialStatus

    def number(trial):
        try:
            return (int(trial.trial_id), trial.trial_id)
        except ValueError:
            return (len(tuner.oracle.trials), trial.trial_id)

    records, genotypes = [], {}
    for trial in sorted(tuner.oracle.trials.values(), key=number):
        if trial.status != TrialStatus.COMPLETED or trial.score is None:
            continue
        genotype = values_to_genotype(model, trial.hyperparameters.values)
        metrics = trial.metrics
        optional = {what: float(metrics.get_best_value(what)) if metrics.exists(what) else None
                    for what in ("macs", "latency_ms")}
        records.append({"trial_id": trial.trial_id, "accuracy": float(trial.score),
                        "params": float(metrics.get_best_value("params")), **optional,
                        "genotype": genotype.to_text()})
        genotypes[trial.trial_id] = genotype
    return records, genotypes


MEASURE = ("front", "all", "none")
"""Which paths `search_paths` measures with a latency table: the predicted front's, all, none."""


def search_paths(model, evaluator, cost, out_dir, oracle="evolution", max_trials=100,
                 bounds=None, seed=0, top=5, overwrite=False, verbose=0, measure="front",
                 **evolution):
    """Runs stage 3 and writes its results to `out_dir`.

    `out_dir` holds the keras-tuner directory `tuner/` (a search with the
    same `out_dir` resumes from it), `trials.json` (every scored path),
    `pareto.json`, `best.json`, one genotype file per Pareto architecture in
    `pareto/` and per best path in `best/` (each ready for
    `keras-darts train --genotype`), `genotype.json` (the best path) and
    `pareto.png`.

    With a latency table (`cost.latency`), every path's predicted latency is
    recorded and may be bounded (`Bounds(max_latency_ms=...)`); the paths of
    the front of predicted latency against accuracy (`measure="front"`), or
    all paths (`"all"`), are exported to TFLite and timed on this machine
    (`GenotypeLatency.measure`), and their front on measured latency is
    reported too: `pareto_latency.json` (both fronts, the table and devices),
    `pareto_latency/arch_*.json` (the predicted front's genotypes) and
    `pareto_latency.png`. Measurements are kept in `measured.json` and
    reused when the search resumes.

    Args:
        model: the trained `PathwiseFairSearch`.
        evaluator: `genotype -> accuracy` (a `PathEvaluator`).
        cost: `genotype -> {"params", "macs", "latency_ms"}` (a `GenotypeCost`).
        out_dir: the output directory.
        oracle: `"evolution"`, `"random"` or `"bayesian"`.
        max_trials: paths scored in total (including earlier runs when resuming).
        bounds: a `Bounds` (None: unbounded).
        seed: the search's seed.
        top: how many best paths to write.
        overwrite: discard an earlier search in `out_dir` instead of resuming.
        verbose: keras-tuner's output (0: silent).
        measure: with a latency table, the paths to measure: `"front"`,
            `"all"` or `"none"`.
        **evolution: `PathEvolutionOracle` settings.

    Returns:
        A `PathSearchResult`.

    Raises:
        ValueError: for bad settings (a multiply-add bound on a cost that does
            not count them, a latency bound without a latency table, an
            unknown `measure`), or if no path could be scored.

    Example:

    >>> result = search_paths(pruned, evaluator, cost, "runs/pd/stage3", max_trials=50,
    ...                       population=10, tournament=3)  # doctest: +SKIP
    >>> len(result.pareto)  # doctest: +SKIP
    6
    """
    from keras_darts.utils.io import atomic_write_json

    bounds = bounds or Bounds()
    latency = getattr(cost, "latency", None)
    if bounds.needs_macs and not getattr(cost, "macs", True):
        raise ValueError("Multiply-add bounds need a cost that counts them "
                         "(GenotypeCost(..., macs=True)).")
    if bounds.needs_latency and latency is None:
        raise ValueError("Latency bounds need a cost that predicts latency "
                         "(GenotypeCost(..., latency=<a latency table>)).")
    if measure not in MEASURE:
        raise ValueError(f"measure must be one of {list(MEASURE)}. Received: {measure!r}")
    if not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive integer. Received: top={top!r}")
    hp = path_hyperparameters(model)

    def constraint(values):
        return bounds.admits(cost(values_to_genotype(model, values)))

    tuner_oracle = make_oracle(oracle, hp, max_trials, seed=seed, constraint=constraint,
                               **evolution)
    tuner = PathTuner(tuner_oracle, model, evaluator, cost, bounds, directory=out_dir,
                      project_name="tuner", overwrite=overwrite)
    tuner.search(verbose=verbose)
    records, genotypes = collect_records(tuner, model)
    if not records:
        raise ValueError("No path could be scored: are the bounds satisfiable by the paths "
                         "of this supernet?")
    best = sorted(records, key=lambda r: (-r["accuracy"], r["params"], r["trial_id"]))[:top]
    front = pareto_front(records)
    groups = [("pareto", front), ("best", best)]
    latency_doc = None
    if latency is not None:
        latency_doc = _latency_fronts(records, genotypes, latency, measure, out_dir, verbose)
        groups.append(("pareto_latency", latency_doc["predicted"]))
    for name, group in groups:
        for rank, r in enumerate(group):
            genotypes[r["trial_id"]].save(
                os.path.join(out_dir, name, f"arch_{rank:02d}.json"),
                accuracy=r["accuracy"], params_m=r["params"], macs_m=r["macs"],
                trial_id=r["trial_id"], **_latencies(r))
    genotypes[best[0]["trial_id"]].save(os.path.join(out_dir, "genotype.json"),
                                        accuracy=best[0]["accuracy"], params_m=best[0]["params"],
                                        **_latencies(best[0]))
    atomic_write_json(os.path.join(out_dir, "trials.json"), records)
    atomic_write_json(os.path.join(out_dir, "pareto.json"), front)
    atomic_write_json(os.path.join(out_dir, "best.json"), best)
    plot_pareto(records, front, os.path.join(out_dir, "pareto.png"))
    if latency_doc is not None:
        atomic_write_json(os.path.join(out_dir, "pareto_latency.json"), latency_doc)
        plot_pareto(records, latency_doc["predicted"],
                    os.path.join(out_dir, "pareto_latency.png"),
                    title=f"DARTS-PD paths: {latency.precision} TFLite latency",
                    cost="latency_ms",
                    measured=[r for r in records if r.get("measured_ms") is not None])
    return PathSearchResult(records, best, front, genotypes, latency_doc)


def _latencies(record):
    """A record's predicted and measured latency, those it has."""
    return {k: record[k] for k in ("latency_ms", "measured_ms") if record.get(k) is not None}


def _latency_fronts(records, genotypes, latency, measure, out_dir, verbose):
    """Measures the paths `measure` names (reusing `measured.json`); the two latency fronts."""
    from keras_darts.utils.io import atomic_write_json, read_json

    front = pareto_front(records, cost="latency_ms")
    chosen = {"front": front, "all": records, "none": []}[measure]
    path = os.path.join(out_dir, "measured.json")
    known = read_json(path) if os.path.isfile(path) else {}
    earlier = known.get(latency.precision, {})
    for text, m in earlier.items():
        latency.remember(text, m)
    for i, r in enumerate(chosen):
        genotype = genotypes[r["trial_id"]]
        new = str(genotype) not in earlier
        if verbose and new:
            print(f"[paths] measuring {i + 1}/{len(chosen)}: {genotype}", flush=True)
        m = latency.measure(genotype)
        r["measured_ms"], r["measured_spread_ms"] = m["ms"], m.get("spread_ms")
        if new:  # kept as soon as taken, for a search cut off while measuring
            earlier[str(genotype)] = m
            known[latency.precision] = earlier
            atomic_write_json(path, known)
    measured = [r for r in records if r.get("measured_ms") is not None]
    return {"predicted": front, "measured": pareto_front(measured, cost="measured_ms"),
            "measure": measure, "paths_measured": len(measured), **latency.describe()}


def load_records(out_dir):
    """Reads `trials.json` and `pareto.json` written by `search_paths`.

    Args:
        out_dir: the stage-3 directory.

    Returns:
        `(records, pareto)`.

    Raises:
        FileNotFoundError: if the search did not finish there.

    Example:

    >>> records, front = load_records("runs/pd/stage3")  # doctest: +SKIP
    """
    with open(os.path.join(out_dir, "trials.json"), encoding="utf-8") as f:
        records = json.load(f)
    with open(os.path.join(out_dir, "pareto.json"), encoding="utf-8") as f:
        return records, json.load(f)
