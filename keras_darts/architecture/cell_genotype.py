"""Per-cell genotypes (D-DARTS): every cell its own architecture, 0..2 ops per edge."""

import dataclasses
import json

from keras_darts.architecture.genotype import GenotypeError
from keras_darts.search_space.ops import op_spec, registered_ops
from keras_darts.utils.io import atomic_write_json


@dataclasses.dataclass(frozen=True)
class CellGenotype:
    """One discrete cell in the FairDARTS / D-DARTS form.

    Edges are `(op, node, input)` triples: intermediate `node` (0-based) takes
    `op` applied to state `input` (0 and 1 are the cell inputs, `k >= 2` is
    node `k - 2`). A node may have any number of incoming ops (the `sparse` and
    `edge` parsers keep 0..2 per edge); a node without ops is zero. Immutable
    and validated on construction.

    Args:
        edges: `(op, node, input)` triples.
        concat: states concatenated into the cell output.
        steps: intermediate nodes.
        reduction: a reduction cell (stride 2 on the cell inputs).

    Raises:
        GenotypeError: for unknown ops, out-of-range nodes or inputs, repeated
            edges, or concat indices out of range.

    Example:

    >>> cell = CellGenotype([("sep_conv_3x3", 0, 0), ("skip_connect", 1, 2)], [2, 3], steps=2)
    >>> CellGenotype.from_dict(cell.to_dict()) == cell
    True
    """

    edges: tuple
    concat: tuple
    steps: int
    reduction: bool = False

    def __post_init__(self):
        try:
            edges = tuple((str(op), int(node), int(inp)) for op, node, inp in self.edges)
            concat = tuple(int(c) for c in self.concat)
            steps = int(self.steps)
        except (TypeError, ValueError):
            raise GenotypeError("A cell genotype needs (op, node, input) triples, integer "
                                f"concat indices and steps. Received: {self!r}") from None
        if steps < 1:
            raise GenotypeError(f"steps must be >= 1. Received: {steps}")
        for op, node, inp in edges:
            try:
                op_spec(op)
            except ValueError:
                raise GenotypeError(f"Unknown op {op!r} on edge {inp}->{node}. Known ops: "
                                    f"{registered_ops()}.") from None
            if not 0 <= node < steps:
                raise GenotypeError(f"Node {node} out of range for a cell of {steps} nodes.")
            if not 0 <= inp < node + 2:
                raise GenotypeError(f"Bad input {inp} for node {node}: it can take inputs "
                                    f"0..{node + 1}.")
        if len(set(edges)) != len(edges):
            raise GenotypeError(f"Repeated edges in {list(edges)}.")
        bad = [c for c in concat if not 0 <= c < steps + 2]
        if bad or not concat:
            raise GenotypeError(f"concat {list(concat)} must be non-empty indices in "
                                f"0..{steps + 1}.")
        object.__setattr__(self, "edges", tuple(sorted(edges, key=lambda e: (e[1], e[2], e[0]))))
        object.__setattr__(self, "concat", concat)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "reduction", bool(self.reduction))

    @property
    def kind(self):
        """`"reduce"` or `"normal"`."""
        return "reduce" if self.reduction else "normal"

    def to_dict(self):
        """JSON-ready form."""
        return {"edges": [list(e) for e in self.edges], "concat": list(self.concat),
                "steps": self.steps, "reduction": self.reduction}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`.

        Raises:
            GenotypeError: for a malformed dict.
        """
        try:
            return cls(d["edges"], d["concat"], d["steps"], d.get("reduction", False))
        except (KeyError, TypeError):
            raise GenotypeError(f"A cell genotype dict needs edges, concat and steps. "
                                f"Received: {d!r}") from None

    def validate(self, primitives):
        """Checks that every op belongs to `primitives`; returns self.

        Raises:
            GenotypeError: naming the first op outside the space.
        """
        for op, node, inp in self.edges:
            if op not in primitives:
                raise GenotypeError(f"Op {op!r} on edge {inp}->{node} is not in this search "
                                    f"space {list(primitives)}.")
        return self

    def cell_graph(self, kind=None):
        """The drawable graph of the cell (see `Genotype.cell_graph`)."""
        names = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(self.steps)]
        return {"inputs": names[:2], "nodes": names[2:], "output": "c_{k}",
                "edges": [(names[inp], str(node), op) for op, node, inp in self.edges],
                "concat": [names[c] for c in self.concat]}

    def render(self):
        """One line per edge."""
        lines = [f"{self.kind} cell (output: concat of {list(self.concat)}):"]
        for op, node, inp in self.edges:
            src = ("c_{k-2}" if inp == 0 else "c_{k-1}") if inp < 2 else f"node {inp - 2}"
            lines.append(f"  node {node} <- {op:<14} <- {src}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class NetworkGenotype:
    """A whole network of individually searched cells (D-DARTS): one `CellGenotype` per cell.

    `build_network` accepts it (the network has `len(cells)` cells, reductions
    where the cells are reduction cells); `deepen` derives longer or shorter
    networks (D-DARTS Algorithm 1).

    Args:
        cells: the cell genotypes in network order.

    Raises:
        GenotypeError: for an empty list or non-cell entries.

    Example:

    >>> net = NetworkGenotype.from_json(text)  # doctest: +SKIP
    >>> [c.kind for c in net.cells]  # doctest: +SKIP
    """

    cells: tuple

    def __post_init__(self):
        cells = tuple(CellGenotype.from_dict(c) if isinstance(c, dict) else c
                      for c in self.cells)
        if not cells or not all(isinstance(c, CellGenotype) for c in cells):
            raise GenotypeError("A network genotype needs a non-empty list of CellGenotype. "
                                f"Received: {self.cells!r}")
        object.__setattr__(self, "cells", cells)

    @property
    def reductions(self):
        """Indices of the reduction cells."""
        return tuple(i for i, c in enumerate(self.cells) if c.reduction)

    @property
    def cell_kinds(self):
        """`("cell_0", "cell_1", ...)`: one drawing per cell."""
        return tuple(f"cell_{i}" for i in range(len(self.cells)))

    def cell_graph(self, kind):
        """The drawable graph of cell `kind` (`"cell_i"`).

        Raises:
            ValueError: for an unknown cell name.
        """
        if kind not in self.cell_kinds:
            raise ValueError(f"kind must be one of {list(self.cell_kinds)}. Received: {kind!r}")
        return self.cells[int(kind.split("_")[1])].cell_graph()

    def validate(self, primitives):
        """Checks every cell's ops against `primitives`; returns self.

        Raises:
            GenotypeError: naming the cell and the op outside the space.
        """
        for i, c in enumerate(self.cells):
            try:
                c.validate(primitives)
            except GenotypeError as e:
                raise GenotypeError(f"Cell {i}: {e}") from None
        return self

    def count(self, ops):
        """How many edges (over all cells) use one of `ops`."""
        return sum(op in ops for c in self.cells for op, _, _ in c.edges)

    def to_dict(self):
        """JSON-ready form: `{"cells": [...]}`."""
        return {"cells": [c.to_dict() for c in self.cells]}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`.

        Raises:
            GenotypeError: for a malformed dict.
        """
        if not isinstance(d, dict) or not isinstance(d.get("cells"), list):
            raise GenotypeError(f"Expected {{'cells': [...]}}. Received: {d!r}")
        return cls(tuple(CellGenotype.from_dict(c) for c in d["cells"]))

    def to_json(self):
        """JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text):
        """Parses `to_json()` output or a search's genotype.json.

        Raises:
            GenotypeError: if the text is not a network genotype.
        """
        try:
            d = json.loads(text)
        except (TypeError, json.JSONDecodeError) as e:
            raise GenotypeError(f"Genotype JSON could not be parsed: {e}") from None
        return cls.from_dict(d.get("genotype", d) if isinstance(d, dict) else d)

    def to_text(self):
        """Compact JSON (one line)."""
        return self.to_json()

    __str__ = to_text

    def save(self, path, **extra):
        """Writes `{"genotype": {"cells": ...}, **extra}` atomically."""
        return atomic_write_json(path, {"genotype": self.to_dict(), **extra})

    def render(self):
        """Every cell, one line per edge."""
        return "\n".join(f"[{i}] " + c.render() for i, c in enumerate(self.cells))
