"""`NB201Genotype`: a NAS-Bench-201 cell and its arch string."""

import dataclasses
import json

from keras_darts.architecture.genotype import GenotypeError
from keras_darts.search_space.ops import NB201_PRIMITIVES
from keras_darts.utils.io import atomic_write_json


@dataclasses.dataclass(frozen=True)
class NB201Genotype:
    """A NAS-Bench-201 cell: for each node 1..3, one `(op, from_node)` per earlier node.

    Written as the benchmark's arch string,
    `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|`.
    `none` edges are kept (the benchmark indexes cells with them).

    Args:
        nodes: a tuple per node of `(op, from_node)` pairs.

    Raises:
        GenotypeError: for unknown ops, missing or repeated inputs, or a wrong
            node count.

    Example:

    >>> g = NB201Genotype.from_arch_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|"
    ...                                    "avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|")
    >>> g.to_arch_string().count("~")
    6
    """

    nodes: tuple

    def __post_init__(self):
        nodes = []
        try:
            for i, node in enumerate(self.nodes, start=1):
                pairs = tuple((str(op), int(j)) for op, j in node)
                nodes.append(pairs)
        except (TypeError, ValueError):
            raise GenotypeError(f"nodes must be lists of (op, from_node) pairs. "
                                f"Received: {self.nodes!r}") from None
        if len(nodes) != 3:
            raise GenotypeError(f"A NAS-Bench-201 cell has 3 nodes after its input. "
                                f"Received {len(nodes)}.")
        for i, node in enumerate(nodes, start=1):
            inputs = sorted(j for _, j in node)
            if inputs != list(range(i)):
                raise GenotypeError(f"Node {i} must take exactly one edge from each of nodes "
                                    f"0..{i - 1}. Received inputs {inputs}.")
            for op, j in node:
                if op not in NB201_PRIMITIVES:
                    raise GenotypeError(f"Unknown op {op!r} on edge {j}->{i}. Known ops: "
                                        f"{list(NB201_PRIMITIVES)}.")
        object.__setattr__(self, "nodes", tuple(tuple(sorted(n, key=lambda p: p[1]))
                                                for n in nodes))

    def edge_list(self):
        """`(op, from_node)` per edge in alpha row order (node by node, inputs ascending)."""
        return [pair for node in self.nodes for pair in node]

    def to_arch_string(self):
        """The benchmark's arch string."""
        return "+".join("|" + "|".join(f"{op}~{j}" for op, j in node) + "|" for node in self.nodes)

    to_text = to_arch_string
    __str__ = to_arch_string

    @classmethod
    def from_arch_string(cls, text):
        """Parses an arch string.

        Raises:
            GenotypeError: if the string is malformed or names unknown ops.
        """
        if not isinstance(text, str) or not text.strip():
            raise GenotypeError(f"An arch string must be a non-empty string. Received: {text!r}")
        nodes = []
        for part in text.strip().split("+"):
            if not (part.startswith("|") and part.endswith("|")) or len(part) < 3:
                raise GenotypeError(f"Malformed node {part!r} in arch string {text!r}: "
                                    "expected |op~j|op~j|.")
            pairs = []
            for item in part[1:-1].split("|"):
                op, sep, j = item.partition("~")
                if not sep or not j.isdigit():
                    raise GenotypeError(f"Malformed edge {item!r} in arch string {text!r}: "
                                        "expected op~input.")
                pairs.append((op, int(j)))
            nodes.append(pairs)
        return cls(tuple(nodes))

    def count(self, ops):
        """How many edges use one of `ops`."""
        return sum(op in ops for op, _ in self.edge_list())

    def to_dict(self):
        """JSON-ready form."""
        return {"arch": self.to_arch_string()}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        if not isinstance(d, dict) or "arch" not in d:
            raise GenotypeError(f"Expected {{'arch': ...}}. Received: {d!r}")
        return cls.from_arch_string(d["arch"])

    def to_json(self):
        """JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text):
        """Parses `to_json()` output (or a genotype.json of an NB201 search)."""
        try:
            d = json.loads(text)
        except (TypeError, json.JSONDecodeError) as e:
            raise GenotypeError(f"Genotype JSON could not be parsed: {e}") from None
        return cls.from_dict(d.get("genotype", d) if isinstance(d, dict) else d)

    def save(self, path, **extra):
        """Writes `{"genotype": {"arch": ...}, "text": ..., **extra}` atomically."""
        return atomic_write_json(path, {"genotype": self.to_dict(), "text": self.to_text(),
                                        **extra})

    #: the one cell kind (one drawing: `cell.dot` / `cell.png`).
    cell_kinds = ("cell",)

    def cell_graph(self, kind="cell"):
        """The drawable graph of the cell (`none` edges are left out; node 3 is the output).

        Raises:
            ValueError: for a kind other than `"cell"`.
        """
        if kind not in self.cell_kinds:
            raise ValueError(f"kind must be 'cell' for a NAS-Bench-201 genotype. "
                             f"Received: kind={kind!r}")
        edges = [(str(j), str(i), op) for i, node in enumerate(self.nodes, start=1)
                 for op, j in node if op != "none"]
        return {"inputs": ["0"], "nodes": ["1", "2"], "output": "3", "edges": edges,
                "concat": []}

    def render(self):
        """One line per node."""
        return "\n".join(f"node {i} <- " + ", ".join(f"{op}(node {j})" for op, j in node)
                         for i, node in enumerate(self.nodes, start=1))
