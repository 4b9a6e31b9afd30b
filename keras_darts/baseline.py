"""The random-architecture baseline: where a searched cell ranks among random cells.

The first question about any search method (Li and Talwalkar, 2019; Yang et
al., 2020) is whether it beats random sampling from the same space. A
baseline run samples genotypes uniformly from a search space, trains each
stand-alone with one `TrainConfig` (the budget and settings the searched
genotype is trained with), and reports the searched genotype's percentile
among them, as JSON and as a histogram.

Uniform sampling follows each cell family's derivation rule:

* DARTS family: every intermediate node takes 2 distinct inputs drawn
  uniformly from its predecessors, each with an op drawn uniformly from that
  edge's candidates other than `none` (the derivation never keeps `none`);
  the last `multiplier` nodes are concatenated.
* NAS-Bench-201: every edge takes an op drawn uniformly from its candidates,
  `none` included, which is uniform over the benchmark's 15,625 cells.

Per-edge op subsets (`op_subsets`) restrict the draws as they restrict the
search.
"""

import dataclasses
import os
import time

import numpy as np

from keras_darts.costs import Bounds
from keras_darts.utils.io import read_json
from keras_darts.utils.seed import restores_determinism


def _edge_candidates(space, kind, num_edges):
    """Per edge, the names of its candidate ops in `space` for cells of `kind`."""
    active = getattr(space, f"{kind}_active")
    if active is None:
        return [list(space.primitives)] * num_edges
    return [[space.primitives[i] for i in row] for row in active]


def sample_genotype(space, rng, steps=4, multiplier=4):
    """Draws one genotype uniformly from a search space.

    Args:
        space: a `SearchSpace` or its name.
        rng: a `numpy.random.Generator`.
        steps, multiplier: intermediate nodes and concatenated nodes of
            DARTS-family cells (ignored for NAS-Bench-201).

    Returns:
        A `Genotype` (DARTS family) or an `NB201Genotype`.

    Raises:
        ValueError: for an unknown space, bad sizes, or a node whose edges
            offer fewer than two ops besides `none`.

    Example:

    >>> g = sample_genotype("nb201", np.random.default_rng(0))
    >>> g.to_arch_string().count("~")
    6
    """
    from keras_darts.architecture.genotype import Genotype
    from keras_darts.architecture.nb201_genotype import NB201Genotype
    from keras_darts.search_space.cells import edge_endpoints
    from keras_darts.search_space.nb201 import nb201_edges
    from keras_darts.search_space.ops import op_spec
    from keras_darts.search_space.spaces import SearchSpace, get_search_space

    if not isinstance(space, SearchSpace):
        space = get_search_space(space)
    if space.family == "nb201":
        edges = nb201_edges()
        cands = _edge_candidates(space, "normal", len(edges))
        nodes = {}
        for (i, j), ops in zip(edges, cands):
            nodes.setdefault(i, []).append((ops[rng.integers(len(ops))], j))
        return NB201Genotype(tuple(nodes[i] for i in sorted(nodes)))
    for name, v in (("steps", steps), ("multiplier", multiplier)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {v!r}")
    if multiplier > steps:
        raise ValueError(f"multiplier ({multiplier}) cannot exceed steps ({steps}).")
    endpoints = edge_endpoints(steps)
    cells = {}
    for kind in space.kinds:
        cands = [[o for o in ops if not op_spec(o).is_zero]
                 for ops in _edge_candidates(space, kind, len(endpoints))]
        cell, e = [], 0
        for node in range(steps):
            rows = [r for r in range(e, e + node + 2) if cands[r]]
            if len(rows) < 2:
                raise ValueError(f"Node {node} of the {kind} cell has fewer than 2 input edges "
                                 f"with an op besides 'none' in space {space.name!r}.")
            picked = sorted(rng.choice(rows, size=2, replace=False))
            for r in picked:
                ops = cands[r]
                cell.append((ops[rng.integers(len(ops))], endpoints[r][1]))
            e += node + 2
        cells[kind] = cell
    concat = list(range(2 + steps - multiplier, steps + 2))
    return Genotype(normal=cells["normal"], normal_concat=concat, reduce=cells["reduce"],
                    reduce_concat=concat)


def sample_genotypes(space, num_samples, seed=0, steps=4, multiplier=4, exclude=(),
                     accept=None, constraint="the constraint"):
    """Draws `num_samples` distinct genotypes uniformly from a search space.

    The draws are a function of the seed alone: the same seed gives the same
    list, and a longer list starts with the shorter one. With `accept`,
    draws it rejects are skipped: the genotypes are uniform over the cells it
    accepts (e.g. those within a latency bound).

    Args:
        space: a `SearchSpace` or its name.
        num_samples: how many genotypes.
        seed: the sampling seed.
        steps, multiplier: DARTS-family cell sizes.
        exclude: genotypes never returned (e.g. the searched one).
        accept: a callable `genotype -> bool`, or None (every cell).
        constraint: how an error names what `accept` checks.

    Returns:
        A list of genotypes.

    Raises:
        ValueError: for a non-positive count, or a space with fewer distinct
            cells (that `accept` accepts) than requested.

    Example:

    >>> [g.to_arch_string() for g in sample_genotypes("nb201", 2, seed=1)]  # doctest: +SKIP
    """
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer. Received: {num_samples!r}")
    rng = np.random.default_rng(seed)
    seen = {str(g) for g in exclude}
    out = []
    tries = 0
    rejected = 0
    while len(out) < num_samples:
        tries += 1
        if tries > 100 * num_samples + 1000:
            within = f" within {constraint} ({rejected} distinct cells drawn were not)" \
                if rejected else ""
            raise ValueError(f"Search space {getattr(space, 'name', space)!r} holds fewer than "
                             f"{num_samples} distinct cells{within} (found {len(out)}).")
        g = sample_genotype(space, rng, steps, multiplier)
        if str(g) not in seen:
            seen.add(str(g))
            if accept is not None and not accept(g):
                rejected += 1
                continue
            out.append(g)
    return out


def parameter_free_ops(genotype):
    """How many edges of a genotype carry a parameter-free op (`none`, pools, skip).

    Args:
        genotype: a `Genotype` (both cells counted) or an `NB201Genotype`.

    Returns:
        An int.

    Example:

    >>> parameter_free_ops(get_genotype("DARTS_V2"))  # doctest: +SKIP
    7
    """
    from keras_darts.search_space.ops import op_spec

    return sum(op_spec(op).parameter_free for op in _ops(genotype))


def _ops(genotype):
    """The op of every edge of a genotype (D-DARTS networks: of every cell)."""
    if hasattr(genotype, "cells"):  # NetworkGenotype: (op, node, input) triples per cell
        return [e[0] for c in genotype.cells for e in c.edges]
    if hasattr(genotype, "edge_list"):
        return [op for op, _ in genotype.edge_list()]
    return [op for op, _ in list(genotype.normal) + list(genotype.reduce)]


def check_in_space(genotype, space, steps=None):
    """Raises `ValueError` unless a genotype is a cell of a search space.

    Args:
        genotype: a `Genotype` or `NB201Genotype`.
        space: a `SearchSpace`.
        steps: DARTS-family intermediate nodes the genotype must have (None: any).

    Raises:
        ValueError: naming the first edge whose op the space does not offer,
            or a genotype of another cell family or size.

    Example:

    >>> check_in_space(get_genotype("DARTS_V2"), get_search_space("nb201"))  # doctest: +SKIP
    ValueError: ... is not a NAS-Bench-201 cell ...
    """
    from keras_darts.architecture.nb201_genotype import NB201Genotype
    from keras_darts.search_space.cells import genotype_edge_rows
    from keras_darts.search_space.nb201 import nb201_edges

    if space.family == "nb201":
        if not isinstance(genotype, NB201Genotype):
            raise ValueError(f"Genotype {genotype} is not a NAS-Bench-201 cell; search space "
                             f"{space.name!r} has NAS-Bench-201 cells.")
        cells = {"normal": genotype.edge_list()}
        rows = {"normal": list(range(len(nb201_edges())))}
    elif hasattr(genotype, "cells"):  # a D-DARTS network: every cell's ops in the space
        outside = sorted(set(_ops(genotype)) - set(space.primitives))
        if outside:
            raise ValueError(f"The network genotype uses ops {outside} outside search space "
                             f"{space.name!r} ({list(space.primitives)}).")
        return
    else:
        if isinstance(genotype, NB201Genotype) or not hasattr(genotype, "reduce"):
            raise ValueError(f"Genotype {genotype} is not a DARTS-family genotype; search "
                             f"space {space.name!r} has DARTS cells.")
        n = len(genotype.normal) // 2
        if steps is not None and n != steps:
            raise ValueError(f"The genotype's cells have {n} nodes; the baseline samples cells "
                             f"of {steps} (steps={steps}).")
        cells = {k: list(getattr(genotype, k)) for k in ("normal", "reduce")}
        rows = {k: genotype_edge_rows(v, n) for k, v in cells.items()}
        for kind, r in rows.items():
            if None in r:
                raise ValueError(f"The {kind} cell of genotype {genotype} has an edge from "
                                 f"an input its node cannot take.")
    for kind, edges in cells.items():
        cands = _edge_candidates(space, kind, max(rows[kind]) + 1)
        for (op, inp), r in zip(edges, rows[kind]):
            if op not in cands[r]:
                raise ValueError(f"The {kind} cell's op {op!r} (alpha row {r}, from input {inp}) "
                                 f"is not a candidate of search space {space.name!r} there "
                                 f"({cands[r]}).")


def percentile_rank(value, population):
    """The percentile of `value` in `population`: the share below it, ties counted half.

    Args:
        value: a number.
        population: numbers.

    Returns:
        A float in [0, 100].

    Example:

    >>> percentile_rank(0.8, [0.7, 0.8, 0.9, 0.6])
    62.5
    """
    pop = np.asarray(population, np.float64)
    if not pop.size:
        raise ValueError("percentile_rank needs a non-empty population.")
    below = np.sum(pop < value) + 0.5 * np.sum(pop == value)
    return float(100.0 * below / pop.size)


BASELINE_FILE = "baseline.json"
PLOT_FILE = "baseline.png"
LATENCY_PLOT_FILE = "baseline_latency.png"


def _record(genotype, summaries, seeds):
    """A cell's figures from its training runs, one per training seed in `seeds`.

    Its `test_accuracy` is the mean over the seeds; with several seeds the
    record also holds them, the per-seed accuracies and their standard deviation.
    """
    acc = [float(s["test_accuracy"]) for s in summaries]
    first = summaries[0]
    rec = {"genotype": str(genotype), "test_accuracy": float(np.mean(acc)),
           "params_m": first.get("params_m"), "macs_m": first.get("macs_m"),
           "parameter_free_ops": parameter_free_ops(genotype),
           "train_wall_s": round(sum(float(s.get("wall_s", 0.0)) for s in summaries), 1)}
    if len(seeds) > 1:
        rec.update(train_seeds=list(seeds), test_accuracies=acc,
                   test_accuracy_std=float(np.std(acc)))
    return rec


def _recorded_runs(doc, default_seed):
    """`{(genotype text, seed): summary}` of the training runs a baseline.json records.

    They let a baseline resume from its JSON alone (run directories deleted to
    save disk, or a results file carried to another machine).
    """
    out = {}
    for rec in doc.get("samples", []) + [doc.get("searched") or {}]:
        if "genotype" not in rec or "test_accuracy" not in rec:
            continue
        seeds = rec.get("train_seeds", [default_seed])
        accuracies = rec.get("test_accuracies", [rec["test_accuracy"]])
        for s, a in zip(seeds, accuracies):
            out[(rec["genotype"], s)] = {
                "test_accuracy": a, "params_m": rec.get("params_m"),
                "macs_m": rec.get("macs_m"),
                "wall_s": rec.get("train_wall_s", 0.0) / max(1, len(seeds))}
    return out


def check_train_seeds(train_seeds):
    """Validates a list of training seeds: distinct non-negative integers, at least one.

    Args:
        train_seeds: a list or tuple of ints.

    Returns:
        The seeds as a tuple.

    Raises:
        ValueError: naming the problem.

    Example:

    >>> check_train_seeds([0, 1, 2])
    (0, 1, 2)
    """
    seeds = tuple(train_seeds) if isinstance(train_seeds, (list, tuple)) else None
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
        raise ValueError("train_seeds must be a non-empty list of non-negative integers. "
                         f"Received: {train_seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"train_seeds must be distinct. Received: {train_seeds!r}")
    return seeds


def _trained_summary(trained, train_config):
    """Reads a `keras-darts train` run directory trained with `train_config`'s settings."""
    from keras_darts.architecture.genotype import get_genotype
    from keras_darts.resume import describe_differences
    from keras_darts.training import finished_run_paths
    from keras_darts.utils.config import RUN_OPTIONS

    paths = finished_run_paths(trained, ("config.json", "summary.json", "genotype.json"))
    # (A setting added to the library after the run was trained compares as its default.)
    detail = describe_differences(read_json(paths["config.json"]), train_config,
                                  set(RUN_OPTIONS) | {"genotype"})
    if detail:
        raise ValueError(f"{trained} was trained with other settings than the baseline's "
                         f"({detail}): the comparison would not be fair.")
    return get_genotype(paths["genotype.json"]), read_json(paths["summary.json"])


def baseline_summary(samples, searched=None):
    """Figures of a baseline: the random cells' accuracy spread and the searched cell's rank.

    Args:
        samples: per random cell, a dict with `test_accuracy`.
        searched: the searched cell's dict, or None.

    Returns:
        A dict: `completed`, `median`, `mean`, `std`, `min`, `max`, with
        cells trained under several seeds `train_seed_std` (the mean per-cell
        standard deviation over the seeds), `mean_noise_std` (the standard
        error of one cell's mean accuracy, from the seeds' sample variances)
        and `reliability` (from 2 cells on: the share of the variance of the
        cells' mean accuracies that the cells account for, rather than
        training noise, `1 - mean_noise_std**2 / var`, clipped at 0; near 0
        the cells cannot be told apart at this training budget and a
        percentile among them is noise), and with a searched cell its
        `percentile` (`percentile_rank` among the random cells), `rank`
        (1 = best of all cells) and `above_median`.

    Example:

    >>> baseline_summary([{"test_accuracy": a} for a in (0.7, 0.8)], {"test_accuracy": 0.9})
    ... # doctest: +SKIP
    """
    acc = np.array([s["test_accuracy"] for s in samples], np.float64)
    out = {"completed": int(acc.size)}
    if not acc.size:
        return out
    out.update(median=float(np.median(acc)), mean=float(acc.mean()), std=float(acc.std()),
               min=float(acc.min()), max=float(acc.max()))
    seed_std = [s["test_accuracy_std"] for s in samples if "test_accuracy_std" in s]
    if seed_std:  # how much one cell moves with the training seed, against `std`
        out["train_seed_std"] = float(np.mean(seed_std))
    runs = [s["test_accuracies"] for s in samples if len(s.get("test_accuracies", ())) > 1]
    if runs:  # one-way random effects: noise of a cell's mean against the cells' spread
        noise_var = float(np.mean([np.var(r, ddof=1) / len(r) for r in runs]))
        out["mean_noise_std"] = float(np.sqrt(noise_var))
        if acc.size > 1:
            spread = float(acc.var(ddof=1))
            out["reliability"] = float(max(0.0, 1.0 - noise_var / spread)) if spread else 0.0
    if searched is not None:
        a = searched["test_accuracy"]
        out.update(percentile=percentile_rank(a, acc), rank=int(1 + np.sum(acc > a)),
                   above_median=bool(a > out["median"]))
    return out


def plot_baseline(doc, path):
    """Draws the random cells' accuracy histogram with the searched cell marked.

    Args:
        doc: a `baseline.json` document (as `run_baseline` writes it).
        path: the image file (`.png`, `.svg`, ...), written atomically.

    Returns:
        `path`.

    Example:

    >>> plot_baseline(json.load(open("runs/demo/baseline/baseline.json")), "b.png")
    ... # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from keras_darts.utils import atomic_path

    acc = [100 * s["test_accuracy"] for s in doc["samples"]]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.hist(acc, bins=max(5, min(20, len(acc) // 2)), color="#8fa8c8", edgecolor="white",
            label=f"{len(acc)} random cells")
    summary = doc["summary"]
    if acc:
        ax.axvline(100 * summary["median"], color="gray", ls="--", lw=1, label="random median")
    if doc.get("searched"):
        a = 100 * doc["searched"]["test_accuracy"]
        label = "searched" + (f" ({summary['percentile']:.0f}th percentile)"
                              if "percentile" in summary else "")
        ax.axvline(a, color="#c0392b", lw=2, label=label)
    seeds = doc["settings"].get("train_seeds", [])
    ax.set_xlabel("stand-alone test accuracy (%)" + (f", mean of {len(seeds)} training seeds"
                                                     if len(seeds) > 1 else ""))
    ax.set_ylabel("cells")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title(f"Random cells of space {doc['settings']['space']!r}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    with atomic_path(path, suffix=os.path.splitext(path)[1]) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path


def _latency(table, precision, train_config, info):
    """The baseline's `GenotypeLatency`, its table checked to be the trained network's."""
    if table is None:
        return None
    from keras_darts.latency import GenotypeLatency

    latency = table if isinstance(table, GenotypeLatency) else GenotypeLatency(table, precision)
    latency.check_network("the network the baseline trains",
                          num_classes=info.num_classes, input_shape=info.image_shape,
                          layers=train_config.layers, channels=train_config.channels,
                          stem=train_config.stem, cells_per_stage=train_config.cells_per_stage)
    return latency


def _describe_bounds(bounds):
    lo, hi = bounds.min_latency_ms, bounds.max_latency_ms
    return f"[{'-' if lo is None else lo}, {'-' if hi is None else hi}] ms"


def latency_fronts(samples, searched=None):
    """Pareto fronts of test accuracy against predicted and measured latency.

    Args:
        samples: per random cell, a dict with `test_accuracy`, `latency_ms`
            and (where measured) `measured_ms`.
        searched: the searched cell's dict, or None.

    Returns:
        `{"predicted": front, "measured": front}` over the random cells and
        the searched one (each point: `genotype`, `test_accuracy`, its
        latency, `searched`), and with a searched cell
        `searched_on_front_predicted` / `searched_on_front_measured`.

    Example:

    >>> latency_fronts([{"genotype": "a", "test_accuracy": 0.8, "latency_ms": 0.2}])
    ... # doctest: +SKIP
    """
    from keras_darts.costs import pareto_front

    cells = [dict(s, searched=False) for s in samples]
    if searched is not None:
        cells.append(dict(searched, searched=True))
    out = {}
    for kind, key in (("predicted", "latency_ms"), ("measured", "measured_ms")):
        front = pareto_front(cells, cost=key, score="test_accuracy")
        out[kind] = [{"genotype": c["genotype"], "test_accuracy": c["test_accuracy"],
                      key: c[key], "searched": c["searched"]} for c in front]
        if searched is not None and searched.get(key) is not None:
            out[f"searched_on_front_{kind}"] = any(c["searched"] for c in front)
    return out


def plot_latency(doc, path):
    """Draws test accuracy against latency: every cell, the fronts, the searched cell marked.

    Args:
        doc: a `baseline.json` document with latencies.
        path: the PNG file, written atomically.

    Returns:
        `path`.
    """
    from keras_darts.costs import pareto_front, plot_pareto

    cells = doc["samples"] + ([doc["searched"]] if doc.get("searched") else [])
    measured = [c for c in cells if c.get("measured_ms") is not None]
    precision = (doc["settings"].get("latency") or {}).get("precision", "float32")
    return plot_pareto(cells, pareto_front(cells, "latency_ms", "test_accuracy"), path,
                       title=f"Random cells of space {doc['settings']['space']!r}: "
                             f"{precision} TFLite",
                       cost="latency_ms", score="test_accuracy", measured=measured or None,
                       marked=doc.get("searched"))


@dataclasses.dataclass
class BaselineResult:
    """What `run_baseline` returns.

    Attributes:
        samples: per random cell, `genotype`, `test_accuracy`, `params_m`,
            `macs_m`, `parameter_free_ops`, `train_wall_s`.
        searched: the same figures of the searched cell, or None.
        summary: `baseline_summary(samples, searched)`.
        out_dir: the run directory.

    Example:

    >>> result.summary["percentile"]  # doctest: +SKIP
    87.5
    """

    samples: list
    searched: dict
    summary: dict
    out_dir: str


@restores_determinism
def run_baseline(train_config, out_dir, num_samples=8, space="darts", op_subsets=None, steps=4,
                 multiplier=4, searched=None, trained=None, seed=None, train_seeds=None,
                 latency_table=None, latency_precision="float32", min_latency_ms=None,
                 max_latency_ms=None, measure_latency=True, verbose=1):
    """Trains random cells of a search space and ranks a searched cell among them.

    Every cell, random or searched, is trained by `run_training` with
    `train_config` (only the genotype differs), so the comparison has one
    budget and one set of settings. Each cell trains in
    `out_dir/cells/NNN` (the searched one in `out_dir/searched`);
    `out_dir/baseline.json` is rewritten after every cell and
    `out_dir/baseline.png` at the end. Started again with the same
    arguments, a run skips finished cells and resumes the one it was
    training; runs recorded in `baseline.json` count as done even where
    their directories were removed. Bad input fails before anything is written.

    One training run is a noisy measure of a cell: on the embedded dataset
    the same cell's test accuracy moves by 1-2 points with the training
    seed alone, as much as random cells differ. With `train_seeds`, every
    cell (searched and random) trains once per seed and is ranked by its
    mean accuracy; runs under seeds other than `train_config.seed` go to
    `cells/NNN-seedS` (`searched-seedS`), so adding seeds to a finished
    baseline reuses its runs.

    With a latency table of the trained network (`keras-darts latency-table`),
    every cell's latency is predicted (`latency_ms`) and, unless
    `measure_latency` is off, measured here by exporting its network to
    TFLite (`measured_ms`); the summary's `latency` holds the Pareto fronts of
    test accuracy against predicted and against measured latency, over the
    random cells and the searched one, and `out_dir/baseline_latency.png`
    plots them. A latency bound draws the random cells uniformly from those
    predicted within it (the searched cell is trained whatever its latency,
    and its record says whether it is within).

    Args:
        train_config: a `TrainConfig` (its `genotype` is ignored).
        out_dir: the run directory.
        num_samples: random cells to train.
        space: a search space name (see `search_space_names()`).
        op_subsets: per-edge op subsets of the space (a dict or JSON file).
        steps, multiplier: DARTS-family cell sizes of the sampled cells.
        searched: the searched genotype (a name, path or genotype), or None
            for random cells alone. It is trained here unless `trained` is given.
        trained: a finished `keras-darts train` run directory of the searched
            genotype, trained with the same settings: its result is used
            instead of training it again.
        seed: the sampling seed (None: `train_config.seed`).
        train_seeds: the training seeds of every cell (None: just
            `train_config.seed`); a cell's accuracy is its mean over them.
            With `trained`, they must include `train_config.seed` (the seed
            of that run).
        latency_table: a latency table of the network `train_config` trains
            (its path, a `LatencyTable` or a `GenotypeLatency`), or None.
        latency_precision: the table's precision to predict and measure.
        min_latency_ms, max_latency_ms: bounds on the random cells' predicted
            latency (they need a table).
        measure_latency: with a table, also measure every cell's latency here.
        verbose: 0 silent, 1 one line per cell, 2 also Keras progress.

    Returns:
        A `BaselineResult`.

    Raises:
        ValueError: for a non-positive sample count, bad training seeds, an
            unknown space, bad training settings (a budget of 0 epochs), a searched genotype
            outside the space, a `trained` run with other settings, or an
            `out_dir` holding a baseline with other settings, a latency bound
            without a table or that too few cells satisfy.
        LatencyTableError: for a latency table of another network (naming the
            sizes that differ) or without the precision.
        FileNotFoundError: for a `trained` directory that is not a finished run.

    Example:

    >>> cfg = TrainConfig.from_preset("small")
    >>> result = run_baseline(cfg, "runs/baseline", num_samples=8,
    ...                       searched="runs/demo/search/genotype.json")  # doctest: +SKIP
    >>> result.summary["percentile"]  # doctest: +SKIP
    """
    import keras

    from keras_darts.architecture.genotype import get_genotype
    from keras_darts.search_space.spaces import get_search_space
    from keras_darts.data.sources import config_source
    from keras_darts.training import check_genotype_settings, run_training
    from keras_darts.utils import atomic_write_json

    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer. Received: {num_samples!r}")
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer. Received: {seed!r}")
    seed = train_config.seed if seed is None else seed
    seeds = check_train_seeds([train_config.seed] if train_seeds is None else train_seeds)
    if trained is not None and train_config.seed not in seeds:
        raise ValueError(f"train_seeds {list(seeds)} leave out the seed of the `trained` run "
                         f"({train_config.seed}): its result would not be used.")
    space = get_search_space(space, op_subsets)
    train_config = dataclasses.replace(train_config, genotype=None)
    searched_summary = None
    if trained is not None:
        searched, searched_summary = _trained_summary(trained, train_config)
    elif searched is not None and isinstance(searched, str):
        searched = get_genotype(searched)
    if searched is not None:
        check_in_space(searched, space, steps if space.family == "darts" else None)
    bounds = Bounds(min_latency_ms=min_latency_ms, max_latency_ms=max_latency_ms)
    if bounds.needs_latency and latency_table is None:
        raise ValueError("min_latency_ms and max_latency_ms need a latency_table of the "
                         "trained network (keras-darts latency-table).")
    train_config.validate()
    source = config_source(train_config)  # an unknown or bad dataset fails before any file
    latency = _latency(latency_table, latency_precision, train_config, source.info)
    genotypes = sample_genotypes(
        space, num_samples, seed, steps, multiplier,
        exclude=[searched] if searched is not None else (),
        accept=(lambda g: bounds.admits({"latency_ms": latency.predict(g)}))
        if bounds.needs_latency else None,
        constraint=f"the latency bounds {_describe_bounds(bounds)}")
    for g in genotypes[:1] + ([searched] if searched is not None else []):
        check_genotype_settings(g, train_config)
    settings = {"space": space.name, "op_subsets": space.op_subsets, "steps": steps,
                "multiplier": multiplier, "num_samples": num_samples, "seed": seed,
                "train_seeds": list(seeds),
                "searched": None if searched is None else str(searched),
                "train": {k: v for k, v in train_config.to_dict().items() if k != "genotype"}}
    if bounds.needs_latency:  # they change the draws
        settings["latency_bounds"] = [min_latency_ms, max_latency_ms]
    if latency is not None:  # a table may be added to a finished baseline
        settings["latency"] = {"table": latency.path, "precision": latency.precision,
                               "measured": bool(measure_latency)}
    doc_path = os.path.join(out_dir, BASELINE_FILE)
    known = {}
    if os.path.isfile(doc_path):
        from keras_darts.resume import describe_differences

        # The sample count and the training seeds may change: every (cell, seed) run has
        # its own directory, so a longer draw or more seeds extend a finished baseline.
        prior = read_json(doc_path)
        differ = describe_differences(prior.get("settings", {}), settings,
                                      ignore=("num_samples", "train_seeds", "latency"))
        if differ:
            raise ValueError(f"{out_dir} holds a baseline with other settings ({differ}). Use "
                             "another output directory, or delete it to start again.")
        known = _recorded_runs(prior, train_config.seed)
        if latency is not None:  # measurements taken before are not taken again
            for rec in prior.get("samples", []) + [prior.get("searched") or {}]:
                if rec.get("measured_ms") is not None and \
                        rec.get("latency_precision") == latency.precision:
                    latency.remember(rec["genotype"], {"ms": rec["measured_ms"],
                                                       "spread_ms": rec.get("measured_spread_ms")})

    def log(text):
        if verbose:
            print(text, flush=True)

    def run_dir(base, s):
        return base if s == train_config.seed else f"{base}-seed{s}"

    def train(genotype, base, given=None):
        """Trains `genotype` under every seed; returns the summaries and whether all were done."""
        summaries, cached = [], True
        for s in seeds:
            if given is not None and s == train_config.seed:
                summaries.append(given)
                continue
            path = run_dir(base, s)
            done = os.path.join(path, "summary.json")
            if os.path.isfile(done):
                summaries.append(read_json(done))
                continue
            if (str(genotype), s) in known:  # in baseline.json, its run directory removed
                summaries.append(known[(str(genotype), s)])
                continue
            _, summary = run_training(dataclasses.replace(train_config, genotype=genotype,
                                                          seed=s),
                                      path, verbose=max(0, verbose - 1), source=source)
            keras.backend.clear_session()  # free the graph of this cell before the next one
            summaries.append(summary)
            cached = False
        return summaries, cached

    def describe(rec):
        text = f"test accuracy {rec['test_accuracy']:.4f}"
        if "test_accuracy_std" in rec:
            text += f" (mean of {len(seeds)} seeds, std {rec['test_accuracy_std']:.4f})"
        if "latency_ms" in rec:
            text += f", {rec['latency_ms']:.3f} ms predicted"
            if "measured_ms" in rec:
                text += f", {rec['measured_ms']:.3f} ms measured"
        return text

    def with_latency(rec, genotype):
        if latency is None:
            return rec
        rec.update(latency_precision=latency.precision, latency_ms=latency.predict(genotype),
                   within_latency_bounds=bounds.admits({"latency_ms": latency.predict(genotype)}))
        if measure_latency:
            m = latency.measure(genotype)
            rec.update(measured_ms=m["ms"], measured_spread_ms=m.get("spread_ms"))
        return rec

    def write(samples, searched_rec):
        summary = baseline_summary(samples, searched_rec)
        if latency is not None:
            summary["latency"] = latency_fronts(samples, searched_rec)
        doc = {"settings": settings, "samples": samples, "searched": searched_rec,
               "summary": summary}
        atomic_write_json(doc_path, doc)
        return doc

    searched_rec = None
    if searched is not None:
        base = os.path.join(out_dir, "searched")
        if searched_summary is None or len(seeds) > 1:
            log(f"[baseline] training the searched cell {searched}")
        summaries, _ = train(searched, base, given=searched_summary)
        searched_rec = with_latency({**_record(searched, summaries, seeds),
                                     "source": trained or base}, searched)
        log(f"[baseline] searched cell: {describe(searched_rec)}")
    samples = []
    for i, g in enumerate(genotypes):
        t = time.time()
        summaries, cached = train(g, os.path.join(out_dir, "cells", f"{i:03d}"))
        samples.append(with_latency({"index": i, **_record(g, summaries, seeds)}, g))
        doc = write(samples, searched_rec)
        log(f"[baseline {i + 1}/{num_samples}] {describe(samples[-1])}  "
            f"({'done earlier' if cached else f'{time.time() - t:.0f} s'})  {g}")
    plot_baseline(doc, os.path.join(out_dir, PLOT_FILE))
    if latency is not None:
        plot_latency(doc, os.path.join(out_dir, LATENCY_PLOT_FILE))
    return BaselineResult(samples, searched_rec, doc["summary"], out_dir)
