"""A latency term in the search: the expected latency of the derived network, differentiable.

`ExpectedLatency` turns a supernet's mixing weights into the expected TFLite
latency (ms) of the stand-alone network a latency table is for: per edge of
every cell of that network, the table's latency of each candidate op weighted
by the op's share of the edge's mixing weights; DARTS-family edges are further
weighted by how likely the top-2 rule keeps them. `LatencyObjective` makes a
loss of it (a weight, or a target in ms) that every search strategy adds to
its architecture gradients through one mechanism
(`SearchModel.apply_gradients`).
"""

import numpy as np

from keras_darts.latency.table import PRECISIONS, LatencyTable, LatencyTableError
from keras_darts.search_space.cells import edge_endpoints
from keras_darts.search_space.ops import op_spec


def check_search_table(table, space, steps, multiplier, precision="float32"):
    """Raises unless a latency table can weigh a search over `space` (cells of that size).

    Args:
        table: a `LatencyTable`.
        space: the `SearchSpace`.
        steps, multiplier: the supernet's cell size (DARTS family).
        precision: the precision searched for.

    Raises:
        LatencyTableError: for a table of another cell family or cell size, or
            one missing a unit that a network derived from the space may have.
    """
    layout = table.layout
    if layout.family != space.family:
        raise LatencyTableError(
            f"The latency table is for a {layout.family}-family network (space "
            f"{table.space!r}); the search is over {space.family} cells ({space.name!r}).")
    if space.family == "darts" and (layout.steps, layout.multiplier) != (steps, multiplier):
        raise LatencyTableError(
            f"The latency table's network has cells of steps={layout.steps}, multiplier="
            f"{layout.multiplier}; the supernet's have steps={steps}, multiplier={multiplier}.")
    table.check_space(space.primitives, layout, precision)


class ExpectedLatency:
    """Expected latency (ms) of the network a table is for, from a supernet's mixing weights.

    For edge `e` of a cell with mixing weights `w` over its active ops other
    than `none`, the expected op latency is `sum_o w_o L_o / sum_o w_o`, with
    `L_o` the table's latency of op `o` at that edge's shape and stride in the
    target network (0 for a stride-1 skip). `none` takes no part: the DARTS
    top-2 rule never derives it, and in NAS-Bench-201 cells its alpha has no
    accuracy gradient under a sigmoid (its output is zero whatever its
    weight), so any latency pressure on it would make every edge `none`
    (measured: a Single-DARTS search with weight 0.05 derived an all-`none`
    cell); the latency term trades the other ops against each other.
    DARTS-family nodes keep their 2 strongest incoming edges: an edge counts
    with `min(1, 2 s_e / sum_node s)`, `s_e` its largest weight (times its
    edge weight under edge normalisation), as the top-2 rule ranks edges;
    nodes with two inputs keep both. The fixed parts (stem, preprocessing,
    sums, concatenations, head) add a constant. With one-hot
    weights of a genotype the value is the table's prediction of that
    genotype's network before shared ReLUs are taken off
    (`LatencyTable.predict`).

    Cells of the target network take the mixing weights of the supernet's
    first cell of their kind (the supernet and the network share one alpha per
    kind, however many cells each has); with one alpha per cell, the network
    must have the supernet's cells.

    Args:
        table: a `LatencyTable`.
        spec: the searching model's `SupernetSpec`.
        cell_types: the supernet's cell kinds, in order.
        masks: `{kind: (num_edges, num_ops) bool}` active ops of each kind.
        precision: `"float32"` or `"int8"`.

    Raises:
        LatencyTableError: for a table of another cell family or cell size, a
            table missing a unit the search may need, or per-cell alphas over
            a network of other cells.
    """

    def __init__(self, table, spec, cell_types, masks, precision="float32"):
        layout = table.layout
        space = spec.space
        check_search_table(table, space, spec.steps, spec.multiplier, precision)
        self.family = space.family
        self.precision = precision
        slots = layout.cell_slots()
        if spec.per_cell_alphas:
            if [s.kind for s in slots] != list(cell_types):
                raise LatencyTableError(
                    "With one alpha per cell the latency table's network must have the "
                    f"supernet's cells ({list(cell_types)}); it has {[s.kind for s in slots]}.")
            sources = list(range(len(slots)))
        else:
            first = {}
            for i, kind in enumerate(cell_types):
                first.setdefault(kind, i)
            missing = sorted({s.kind for s in slots} - set(first))
            if missing:
                raise LatencyTableError(f"The supernet has no {missing[0]} cell to weight the "
                                        f"latency table's {missing[0]} cells.")
            sources = [first[s.kind] for s in slots]
        primitives = space.primitives
        constant = sum(table.ms(u, precision) for u in layout.stem_units() + layout.head_units())
        per_source = {}
        for slot, source in zip(slots, sources):
            constant += sum(table.ms(u, precision) for u in slot.fixed)
            lat = np.array([[table.ms(slot.unit(r, op), precision) for op in primitives]
                            for r in range(len(slot.edges))], np.float32)
            per_source[source] = per_source.get(source, 0) + lat
        self.constant = float(constant)
        self.sources = sorted(per_source)
        self.latencies = [per_source[s] for s in self.sources]
        zero = np.array([op_spec(p).is_zero for p in primitives])
        # `none` takes no part: its alpha has no accuracy gradient under a sigmoid (its output
        # is zero whatever its weight), so any latency pressure on it would win every edge.
        self.usable = [np.asarray(masks[cell_types[s]], bool) & ~zero[None, :]
                       for s in self.sources]
        self.nodes = None
        if self.family == "darts":
            self.nodes = [[r for r, (node, _) in enumerate(edge_endpoints(spec.steps))
                           if node == i] for i in range(spec.steps)]

    def __call__(self, weights, edge_weights=None):
        """The expected latency in ms (a float32 scalar tensor).

        Args:
            weights: the supernet's per-cell mixing weights (a list of
                `(num_edges, num_ops)` tensors).
            edge_weights: per-cell edge weights of edge normalisation, or None.

        Returns:
            A scalar tensor.
        """
        from keras import ops

        total = ops.convert_to_tensor(self.constant, "float32")
        for source, lat, usable in zip(self.sources, self.latencies, self.usable):
            w = ops.cast(weights[source], "float32") * usable.astype(np.float32)
            share = w / (ops.sum(w, axis=1, keepdims=True) + 1e-12)
            per_edge = ops.sum(share * lat, axis=1)
            if self.nodes is not None:
                strength = ops.max(w, axis=1)
                if edge_weights is not None:
                    strength = strength * ops.cast(edge_weights[source], "float32")
                kept = []
                for rows in self.nodes:
                    s = ops.take(strength, rows)
                    if len(rows) <= 2:
                        kept.append(ops.ones_like(s))
                    else:
                        kept.append(ops.minimum(1.0, 2.0 * s / (ops.sum(s) + 1e-12)))
                per_edge = per_edge * ops.concatenate(kept)
            total = total + ops.sum(per_edge)
        return total


class LatencyObjective:
    """A latency loss for the search: the expected latency, with a weight or a target.

    Without a target the loss is `weight * E[latency] / reference`, the
    reference being the expected latency at uniform mixing weights (so the
    loss starts near `weight`, whatever the device or network). With a
    target `T` (ms) it is `weight * max(0, E[latency] / T - 1)`: no pressure
    below the target. The loss depends on the alphas only; its gradient is
    added to the architecture gradients of every strategy
    (`SearchModel.apply_gradients`).

    Args:
        table: a `LatencyTable`, its dict, or a JSON path.
        weight: the loss weight (0: the latency is only logged).
        target_ms: a latency target in ms, or None.
        precision: the table's precision to search for (`"float32"`, `"int8"`).

    Raises:
        ValueError: for a negative weight, a non-positive target, an unknown precision.
        LatencyTableError: for a table that cannot be read.

    Example:

    >>> model = BilevelSearch(num_classes=10, input_shape=(28, 28, 1), layers=5, channels=8,
    ...                       latency={"table": "latency.json", "weight": 0.5})  # doctest: +SKIP
    """

    def __init__(self, table, weight=1.0, target_ms=None, precision="float32"):
        if isinstance(table, dict):
            table = LatencyTable.from_dict(table)
        elif not isinstance(table, LatencyTable):
            table = LatencyTable.load(table)
        if not weight >= 0:
            raise ValueError(f"The latency weight must be >= 0. Received: weight={weight!r}")
        if target_ms is not None and not target_ms > 0:
            raise ValueError("The latency target must be a positive number of ms. "
                             f"Received: target_ms={target_ms!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {precision!r}; known: {list(PRECISIONS)}.")
        self.table = table
        self.weight = float(weight)
        self.target_ms = None if target_ms is None else float(target_ms)
        self.precision = precision
        self.expected = None
        self.reference = None

    @classmethod
    def create(cls, value):
        """A `LatencyObjective` from itself, its config dict, or None (None)."""
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, dict) or "table" not in value:
            raise ValueError("latency must be a LatencyObjective or a dict with 'table' (a "
                             f"LatencyTable, its dict or a JSON path). Received: {value!r}")
        return cls(**value)

    def bind(self, spec, architecture, cell_types):
        """Prepares the expected latency of a supernet (`ExpectedLatency`); returns self."""
        masks = {k: architecture.mask(k) for k in set(cell_types)}
        self.expected = ExpectedLatency(self.table, spec, cell_types, masks, self.precision)
        uniform = [np.asarray(masks[k], np.float32) for k in cell_types]
        self.reference = float(self.expected(uniform))
        return self

    def latency(self, architecture):
        """The expected latency (ms) at the current alphas (a scalar tensor)."""
        return self.expected(architecture.mixing_weights(), architecture.edge_weights())

    def loss(self, architecture):
        """The latency loss at the current alphas (a scalar tensor)."""
        from keras import ops

        ms = self.latency(architecture)
        if self.target_ms is None:
            return self.weight * ms / self.reference
        return self.weight * ops.relu(ms / self.target_ms - 1.0)

    def summary(self, architecture, genotype):
        """What a search's summary reports: expected latency now, predicted latency of `genotype`.

        Returns:
            A JSON-serialisable dict (ms): `expected_ms` (the current alphas),
            `predicted_ms` (the derived genotype's network, `LatencyTable.predict`),
            `uniform_ms` (uniform alphas), and the objective's settings.
        """
        return {"expected_ms": round(float(self.latency(architecture)), 5),
                "predicted_ms": round(self.table.predict(genotype, self.precision), 5),
                "uniform_ms": round(self.reference, 5), "precision": self.precision,
                "weight": self.weight, "target_ms": self.target_ms,
                "network": self.table.layout.to_dict(), "device": self.table.device}

    def get_config(self):
        """The objective as a dict (`create`'s input), its table included."""
        return {"table": self.table.to_dict(), "weight": self.weight,
                "target_ms": self.target_ms, "precision": self.precision}
