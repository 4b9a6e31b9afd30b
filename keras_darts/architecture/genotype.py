"""The `Genotype`: a discrete DARTS cell pair, its text and JSON forms, and validation."""

import ast
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess

from keras_darts.search_space.ops import op_spec, registered_ops
from keras_darts.utils.io import atomic_path, atomic_write_json


class GenotypeError(ValueError):
    """A genotype is malformed: bad text, bad JSON, unknown op, bad index or edge count.

    A `ValueError`, so callers that catch `ValueError` handle it too.

    Example:

    >>> try:
    ...     Genotype.from_text("Genotype(")
    ... except GenotypeError as e:
    ...     print("bad genotype:", e)  # doctest: +SKIP
    """


def _as_edges(edges, field):
    if isinstance(edges, (str, bytes)) or not hasattr(edges, "__iter__"):
        raise GenotypeError(f"{field} must be a list of (op, input) pairs. Received: {edges!r}")
    out = []
    for k, edge in enumerate(edges):
        if (not isinstance(edge, (list, tuple)) or len(edge) != 2
                or not isinstance(edge[0], str) or isinstance(edge[1], bool)
                or not isinstance(edge[1], int)):
            raise GenotypeError(
                f"{field} edge {k} must be an (op_name, input_index) pair. Received: {edge!r}"
            )
        out.append((edge[0], int(edge[1])))
    return tuple(out)


def _as_concat(concat, field):
    try:
        values = tuple(concat)
    except TypeError:
        raise GenotypeError(f"{field} must be a list of node indices. Received: {concat!r}") from None
    if not values or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise GenotypeError(f"{field} must be a non-empty list of node indices. Received: {concat!r}")
    return values


@dataclasses.dataclass(frozen=True)
class Genotype:
    """A discrete DARTS architecture: a normal cell and a reduction cell.

    Each cell is a list of `(op_name, input_index)` edges, two per
    intermediate node in node order; input 0 and 1 are the cell's inputs and
    input `k >= 2` is intermediate node `k - 2`. `*_concat` lists the states
    concatenated into the cell's output. A genotype is immutable and validated
    on construction: unknown ops, inputs that do not precede their node, an
    odd edge count or concat indices out of range raise `GenotypeError`.

    Args:
        normal: edges of the normal cell.
        normal_concat: states concatenated by the normal cell.
        reduce: edges of the reduction cell.
        reduce_concat: states concatenated by the reduction cell.

    Raises:
        GenotypeError: if the genotype is malformed (the message names the
            cell, the edge and the problem).

    Example:

    >>> g = Genotype.from_text(
    ...     "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], "
    ...     "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])")
    >>> Genotype.from_json(g.to_json()) == g
    True
    """

    normal: tuple
    normal_concat: tuple
    reduce: tuple
    reduce_concat: tuple

    def __post_init__(self):
        for field in ("normal", "reduce"):
            object.__setattr__(self, field, _as_edges(getattr(self, field), field))
        for field in ("normal_concat", "reduce_concat"):
            object.__setattr__(self, field, _as_concat(getattr(self, field), field))
        for kind in ("normal", "reduce"):
            self._check_cell(kind)

    def _check_cell(self, kind):
        edges = getattr(self, kind)
        if not edges or len(edges) % 2:
            raise GenotypeError(
                f"{kind} cell must have 2 edges per node (an even, non-zero count). "
                f"Received {len(edges)} edges."
            )
        for k, (op, inp) in enumerate(edges):
            node = k // 2
            try:
                op_spec(op)
            except ValueError:
                raise GenotypeError(
                    f"Unknown op {op!r} in {kind} edge {k} (node {node}). "
                    f"Known ops: {registered_ops()}."
                ) from None
            if not 0 <= inp < node + 2:
                raise GenotypeError(
                    f"Bad input index {inp} in {kind} edge {k}: node {node} can only take "
                    f"inputs 0..{node + 1} (the two cell inputs and earlier nodes)."
                )
        steps = len(edges) // 2
        concat = getattr(self, f"{kind}_concat")
        bad = [c for c in concat if not 0 <= c < steps + 2]
        if bad:
            raise GenotypeError(
                f"{kind}_concat indices {bad} out of range: a cell with {steps} nodes has "
                f"states 0..{steps + 1}."
            )

    @property
    def steps(self):
        """Intermediate nodes per cell (the normal cell's)."""
        return len(self.normal) // 2

    def validate(self, primitives):
        """Checks that every op belongs to a search space's `primitives`.

        Args:
            primitives: the op names of a search space.

        Returns:
            The genotype.

        Raises:
            GenotypeError: naming the first op outside the space.

        Example:

        >>> DARTS_V2 = get_genotype("DARTS_V2")
        >>> DARTS_V2.validate(DARTS_PRIMITIVES) is DARTS_V2
        True
        """
        for kind in ("normal", "reduce"):
            for k, (op, _) in enumerate(getattr(self, kind)):
                if op not in primitives:
                    raise GenotypeError(
                        f"Op {op!r} in {kind} edge {k} is not in this search space's ops "
                        f"{list(primitives)}."
                    )
        return self

    # ------------------------------------------------------------------ JSON
    def to_dict(self):
        """A JSON-ready dict."""
        return {
            "normal": [list(e) for e in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [list(e) for e in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    @classmethod
    def from_dict(cls, d):
        """Builds a genotype from `to_dict()` output.

        Raises:
            GenotypeError: for missing keys or malformed values.
        """
        if not isinstance(d, dict):
            raise GenotypeError(f"A genotype must be a JSON object. Received: {type(d).__name__}")
        keys = ("normal", "normal_concat", "reduce", "reduce_concat")
        missing = [k for k in keys if k not in d]
        if missing:
            raise GenotypeError(f"Genotype JSON is missing keys {missing}.")
        return cls(*(d[k] for k in keys))

    def to_json(self):
        """The genotype as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text):
        """Parses `to_json()` output.

        Raises:
            GenotypeError: for invalid JSON or a malformed genotype.
        """
        try:
            d = json.loads(text)
        except (TypeError, json.JSONDecodeError) as e:
            raise GenotypeError(f"Genotype JSON could not be parsed: {e}") from None
        if isinstance(d, dict) and "genotype" in d:  # a genotype.json written by a search
            d = d["genotype"]
        return cls.from_dict(d)

    def save(self, path, **extra):
        """Writes `{"genotype": ..., **extra}` to `path` atomically.

        Args:
            path: the JSON file.
            **extra: other JSON-ready fields (epoch, method, ...).

        Returns:
            The path.
        """
        return atomic_write_json(path, {"genotype": self.to_dict(), "text": self.to_text(),
                                        **extra})

    @classmethod
    def load(cls, path):
        """Reads a genotype JSON file (as written by `save` or a search).

        Raises:
            FileNotFoundError: if the file does not exist.
            GenotypeError: if it does not hold a valid genotype.
        """
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())

    # ------------------------------------------------------------------ reference text
    def to_text(self):
        """The reference repositories' form: `Genotype(normal=[('sep_conv_3x3', 0), ...], ...)`."""
        def edges(es):
            return "[" + ", ".join(f"({op!r}, {i})" for op, i in es) + "]"

        return (f"Genotype(normal={edges(self.normal)}, normal_concat={list(self.normal_concat)}, "
                f"reduce={edges(self.reduce)}, reduce_concat={list(self.reduce_concat)})")

    __str__ = to_text

    @classmethod
    def from_text(cls, text):
        """Parses the reference text form without evaluating it.

        Accepts lists or tuples, `range(a, b)` for the concat fields and an
        optional `NAME = ` prefix.

        Raises:
            GenotypeError: if the text is not a genotype.
        """
        if not isinstance(text, str):
            raise GenotypeError(f"Genotype text must be a string. Received: {type(text).__name__}")
        src = text.strip()
        if "=" in src.split("(", 1)[0]:
            src = src.split("=", 1)[1].strip()
        try:
            node = ast.parse(src, mode="eval").body
        except SyntaxError as e:
            raise GenotypeError(f"Genotype text could not be parsed: {e.msg} in {text!r}") from None
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "Genotype"):
            raise GenotypeError(f"Expected 'Genotype(normal=..., ...)'. Received: {text!r}")
        fields = ("normal", "normal_concat", "reduce", "reduce_concat")
        values = dict(zip(fields, (_literal(a, text) for a in node.args)))
        for kw in node.keywords:
            if kw.arg not in fields:
                raise GenotypeError(f"Unknown genotype field {kw.arg!r} in {text!r}.")
            values[kw.arg] = _literal(kw.value, text)
        missing = [f for f in fields if f not in values]
        if missing:
            raise GenotypeError(f"Genotype text is missing fields {missing}: {text!r}")
        return cls(*(values[f] for f in fields))

    #: the cell kinds this genotype describes (one drawing each).
    cell_kinds = ("normal", "reduce")

    def cell_graph(self, kind="normal"):
        """The drawable graph of one cell (used by `cell_to_dot` and `plot_cell`).

        Args:
            kind: `"normal"` or `"reduce"`.

        Returns:
            A dict: `inputs`, `nodes` and `output` (node names), `edges`
            (`(source, target, op)` triples) and `concat` (nodes joined into
            the output).

        Raises:
            ValueError: for another kind.
        """
        if kind not in self.cell_kinds:
            raise ValueError(f"kind must be one of {list(self.cell_kinds)}. "
                             f"Received: kind={kind!r}")
        edges = getattr(self, kind)
        names = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(len(edges) // 2)]
        return {"inputs": names[:2], "nodes": names[2:], "output": "c_{k}",
                "edges": [(names[inp], str(k // 2), op) for k, (op, inp) in enumerate(edges)],
                "concat": [names[c] for c in getattr(self, f"{kind}_concat")]}

    def render(self):
        """A readable multi-line description of both cells."""
        lines = []
        for kind in ("normal", "reduce"):
            lines.append(f"{kind} cell (output: concat of {list(getattr(self, kind + '_concat'))}):")
            for k, (op, inp) in enumerate(getattr(self, kind)):
                src = ("c_{k-2}" if inp == 0 else "c_{k-1}") if inp < 2 else f"node {inp - 2}"
                lines.append(f"  node {k // 2} <- {op:<14} <- {src}")
        return "\n".join(lines)


def _literal(node, text):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        args = [_literal(a, text) for a in node.args]
        if not all(isinstance(a, int) for a in args) or not 1 <= len(args) <= 3:
            raise GenotypeError(f"Bad range(...) in genotype text {text!r}.")
        return list(range(*args))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e, text) for e in node.elts]
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand, text)
    raise GenotypeError(f"Unexpected expression {ast.dump(node)[:60]} in genotype text {text!r}.")


# ---------------------------------------------------------------------- published genotypes

_PUBLISHED = {
    "DARTS_V1": "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])",  # noqa: E501
    "DARTS_V2": "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",  # noqa: E501
    "PC_DARTS_cifar": "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))",  # noqa: E501
    "PC_DARTS_image": "Genotype(normal=[('skip_connect', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_5x5', 2), ('max_pool_3x3', 1), ('sep_conv_3x3', 2), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 3)], reduce_concat=range(2, 6))",  # noqa: E501
    "PDARTS": "Genotype(normal=[('skip_connect', 0), ('dil_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3', 0), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('avg_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 0), ('dil_conv_3x3', 1), ('dil_conv_3x3', 1), ('dil_conv_5x5', 3)], reduce_concat=range(2, 6))",  # noqa: E501
}


def published_genotypes():
    """Names of the genotypes published by the reference implementations.

    Example:

    >>> published_genotypes()
    ['DARTS_V1', 'DARTS_V2', 'PC_DARTS_cifar', 'PC_DARTS_image', 'PDARTS']
    """
    return sorted(_PUBLISHED)


def get_genotype(name_or_path):
    """Returns a published genotype by name, parses a genotype's text, or loads a JSON file.

    Args:
        name_or_path: `"DARTS_V1"`, `"DARTS_V2"`, `"PC_DARTS_cifar"`,
            `"PC_DARTS_image"`, `"PDARTS"`; the text a search prints and
            writes to `summary.json` (`to_text()`: `"Genotype(normal=...)"`,
            a NAS-Bench-201 arch string `"|nor_conv_3x3~0|+|..."`, or a
            D-DARTS network's JSON); or the path of a `genotype.json` (of a
            DARTS-space, NAS-Bench-201 or D-DARTS search).

    Returns:
        A `Genotype` (an `NB201Genotype` for NAS-Bench-201, a
        `NetworkGenotype` for D-DARTS).

    Raises:
        ValueError: if it is neither a known name nor an existing file.
        GenotypeError: if the file holds no valid genotype.

    Example:

    >>> get_genotype("DARTS_V2").normal[0]
    ('sep_conv_3x3', 0)
    """
    if name_or_path in _PUBLISHED:
        return Genotype.from_text(_PUBLISHED[name_or_path])
    text = name_or_path.strip() if isinstance(name_or_path, str) else ""
    if text.startswith("|"):
        from keras_darts.architecture.nb201_genotype import NB201Genotype

        return NB201Genotype.from_arch_string(text)
    if re.match(r"(\w+\s*=\s*)?Genotype\s*\(", text):  # the reference text, `NAME = ` or not
        return Genotype.from_text(text)
    if not text.startswith("{"):  # not a D-DARTS network's JSON inline: a file
        if not (text and os.path.isfile(name_or_path)):
            raise ValueError(
                f"Unknown genotype {name_or_path!r}: not a published genotype "
                f"({published_genotypes()}), a genotype's text nor an existing genotype.json "
                f"file.")
        with open(name_or_path, encoding="utf-8") as f:
            text = f.read()
    try:
        d = json.loads(text)
    except json.JSONDecodeError:
        d = None
    inner = d.get("genotype", d) if isinstance(d, dict) else None
    if isinstance(inner, dict) and "arch" in inner:
        from keras_darts.architecture.nb201_genotype import NB201Genotype

        return NB201Genotype.from_dict(inner)
    if isinstance(inner, dict) and "cells" in inner:
        from keras_darts.architecture.cell_genotype import NetworkGenotype

        return NetworkGenotype.from_dict(inner)
    return Genotype.from_json(text)


# ---------------------------------------------------------------------- drawing


class GraphvizNotFoundError(RuntimeError):
    """The graphviz `dot` program is not installed (raised by `plot_cell(backend="graphviz")`).

    Example:

    >>> try:
    ...     plot_cell(g, "normal.png", backend="graphviz")
    ... except GraphvizNotFoundError:
    ...     plot_cell(g, "normal.png", backend="matplotlib")  # doctest: +SKIP
    """


def cell_to_dot(genotype, kind="normal"):
    """Graphviz source text of one cell (needs no graphviz installed).

    Args:
        genotype: a `Genotype` or `NB201Genotype` (anything with `cell_graph`).
        kind: one of the genotype's `cell_kinds` (`"normal"` / `"reduce"`;
            `"cell"` for NAS-Bench-201).

    Returns:
        The DOT source as a string.

    Raises:
        ValueError: for a kind the genotype does not have.

    Example:

    >>> "digraph" in cell_to_dot(get_genotype("DARTS_V2"))
    True
    """
    g = genotype.cell_graph(kind)
    lines = [f'digraph "{kind}" {{', "  rankdir=LR;",
             '  node [style="filled,rounded", shape=box, fontname=Helvetica];',
             '  edge [fontname=Helvetica];']
    for n in g["inputs"]:
        lines.append(f'  "{n}" [fillcolor=darkseagreen2];')
    for n in g["nodes"]:
        lines.append(f'  "{n}" [fillcolor=lightblue];')
    lines.append(f'  "{g["output"]}" [fillcolor=palegoldenrod];')
    for src, dst, op in g["edges"]:
        lines.append(f'  "{src}" -> "{dst}" [label="{op}"];')
    for c in g["concat"]:
        lines.append(f'  "{c}" -> "{g["output"]}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_cell(genotype, path, kind="normal", backend="auto"):
    """Draws one cell to an image file.

    With graphviz's `dot` installed the cell is laid out by graphviz (any
    format `dot` knows, from the suffix); otherwise matplotlib draws it
    (PNG, PDF or SVG), so images are always available.

    Args:
        genotype: a `Genotype` or `NB201Genotype`.
        path: output file, e.g. `normal.png`.
        kind: one of the genotype's `cell_kinds`.
        backend: `"auto"` (graphviz if installed, else matplotlib),
            `"graphviz"` or `"matplotlib"`.

    Returns:
        The path written (atomically: no partial file on failure).

    Raises:
        GraphvizNotFoundError: with `backend="graphviz"` when `dot` is not
            installed (the message says how to install it).
        ValueError: for an unknown backend or kind.

    Example:

    >>> plot_cell(get_genotype("DARTS_V2"), "/tmp/normal.png")  # doctest: +SKIP
    """
    if backend not in ("auto", "graphviz", "matplotlib"):
        raise ValueError(f"backend must be 'auto', 'graphviz' or 'matplotlib'. "
                         f"Received: backend={backend!r}")
    dot = shutil.which("dot")
    if backend == "graphviz" and dot is None:
        raise GraphvizNotFoundError(
            "Drawing cells with graphviz needs its `dot` program, which is not installed. "
            "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install "
            "graphviz` or `conda install graphviz`, or use backend='matplotlib'."
        )
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    source = cell_to_dot(genotype, kind)
    with atomic_path(path, suffix="." + fmt) as tmp:
        if dot is not None and backend != "matplotlib":
            subprocess.run([dot, f"-T{fmt}", "-o", tmp], input=source, text=True, check=True,
                           capture_output=True)
        else:
            _plot_cell_matplotlib(genotype, kind, tmp, fmt)
    return path


def _plot_cell_matplotlib(genotype, kind, path, fmt):
    """A left-to-right drawing of a cell with matplotlib (no system packages needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    g = genotype.cell_graph(kind)
    n_in, steps = len(g["inputs"]), len(g["nodes"])
    pos = {name: (0.0, 1.0 - 2.0 * i / max(n_in - 1, 1)) if n_in > 1 else (0.0, 0.0)
           for i, name in enumerate(g["inputs"])}
    for i, name in enumerate(g["nodes"]):
        pos[name] = (i + 1.0, 1.5 if i % 2 == 0 else -1.5)
    pos[g["output"]] = (steps + 1.0, 0.0)
    colors = {**{n: "#b4eeb4" for n in g["inputs"]}, g["output"]: "#eee8aa"}
    fig, ax = plt.subplots(figsize=(2.2 * (steps + 2), 4.0))
    arrow = dict(arrowstyle="-|>", color="#444444", lw=1.0, shrinkA=14, shrinkB=14)
    for src, dst, op in g["edges"]:
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow)
        # The label sits on its own edge, rotated along it.
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        ax.text(x0 + 0.55 * (x1 - x0), y0 + 0.55 * (y1 - y0), op, fontsize=8, ha="center",
                va="center", rotation=angle, rotation_mode="anchor",
                transform_rotates_text=True,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))
    for c in g["concat"]:
        (x0, y0), (x1, y1) = pos[c], pos[g["output"]]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={**arrow, "color": "#999999", "linestyle": "dashed"})
    for name, (x, y) in pos.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=10,
                bbox=dict(boxstyle="round,pad=0.4", fc=colors.get(name, "#add8e6"), ec="#333333"))
    ax.set_title(f"{kind} cell")
    ax.set_xlim(-0.6, steps + 1.6)
    ax.set_ylim(-2.4, 2.4)
    ax.axis("off")
    fig.savefig(path, format=fmt, bbox_inches="tight", dpi=120)
    plt.close(fig)
