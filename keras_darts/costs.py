"""What a finished genotype costs: parameters, multiply-adds, latency; bounds and Pareto fronts.

Searches that score finished genotypes (DARTS-PD's path search, the random
baseline) cost each one's stand-alone network with `GenotypeCost`, keep
those within `Bounds`, and report the `pareto_front` of accuracy against a
cost (`plot_pareto`).
"""

import dataclasses

import numpy as np


class GenotypeCost:
    """Parameters, multiply-adds and predicted latency of a genotype's stand-alone network (cached).

    Args:
        num_classes: classes.
        input_shape: `(height, width, channels)`.
        layers: cells of the stand-alone network (DARTS family).
        channels: its initial channels.
        stem: `"cifar"` or `"imagenet"` (DARTS family).
        macs: also count multiply-adds (slower: traces the network).
        cells_per_stage: cells per stage of a NAS-Bench-201 network (5 if None).
        latency: a `keras_darts.latency.GenotypeLatency` (or a latency table's
            path) whose table is for this network: the cost then holds the
            predicted latency, `latency_ms`.

    Raises:
        LatencyTableError: for a latency table of another network (naming the
            sizes that differ) or without the precision.

    Example:

    >>> cost = GenotypeCost(10, (28, 28, 1), layers=8, channels=16)
    >>> cost(get_genotype("DARTS_V2"))["params"]  # doctest: +SKIP
    0.31
    """

    def __init__(self, num_classes, input_shape, layers=20, channels=36, stem="cifar",
                 macs=False, cells_per_stage=None, latency=None):
        self.kwargs = dict(num_classes=num_classes, input_shape=tuple(input_shape),
                           layers=layers, channels=channels, stem=stem, auxiliary=False,
                           drop_path=False, cells_per_stage=cells_per_stage)
        self.macs = bool(macs)
        if isinstance(latency, str):
            from keras_darts.latency import GenotypeLatency

            latency = GenotypeLatency(latency)
        if latency is not None:
            latency.check_network("the cost network", **self.kwargs)
        self.latency = latency
        self._cache = {}

    def __call__(self, genotype):
        """Returns `{"params": millions, "macs": millions or None, "latency_ms": ms or None}`."""
        from keras_darts.networks import build_network, count_params
        from keras_darts.profiling import count_macs

        key = genotype.to_text()
        if key not in self._cache:
            model = build_network(genotype, **self.kwargs)
            self._cache[key] = {
                "params": round(count_params(model), 6),
                "macs": round(count_macs(model), 3) if self.macs else None,
                "latency_ms": None if self.latency is None else self.latency.predict(genotype)}
        return self._cache[key]


@dataclasses.dataclass(frozen=True)
class Bounds:
    """Optional bounds on a candidate's cost (`GenotypeCost`'s keys).

    Attributes:
        min_params, max_params: millions of parameters.
        min_macs, max_macs: millions of multiply-adds (the cost must count them).
        min_latency_ms, max_latency_ms: predicted latency in ms (the cost
            must predict it: `GenotypeCost(..., latency=...)`).

    Raises:
        ValueError: for a negative bound or an empty range (min above max).

    Example:

    >>> Bounds(max_params=0.5).admits({"params": 0.4, "macs": None})
    True
    >>> Bounds(max_latency_ms=0.1).admits({"params": 0.4, "latency_ms": 0.2})
    False
    """

    min_params: float = None
    max_params: float = None
    min_macs: float = None
    max_macs: float = None
    min_latency_ms: float = None
    max_latency_ms: float = None

    COSTS = ("params", "macs", "latency_ms")

    def __post_init__(self):
        for what in self.COSTS:
            lo, hi = getattr(self, f"min_{what}"), getattr(self, f"max_{what}")
            for name, v in ((f"min_{what}", lo), (f"max_{what}", hi)):
                if v is not None and not v >= 0:
                    raise ValueError(f"{name} must be a non-negative number. Received: {v!r}")
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"Empty bound range: min_{what}={lo} exceeds max_{what}={hi}.")

    def bounds(self, what):
        """Whether a bound on the cost `what` (`"params"`, `"macs"`, `"latency_ms"`) is set."""
        return getattr(self, f"min_{what}") is not None or getattr(self, f"max_{what}") is not None

    @property
    def needs_macs(self):
        """Whether a multiply-add bound is set."""
        return self.bounds("macs")

    @property
    def needs_latency(self):
        """Whether a latency bound is set."""
        return self.bounds("latency_ms")

    def admits(self, cost):
        """Whether a `GenotypeCost` result lies within the bounds."""
        for what in self.COSTS:
            lo, hi = getattr(self, f"min_{what}"), getattr(self, f"max_{what}")
            v = cost.get(what)
            if (lo is not None or hi is not None) and v is None:
                return False
            if lo is not None and v < lo or hi is not None and v > hi:
                return False
        return True


def pareto_front(records, cost="params", score="accuracy"):
    """The records not dominated in (lower `cost`, higher `score`).

    Args:
        records: dicts with the `cost` and `score` keys (those whose `cost`
            is missing or None take no part).
        cost: the key to minimise (parameters; a latency in ms ...).
        score: the key to maximise.

    Returns:
        The front, by increasing cost (and score).

    Example:

    >>> pareto_front([{"params": 1, "accuracy": 0.5}, {"params": 2, "accuracy": 0.4},
    ...               {"params": 3, "accuracy": 0.9}])
    [{'params': 1, 'accuracy': 0.5}, {'params': 3, 'accuracy': 0.9}]
    """
    front, best = [], -np.inf
    for r in sorted((r for r in records if r.get(cost) is not None),
                    key=lambda r: (r[cost], -r[score])):
        if r[score] > best:
            front.append(r)
            best = r[score]
    return front


COST_LABELS = {"params": "parameters (M)", "macs": "multiply-adds (M)",
               "latency_ms": "predicted latency (ms)", "measured_ms": "measured latency (ms)"}


def plot_pareto(records, front, path, title="DARTS-PD paths", cost="params", score="accuracy",
                measured=None, xlabel=None, marked=None):
    """Writes a PNG of every scored candidate and the Pareto front (atomically).

    Args:
        records: all scored records (with the `cost` and `score` keys).
        front: their Pareto front.
        path: the PNG path.
        title: the plot title.
        cost: the x-axis key (`"params"`, `"macs"`, `"latency_ms"` ...).
        score: the y-axis key.
        measured: records with a measured latency (`"measured_ms"`), drawn
            on the same axis with their own front (None: none).
        xlabel: the x-axis label (default from `cost`).
        marked: one record to mark (e.g. the searched cell among random
            ones), at its measured latency where it has one, or None.

    Returns:
        The path.

    Example:

    >>> plot_pareto(result.records, result.pareto, "front.png")  # doctest: +SKIP
    'front.png'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_darts.utils.io import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4))
    predicted = " (predicted)" if measured else ""
    ax.scatter([r[cost] for r in records], [r[score] for r in records], s=12,
               color="0.6", label=f"all ({len(records)}){predicted}")
    ax.plot([r[cost] for r in front], [r[score] for r in front], "o-", color="C3",
            label=f"Pareto front ({len(front)}){predicted}")
    if measured:
        mfront = pareto_front(measured, cost="measured_ms", score=score)
        ax.scatter([r["measured_ms"] for r in measured], [r[score] for r in measured],
                   marker="s", s=22, facecolors="none", edgecolors="C0",
                   label=f"measured ({len(measured)})")
        ax.plot([r["measured_ms"] for r in mfront], [r[score] for r in mfront], "--",
                color="C0", label=f"Pareto front, measured ({len(mfront)})")
        xlabel = xlabel or "latency (ms)"
    if marked is not None:
        x = marked.get("measured_ms") if measured else None
        ax.scatter([marked[cost] if x is None else x], [marked[score]], marker="*", s=160,
                   color="C3", edgecolors="k", zorder=5, label="searched")
    ax.set_xlabel(xlabel or COST_LABELS.get(cost, cost))
    ax.set_ylabel({"accuracy": "validation accuracy",
                   "test_accuracy": "test accuracy"}.get(score, score))
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return path
