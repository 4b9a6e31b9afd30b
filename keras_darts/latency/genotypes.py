"""The latency of genotypes' networks: predicted from a table, and measured on this machine.

`GenotypeLatency` is what searches over finished genotypes use (DARTS-PD's
path search, the random baseline): it predicts a genotype's network latency
from a `LatencyTable` (cheap: a lookup per unit), and measures it by
exporting the network to TFLite and timing it as the table's units were
timed (seconds per network). Both are cached per genotype.
"""

import inspect

from keras_darts.latency.table import LatencyTable, LatencyTableError


def _build_defaults():
    from keras_darts.networks import build_network

    return {k: p.default for k, p in inspect.signature(build_network).parameters.items()
            if p.default is not inspect.Parameter.empty}


class GenotypeLatency:
    """Predicted and measured latency (ms) of genotypes' networks under one latency table.

    The network of a genotype is the table's (`table.layout`): a cost network
    of another size must be checked with `check_network` first.

    Args:
        table: a `LatencyTable` or the path of one.
        precision: `"float32"` or `"int8"`, one the table holds.
        threads: interpreter threads of the measurement (None: the table's).
        warmup, runs, passes: timing settings of the measurement (as
            `keras_darts.latency.time_tflite`).

    Raises:
        LatencyTableError: for a file that is not a table, or a precision it lacks.

    Example:

    >>> latency = GenotypeLatency("latency/nb201_small.json")  # doctest: +SKIP
    >>> latency.predict(genotype), latency.measure(genotype)["ms"]  # doctest: +SKIP
    (0.243, 0.257)
    """

    def __init__(self, table, precision="float32", threads=None, warmup=20, runs=100, passes=3):
        self.path = table if isinstance(table, str) else None
        self.table = LatencyTable.load(table) if isinstance(table, str) else table
        if not isinstance(self.table, LatencyTable):
            raise TypeError(f"table must be a LatencyTable or its path. Received: {table!r}")
        self.table._units(precision)  # a precision the table lacks fails here
        self.precision = precision
        self.threads = int(threads or self.table.threads)
        self.timing = dict(warmup=warmup, runs=runs, passes=passes)
        self._predicted, self._measured = {}, {}

    @property
    def layout(self):
        """The network whose latency is predicted and measured (the table's `NetworkLayout`)."""
        return self.table.layout

    def check_network(self, what="the network", **network):
        """Raises unless `build_network(genotype, **network)` builds the table's network.

        Args:
            what: how the error names the network (e.g. `"DARTS-PD's cost network"`).
            **network: `build_network` keyword arguments (missing or None ones
                take `build_network`'s defaults; `auxiliary`, `drop_path`,
                `seed` and `name` do not change latency and are ignored).

        Raises:
            LatencyTableError: naming every size that differs, the table's and the network's.

        Example:

        >>> latency.check_network("the cost network", num_classes=10, layers=6, channels=8,
        ...                       input_shape=(28, 28, 1))  # doctest: +SKIP
        """
        from keras_darts.search_space.supernet import reduction_indices

        defaults = _build_defaults()
        differ = []
        for key, ours in self.layout.network_kwargs().items():
            if key in ("auxiliary", "drop_path"):
                continue
            theirs = network.get(key)
            if theirs is None:
                theirs = defaults.get(key)
            if key == "cells_per_stage" and theirs is None:
                theirs = 5
            if key == "reductions":
                theirs = tuple(reduction_indices(network.get("layers") or defaults["layers"],
                                                 theirs))
                ours = tuple(ours)
            if key == "input_shape":
                theirs, ours = tuple(int(d) for d in theirs), tuple(ours)
            if theirs != ours:
                differ.append(f"{key}={theirs!r} (the table's: {ours!r})")
        if differ:
            raise LatencyTableError(
                f"The latency table is for another network than {what}: "
                f"{', '.join(differ)}. Measure a table for that network "
                "(keras-darts latency-table with its sizes).")

    def predict(self, genotype):
        """The table's prediction for a genotype's network, in ms.

        Raises:
            LatencyTableError: if the table lacks a unit of the network.
        """
        key = str(genotype)
        if key not in self._predicted:
            self._predicted[key] = round(self.table.predict(genotype, self.precision), 6)
        return self._predicted[key]

    def measure(self, genotype):
        """The network's latency measured here: exported to TFLite and timed (`measure_network`).

        Returns:
            `{"ms": median, "spread_ms": interquartile range, "runs": ...}`.
        """
        from keras_darts.latency.measure import measure_network

        key = str(genotype)
        if key not in self._measured:
            self._measured[key] = measure_network(self.layout.build(genotype), (self.precision,),
                                                  self.threads, **self.timing)[self.precision]
        return self._measured[key]

    def remember(self, genotype, measured):
        """Records a measurement taken earlier (a resumed run), so it is not taken again."""
        self._measured[str(genotype)] = dict(measured)

    def describe(self):
        """A JSON-serialisable description: the table, precision and the two devices."""
        from keras_darts.latency.measure import device_description

        return {"table": self.path, "precision": self.precision,
                "table_device": self.table.device,
                "measured_on": device_description(self.threads),
                "timing": dict(self.timing, threads=self.threads)}
