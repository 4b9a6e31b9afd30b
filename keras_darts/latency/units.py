"""What a stand-alone network is made of, unit by unit, for latency tables.

A *unit* is one timed piece of a network: a candidate op at the shape and
stride where a cell applies it, or a fixed part (the stem, a cell's input
preprocessing, a node's sums, a cell's concatenation, the head). A network's
predicted latency is the sum of its units' latencies in a table
(`keras_darts.latency.LatencyTable`).

`NetworkLayout` is the network a table is measured for (what
`keras_darts.networks.build_network` builds from a genotype: cells, channels,
input size, stem, reductions). It lists the units of any genotype
(`genotype_units`) and, for a search, every unit a supernet's derived network
could use (`candidate_units`, `cell_slots`): the op of each edge at each
cell's shapes, with the fixed parts apart.
"""

import dataclasses
import re

from keras_darts.search_space.cells import edge_endpoints
from keras_darts.search_space.nb201 import nb201_edges
from keras_darts.search_space.ops import op_spec

FIXED_UNITS = {
    "stem_conv": "3x3 conv and BN (the CIFAR and NAS-Bench-201 stem)",
    "stem_imagenet": "the ImageNet stem's three stride-2 convs (outputs s0 and s1)",
    "preprocess_conv": "a cell's 1x1 ReLU-conv-BN input preprocessing",
    "preprocess_reduce": "a cell's factorized-reduce input preprocessing (after a reduction)",
    "add": "the sum of two edges into a node",
    "relu": "a ReLU (ops that start with one share it when they read the same tensor)",
    "concat": "a cell's concatenation of its nodes",
    "head": "global average pooling and the classifier",
    "nb201_reduction": "NAS-Bench-201's residual reduction block",
    "nb201_head": "NAS-Bench-201's last BN and ReLU, global pooling and the classifier",
}
"""The fixed parts of networks that a latency table times besides the candidate ops."""


def _constant(value):
    return isinstance(value, tuple) and value[:1] == ("constant",)


def _live(reads, output):
    """The reads whose values the network's output depends on (the converter drops the rest;
    a constant output leaves nothing)."""
    live, needed = [], {output}
    for unit, sources, value in reversed(reads):
        if value in needed:
            live.append((unit, sources, value))
            needed.update(sources)
    return live[::-1]


_SHARED = ("add", "concat", "relu")
"""Fixed units without weights: the same unit of the same tensors is computed once."""


PAIR = ".pair"
"""The suffix of a pair unit's op (`pair_unit`)."""


def pair_unit(unit):
    """Two of `unit`'s op (each with its weights) on one input: `op.pair`.

    Several identical ops on one tensor are not always as fast as one op
    times their number: they share the input's ReLU, and TFLite's converter
    then also shares a dilated convolution's space-to-batch step, which stops
    it fusing those convolutions (about 50% slower on this CPU). A table
    times the pair, and a network's identical ops on one tensor are counted at
    the pair's time per two.

    Example:

    >>> pair_unit(Unit("dil_conv_3x3", (8, 8, 16), 16)).key
    'dil_conv_3x3.pair@8x8x16_c16_s1'
    """
    return dataclasses.replace(unit, op=unit.op + PAIR)


def is_free(unit):
    """Whether a unit leaves no op in a network: `none`, or an identity op at stride 1.

    Example:

    >>> skip = Unit("skip_connect", (8, 8, 16), 16)
    >>> is_free(skip), is_free(dataclasses.replace(skip, stride=2))
    (True, False)
    """
    if unit.op in FIXED_UNITS or unit.op.endswith(PAIR):
        return False
    spec = op_spec(unit.op)
    return spec.is_zero or (spec.is_identity and unit.stride == 1)


def _half(n):
    return (n + 1) // 2


@dataclasses.dataclass(frozen=True)
class Unit:
    """One timed piece of a network.

    Attributes:
        op: a candidate op name or a fixed part (`FIXED_UNITS`).
        input: `(height, width, channels)` of its input (of each input for
            `add` and `concat`).
        channels: output channels.
        stride: 1 or 2.
        inputs: how many tensors it takes (`concat`; 1 otherwise, 2 for `add`).

    Example:

    >>> Unit("sep_conv_3x3", (16, 16, 32), 32, 2).key
    'sep_conv_3x3@16x16x32_c32_s2'
    """

    op: str
    input: tuple
    channels: int
    stride: int = 1
    inputs: int = 1

    @property
    def key(self):
        """The unit's name in a table (and its file name): `op@HxWxC_c<channels>_s<stride>`,
        with `_n<inputs>` for more than one input."""
        h, w, c = self.input
        extra = f"_n{self.inputs}" if self.inputs != 1 else ""
        return f"{self.op}@{h}x{w}x{c}_c{self.channels}_s{self.stride}{extra}"

    @classmethod
    def from_key(cls, key):
        """The unit a key names (`key`'s inverse).

        Raises:
            ValueError: for a malformed key.
        """
        m = re.fullmatch(r"([^@]+)@(\d+)x(\d+)x(\d+)_c(\d+)_s(\d+)(?:_n(\d+))?", str(key))
        if not m:
            raise ValueError(f"Malformed latency unit {key!r}; expected "
                             "'op@HxWxC_c<channels>_s<stride>' (e.g. "
                             "'sep_conv_3x3@16x16x32_c32_s1').")
        op, h, w, c, channels, stride, inputs = m.groups()
        return cls(op, (int(h), int(w), int(c)), int(channels), int(stride), int(inputs or 1))


@dataclasses.dataclass(frozen=True)
class CellSlots:
    """The edges of one cell of a network, for every op that a search could put there.

    Attributes:
        kind: `"normal"` or `"reduce"`.
        edges: per edge row (the supernet's alpha row order), the op-less unit
            (input shape, channels, stride) of that edge: `Unit` with `op=""`.
        fixed: the cell's units that do not depend on its ops.
    """

    kind: str
    edges: tuple
    fixed: tuple

    def unit(self, row, op):
        """The unit of op `op` on edge `row`."""
        return dataclasses.replace(self.edges[row], op=op)


@dataclasses.dataclass(frozen=True)
class NetworkLayout:
    """The stand-alone network a latency table is for (as `build_network` builds it).

    Attributes:
        family: `"darts"` or `"nb201"` (the search space's cell family).
        input_shape: `(height, width, channels)` of the images.
        num_classes: classes.
        layers: cells (DARTS family).
        channels: initial channels C.
        stem: `"cifar"` or `"imagenet"` (DARTS family).
        stem_multiplier: CIFAR stem channels factor.
        reductions: reduction cell indices (None: `layers // 3`, `2 * layers // 3`).
        steps: intermediate nodes per cell (DARTS family).
        multiplier: nodes concatenated per cell (DARTS family).
        cells_per_stage: NAS-Bench-201 cells per stage.

    Example:

    >>> layout = NetworkLayout("darts", (28, 28, 1), 10, layers=6, channels=8, steps=3,
    ...                        multiplier=3)
    >>> [s.kind for s in layout.cell_slots()]
    ['normal', 'normal', 'reduce', 'normal', 'reduce', 'normal']
    """

    family: str
    input_shape: tuple
    num_classes: int
    layers: int = 8
    channels: int = 16
    stem: str = "cifar"
    stem_multiplier: int = 3
    reductions: tuple = None
    steps: int = 4
    multiplier: int = 4
    cells_per_stage: int = 5

    def __post_init__(self):
        from keras_darts.search_space.spaces import FAMILIES
        from keras_darts.search_space.supernet import check_stem, reduction_indices

        if self.family not in FAMILIES:
            raise ValueError(f"Unknown cell family {self.family!r}; known: {list(FAMILIES)}.")
        shape = tuple(int(d) for d in self.input_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError("input_shape must be (height, width, channels). "
                             f"Received: input_shape={self.input_shape}")
        object.__setattr__(self, "input_shape", shape)
        for name in ("num_classes", "layers", "channels", "stem_multiplier", "steps",
                     "multiplier", "cells_per_stage"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")
        if self.family == "darts":
            check_stem(self.stem, self.channels)
            object.__setattr__(self, "reductions",
                               tuple(reduction_indices(self.layers, self.reductions)))
            if self.multiplier > self.steps:
                raise ValueError(f"multiplier ({self.multiplier}) cannot exceed steps "
                                 f"({self.steps}).")

    @classmethod
    def from_preset(cls, preset, space, **overrides):
        """The network a training preset trains, for a search space's cells.

        The sizes (cells, channels, stem) are the training preset's
        (`keras_darts.training.TRAIN_PRESETS`), the input and classes its
        dataset's; a DARTS-family cell has the nodes of the search preset of
        the same name (`small`: 3 nodes, 3 concatenated; the others 4 and 4),
        as `keras-darts search --preset P` derives them.

        Args:
            preset: a training preset (`"cifar"`, `"imagenet"`, `"small"`,
                `"nb201"`, `"nb201-small"`).
            space: a search-space name or `SearchSpace` (its cell family).
            **overrides: other field values (None: the preset's; for a
                NAS-Bench-201 network only its own fields count).

        Returns:
            A `NetworkLayout`.

        Raises:
            ValueError: for an unknown preset or space, or impossible sizes.

        Example:

        >>> NetworkLayout.from_preset("small", "darts").steps
        3
        """
        from keras_darts.data import dataset_info
        from keras_darts.search import PRESETS
        from keras_darts.search_space.spaces import SearchSpace, get_search_space
        from keras_darts.training import TRAIN_PRESETS

        if preset not in TRAIN_PRESETS:
            raise ValueError(f"Unknown training preset {preset!r}; known: {sorted(TRAIN_PRESETS)}.")
        if not isinstance(space, SearchSpace):
            space = get_search_space(space)
        train = TRAIN_PRESETS[preset]
        info = dataset_info(train["dataset"])
        search = PRESETS.get("paper" if preset == "cifar" else preset, {})
        values = dict(family=space.family, input_shape=info.image_shape,
                      num_classes=info.num_classes, channels=train["channels"])
        if space.family == "nb201":
            values["cells_per_stage"] = train.get("cells_per_stage", 5)
        else:
            values.update(layers=train["layers"], stem=train["stem"],
                          steps=search.get("steps") or 4,
                          multiplier=search.get("multiplier") or 4)
        # A NAS-Bench-201 network has no cells to count, no stem to choose, no node sizes.
        own = (("channels", "cells_per_stage", "num_classes", "input_shape")
               if space.family == "nb201" else tuple(overrides))
        values.update({k: v for k, v in overrides.items() if v is not None and k in own})
        return cls(**values)

    @classmethod
    def from_dict(cls, config):
        """The layout of `to_dict`'s output (e.g. a table's `network`)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - fields)
        if unknown:
            raise ValueError(f"Unknown network layout fields {unknown}; known: {sorted(fields)}.")
        config = dict(config)
        if config.get("reductions") is not None:
            config["reductions"] = tuple(config["reductions"])
        return cls(**config)

    def to_dict(self):
        """A JSON-serialisable dict (`from_dict`'s inverse)."""
        d = dataclasses.asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["reductions"] = None if self.reductions is None else list(self.reductions)
        return d

    def network_kwargs(self):
        """`build_network`'s keyword arguments for this layout (the genotype aside)."""
        if self.family == "nb201":
            return dict(num_classes=self.num_classes, channels=self.channels,
                        cells_per_stage=self.cells_per_stage, input_shape=self.input_shape,
                        auxiliary=False, drop_path=False)
        return dict(num_classes=self.num_classes, layers=self.layers, channels=self.channels,
                    input_shape=self.input_shape, stem=self.stem,
                    stem_multiplier=self.stem_multiplier, reductions=self.reductions,
                    auxiliary=False, drop_path=False)

    def build(self, genotype):
        """The Keras network of a genotype at this layout (`build_network`).

        Example:

        >>> model = layout.build(sample_genotypes("darts", 1)[0])  # doctest: +SKIP
        """
        from keras_darts.networks import build_network

        return build_network(genotype, **self.network_kwargs())

    # ------------------------------------------------------------------ structure
    def _darts_cells(self):
        """Per cell: `(kind, s0 shape, s1 shape, channels, reduction_prev, out shape)`."""
        h, w, c_in = self.input_shape
        c = self.channels
        if self.stem == "cifar":
            s0 = s1 = (h, w, self.stem_multiplier * c)
            reduction_prev = False
        else:
            h0, w0 = _half(_half(h)), _half(_half(w))
            s0, s1 = (h0, w0, c), (_half(h0), _half(w0), c)
            reduction_prev = True
        cells = []
        for i in range(self.layers):
            reduction = i in self.reductions
            if reduction:
                c *= 2
            hh, ww = (_half(s1[0]), _half(s1[1])) if reduction else s1[:2]
            out = (hh, ww, c)
            cells.append(("reduce" if reduction else "normal", s0, s1, c, reduction_prev, out))
            s0, s1 = s1, (hh, ww, self.multiplier * c)
            reduction_prev = reduction
        return cells, s1

    def stem_units(self):
        """The stem's units."""
        h, w, c_in = self.input_shape
        if self.family == "nb201":
            return [Unit("stem_conv", self.input_shape, self.channels)]
        if self.stem == "cifar":
            return [Unit("stem_conv", self.input_shape, self.stem_multiplier * self.channels)]
        return [Unit("stem_imagenet", self.input_shape, self.channels, 2)]

    def cell_slots(self):
        """Every cell's edge slots and fixed units (`CellSlots`), in network order.

        DARTS family: one slot per supernet edge row (`edge_endpoints(steps)`);
        the fixed units are the two preprocessings, one `add` per node (a
        derived node sums two edges) and the concatenation. NAS-Bench-201:
        one slot per edge; the fixed units are the sums of a cell whose every
        edge has an op.
        """
        if self.family == "nb201":
            slots = []
            c = self.channels
            h, w = self.input_shape[:2]
            edges = nb201_edges()
            for stage in range(3):
                if stage:
                    c *= 2
                    h, w = _half(h), _half(w)
                shape = (h, w, c)
                rows = tuple(Unit("", shape, c) for _ in edges)
                adds = sum(max(0, i - 1) for i in range(1, 4))
                fixed = tuple(Unit("add", shape, c, 1, 2) for _ in range(adds))
                slots.extend(CellSlots("normal", rows, fixed) for _ in range(self.cells_per_stage))
            return slots
        cells, _ = self._darts_cells()
        slots = []
        for kind, s0, s1, c, reduction_prev, out in cells:
            pre0 = (Unit("preprocess_reduce", s0, c, 2) if reduction_prev
                    else Unit("preprocess_conv", s0, c))
            pre1 = Unit("preprocess_conv", s1, c)
            state = (s1[0], s1[1], c)
            node = (out[0], out[1], c)
            rows = []
            for _, inp in edge_endpoints(self.steps):
                if kind == "reduce" and inp < 2:
                    rows.append(Unit("", state, c, 2))
                else:
                    rows.append(Unit("", node, c))
            fixed = [pre0, pre1] + [Unit("add", node, c, 1, 2) for _ in range(self.steps)]
            fixed.append(Unit("concat", node, c * self.multiplier, 1, self.multiplier))
            slots.append(CellSlots(kind, tuple(rows), tuple(fixed)))
        return slots

    def head_units(self):
        """The units after the last cell (NAS-Bench-201: with the stage reductions)."""
        if self.family == "nb201":
            units = []
            h, w = self.input_shape[:2]
            c = self.channels
            for _ in range(2):
                units.append(Unit("nb201_reduction", (h, w, c), 2 * c, 2))
                c *= 2
                h, w = _half(h), _half(w)
            return units + [Unit("nb201_head", (h, w, c), self.num_classes)]
        _, last = self._darts_cells()
        return [Unit("head", last, self.num_classes)]

    def candidate_units(self, primitives):
        """Every unit a network of this layout with ops from `primitives` can contain.

        Args:
            primitives: candidate op names (a space's); `none` has no unit.

        Returns:
            A sorted list of distinct units: with the ReLU of every unit's input
            shape, and every candidate op with weights also as a pair
            (`pair_unit`; see `LatencyTable.predict`).
        """
        units = set(self.stem_units()) | set(self.head_units())
        for cell in self.cell_slots():
            units.update(cell.fixed)
            for row in range(len(cell.edges)):
                edge = [u for u in (cell.unit(row, op) for op in primitives) if not is_free(u)]
                units.update(edge)
                units.update(pair_unit(u) for u in edge if not op_spec(u.op).parameter_free)
        units.update([self.relu_unit(u) for u in units if u.inputs == 1])
        return sorted(units, key=lambda u: u.key)

    def genotype_units(self, genotype):
        """The units of the network `build_network` makes from `genotype` at this layout.

        DARTS family: a `Genotype` (every cell of a kind the same), a list of
        one per cell, or a D-DARTS `NetworkGenotype` (deepened to the layout's
        cells as `build_network` deepens it). NAS-Bench-201: an `NB201Genotype`
        (or arch string). As in the converted network, ops whose result does
        not reach the output are left out, and so are ops of constants (nodes
        no op computes, and what only they feed: the converter folds them; a
        network whose output is a constant has no unit).

        Args:
            genotype: the genotype.

        Returns:
            A list of units (with repeats: one per occurrence).

        Raises:
            ValueError: for a genotype of another family or cell size.
        """
        return [u for u, _, _ in self.genotype_reads(genotype)]

    def genotype_reads(self, genotype):
        """`genotype_units` with what each unit reads and computes: `[(unit, sources, value)]`.

        `sources` (a tuple) and `value` name tensors of the network by what
        computes them (value numbering): an op without weights (a pool, a sum,
        a concatenation) of the same tensors computes the same value wherever
        it appears, and TFLite's converter computes it once; an op with
        weights is a value of its own. `LatencyTable.predict` counts each
        value once, and a ReLU that several ops apply to one tensor once (or
        not at all where the converter fuses it into the op computing that
        tensor).
        """
        from keras_darts.architecture.cell_genotype import CellGenotype, NetworkGenotype
        from keras_darts.architecture.genotype import Genotype
        from keras_darts.architecture.nb201_genotype import NB201Genotype

        reads = []
        counter = iter(range(1 << 30))

        def apply(unit, *sources):
            """Appends `unit` reading `sources`; returns the value it computes."""
            if is_free(unit):
                return sources[0]  # an identity (or `none`, never read): the tensor itself
            if all(_constant(s) for s in sources):
                return ("constant", unit.key, sources)  # folded by the converter
            shared = unit.op in _SHARED or (unit.op not in FIXED_UNITS
                                            and op_spec(unit.op).parameter_free)
            value = (unit.key, sources) if shared else ("weights", next(counter))
            reads.append((unit, sources, value))
            return value

        def total(unit, values):
            """Sums `values` (a node): one `add` per extra term, the sum a value of its terms."""
            value = values[0]
            for v in values[1:]:
                pair = tuple(sorted((value, v), key=repr))
                reads.append((unit, pair, ("sum", pair)))
                value = ("sum", pair)
            return value

        stem = [apply(u, ("input",)) for u in self.stem_units()]
        if self.family == "nb201":
            if isinstance(genotype, str):
                genotype = NB201Genotype.from_arch_string(genotype)
            if not isinstance(genotype, NB201Genotype):
                raise ValueError("A NAS-Bench-201 layout needs an NB201Genotype. Received: "
                                 f"{type(genotype).__name__}")
            n = len(genotype.nodes)
            index = {e: r for r, e in enumerate(nb201_edges())}
            heads = iter(self.head_units())
            x = stem[0]
            for k, cell in enumerate(self.cell_slots()):
                if k and k % self.cells_per_stage == 0:  # a stage's residual reduction
                    x = apply(next(heads), x)
                shape, c = cell.edges[0].input, cell.edges[0].channels
                nodes = [x]
                for i, node in enumerate(genotype.nodes, start=1):
                    values = [apply(cell.unit(index[(i, j)], op), nodes[j])
                              for op, j in node if op != "none"]
                    # A node with no op of a computed tensor is a constant (zero, or ops of
                    # zero): the converter folds it, and every op that reads it, away.
                    values = [v for v in values if not _constant(v)]
                    nodes.append(total(Unit("add", shape, c, 1, 2), values) if values
                                 else ("constant", k, i))
                x = nodes[n]
            for u in heads:
                x = apply(u, x)
            return _live(reads, x)
        if isinstance(genotype, NetworkGenotype):  # D-DARTS: one cell per position
            if len(genotype.cells) != self.layers:
                from keras_darts.derivation.fair import deepen

                genotype, _ = deepen(genotype, self.layers)
            if tuple(genotype.reductions) != tuple(self.reductions):
                raise ValueError(f"The genotype reduces at cells {list(genotype.reductions)}; "
                                 f"the layout at {list(self.reductions)}.")
            genotype = list(genotype.cells)
        cells = genotype if isinstance(genotype, (list, tuple)) else None
        slots = self.cell_slots()
        if cells is not None and len(cells) != len(slots):
            raise ValueError(f"A per-cell genotype list needs {len(slots)} genotypes; "
                             f"got {len(cells)}.")
        endpoints = {e: r for r, e in enumerate(edge_endpoints(self.steps))}
        # The CIFAR stem's one output is both s0 and s1 of the first cell.
        s0, s1 = (stem[0], stem[0]) if self.stem == "cifar" else (("stem", 0), ("stem", 1))
        for i, cell in enumerate(slots):
            g = genotype if cells is None else cells[i]
            if isinstance(g, CellGenotype):
                edges, concat = [(op, node, inp) for op, node, inp in g.edges], g.concat
            elif isinstance(g, Genotype):
                pairs = getattr(g, cell.kind)
                edges = [(op, k // 2, inp) for k, (op, inp) in enumerate(pairs)]
                concat = getattr(g, f"{cell.kind}_concat")
            else:
                raise ValueError("A DARTS-family layout needs a Genotype (or one per cell). "
                                 f"Received: {type(g).__name__}")
            steps = max((node for _, node, _ in edges), default=-1) + 1
            if steps > self.steps:
                raise ValueError(f"Cell {i}'s genotype has {steps} nodes; the layout has "
                                 f"steps={self.steps}.")
            states = [apply(cell.fixed[0], s0), apply(cell.fixed[1], s1)]
            node_shape = cell.fixed[2].input
            add = Unit("add", node_shape, node_shape[2], 1, 2)
            for node in range(self.steps):
                values = [apply(cell.unit(endpoints[(node, inp)], op), states[inp])
                          for op, n, inp in edges if n == node and not op_spec(op).is_zero]
                values = [v for v in values if not _constant(v)]
                # A node without ops (FairDARTS parsers) is a constant: folded, as its readers.
                states.append(total(add, values) if values else ("constant", i, node))
            out = Unit("concat", node_shape, node_shape[2] * len(concat), 1, len(concat))
            s0, s1 = s1, apply(out, *(states[k] for k in concat))
        for u in self.head_units():
            s1 = apply(u, s1)
        return _live(reads, s1)

    def relu_unit(self, unit):
        """The ReLU of a unit's input (what ops that start with a ReLU share)."""
        return Unit("relu", unit.input, unit.input[2])
