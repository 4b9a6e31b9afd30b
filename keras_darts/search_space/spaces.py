"""Named search spaces: the DARTS space, NAS-Bench-201, and the robustness spaces S1-S4.

A search space is the candidate op list of a cell family plus, optionally,
a per-edge subset of those ops. The robustness spaces of Zela et al. (2020),
used by SP-DARTS, are reduced DARTS spaces:

| name     | cell    | candidate ops                                              |
|----------|---------|------------------------------------------------------------|
| `darts`  | DARTS   | the 8 DARTS ops                                            |
| `darts7` | DARTS   | the 7 DARTS ops without `none` (SP-DARTS's DARTS space)    |
| `nb201`  | NB-201  | `none`, `skip_connect`, `nor_conv_1x1`, `nor_conv_3x3`, `avg_pool_3x3` |
| `s1`     | DARTS   | a per-edge op subset per cell kind, given as data          |
| `s2`     | DARTS   | `skip_connect`, `sep_conv_3x3`                             |
| `s3`     | DARTS   | `none`, `skip_connect`, `sep_conv_3x3`                     |
| `s4`     | DARTS   | `noise`, `sep_conv_3x3`                                    |

Per-edge subsets (`op_subsets`) are given by op name,
`{"normal": [[op, ...] per edge], "reduce": [[op, ...] per edge]}` (NAS-Bench-201
cells have one kind, `"normal"`), as a dict or a JSON file. Masked-out ops are
never built nor computed, and derivation only picks among an edge's ops.
"""

import dataclasses
import json
import os
import typing

from keras_darts.registry import Registry
from keras_darts.search_space.cells import num_edges
from keras_darts.search_space.nb201 import NB201Supernet, nb201_edges
from keras_darts.search_space.ops import (
    DARTS_PRIMITIVES, NB201_PRIMITIVES, OPS, registered_ops,
)
from keras_darts.search_space.supernet import DartsSupernet

FAMILIES = ("darts", "nb201")
"""The cell families a space can have: DARTS cells (two inputs, normal and reduction
kinds) and NAS-Bench-201 cells (one kind)."""


class SpaceDefinition(typing.NamedTuple):
    """What a search-space name stands for: a cell family and its candidate ops.

    Attributes:
        family: one of `FAMILIES`.
        primitives: candidate op names (the alpha columns), registered ops.
        needs_op_subsets: the space is defined by per-edge op subsets given
            with it (`s1`).
    """

    family: str
    primitives: tuple
    needs_op_subsets: bool = False


def _check_space(name, definition):
    if not isinstance(definition, SpaceDefinition):
        raise ValueError(f"Search space {name!r} must be registered as a SpaceDefinition. "
                         f"Received: {definition!r}")
    if definition.family not in FAMILIES:
        raise ValueError(f"Search space {name!r} has an unknown cell family "
                         f"{definition.family!r}; known: {list(FAMILIES)}.")
    if not definition.primitives or len(set(definition.primitives)) != len(definition.primitives):
        raise ValueError(f"Search space {name!r} needs distinct candidate ops. "
                         f"Received: {definition.primitives!r}")


def _space_definition_of(name, obj):
    return obj if isinstance(obj, SpaceDefinition) else SpaceDefinition(*obj)


SPACES = Registry("search space", group="keras_darts.spaces", check=_check_space,
                  adapt=_space_definition_of)
"""Search spaces by name (`keras_darts.registry.Registry` of `SpaceDefinition`); third-party
spaces register through the `keras_darts.spaces` entry-point group."""


def register_search_space(name, family, primitives, needs_op_subsets=False, overwrite=False):
    """Registers a search space: a cell family and its candidate ops, under `name`.

    Args:
        name: the name `get_search_space` and `--space` take.
        family: `"darts"` or `"nb201"`.
        primitives: candidate op names; each must be a registered op when
            the space is used.
        needs_op_subsets: the space is only defined with per-edge op subsets.
        overwrite: allow replacing a space of that name.

    Returns:
        The `SpaceDefinition`.

    Raises:
        ValueError: for a taken name, an unknown family, or no or repeated ops.

    Example:

    >>> register_search_space("convs", "darts", ("sep_conv_3x3", "dil_conv_3x3"))
    SpaceDefinition(family='darts', primitives=('sep_conv_3x3', 'dil_conv_3x3'), needs_op_subsets=False)
    """
    return SPACES.register(name, SpaceDefinition(family, tuple(primitives), bool(needs_op_subsets)),
                           overwrite=overwrite)


register_search_space("darts", "darts", DARTS_PRIMITIVES)
register_search_space("darts7", "darts", tuple(p for p in DARTS_PRIMITIVES if p != "none"))
register_search_space("nb201", "nb201", NB201_PRIMITIVES)
register_search_space("s1", "darts", DARTS_PRIMITIVES, needs_op_subsets=True)
register_search_space("s2", "darts", ("skip_connect", "sep_conv_3x3"))
register_search_space("s3", "darts", ("none", "skip_connect", "sep_conv_3x3"))
register_search_space("s4", "darts", ("noise", "sep_conv_3x3"))


def search_space_names():
    """Names accepted by `get_search_space` (and `--space`).

    Example:

    >>> search_space_names()
    ['darts', 'darts7', 'nb201', 's1', 's2', 's3', 's4']
    """
    return SPACES.names()


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A cell family, its candidate ops and optional per-edge op subsets.

    Attributes:
        name: the space's name.
        family: `"darts"` (two-input cells, normal and reduction kinds) or
            `"nb201"` (NAS-Bench-201 cells, one kind).
        primitives: candidate op names (the alpha columns).
        normal_active: per-edge active op indices of normal cells, or None (all).
        reduce_active: same for reduction cells (DARTS family only).
        op_subsets: the subsets by name, as given (for configs), or None.

    Example:

    >>> space = get_search_space("s3")
    >>> space.primitives
    ('none', 'skip_connect', 'sep_conv_3x3')
    """

    name: str
    family: str
    primitives: tuple
    normal_active: tuple = None
    reduce_active: tuple = None
    op_subsets: dict = None

    @property
    def kinds(self):
        """The cell kinds that own alphas: `("normal", "reduce")` or `("normal",)`."""
        return ("normal",) if self.family == "nb201" else ("normal", "reduce")

    def build_supernet(self, num_classes, layers=8, channels=16, steps=4, multiplier=4,
                       stem_multiplier=3, reductions=None, cells_per_stage=5, partial_channels=1,
                       stem="cifar", name="supernet"):
        """Builds the space's supernet layer.

        DARTS-family spaces use `layers`, `steps`, `multiplier`,
        `stem_multiplier` and `reductions`; NAS-Bench-201 uses
        `cells_per_stage` (its cells have 4 nodes).

        Args:
            num_classes: classes.
            layers, channels, steps, multiplier, stem_multiplier, reductions:
                DARTS supernet sizes.
            cells_per_stage: NAS-Bench-201 cells per stage (5 in the benchmark).
            partial_channels: PC-DARTS's `K` (DARTS family only; 1: off).
            stem: `"cifar"` or `"imagenet"` (DARTS family only; `DartsSupernet`).
            name: the layer's name.

        Returns:
            A `DartsSupernet` or `NB201Supernet`.

        Raises:
            ValueError: for impossible sizes, or op subsets whose edge count
                does not match the cell.
        """
        if self.family == "nb201":
            if partial_channels != 1:
                raise ValueError("partial_channels needs a DARTS-family search space; "
                                 f"{self.name!r} has NAS-Bench-201 cells.")
            if stem != "cifar":
                raise ValueError(f"stem={stem!r} needs a DARTS-family search space; "
                                 f"{self.name!r} has NAS-Bench-201 cells and their own stem.")
            _check_edge_count(self.normal_active, len(nb201_edges()), "normal")
            return NB201Supernet(num_classes, channels=channels, cells_per_stage=cells_per_stage,
                                 primitives=self.primitives,
                                 active=active_lists(self.normal_active), name=name)
        if isinstance(steps, int) and steps >= 1:
            for kind, active in (("normal", self.normal_active), ("reduce", self.reduce_active)):
                _check_edge_count(active, num_edges(steps), kind)
        return DartsSupernet(num_classes, layers=layers, channels=channels, steps=steps,
                             multiplier=multiplier, stem_multiplier=stem_multiplier,
                             primitives=self.primitives,
                             normal_active=active_lists(self.normal_active),
                             reduce_active=active_lists(self.reduce_active),
                             reductions=reductions, partial_channels=partial_channels,
                             stem=stem, name=name)


def active_lists(active):
    """Per-edge active op indices as lists of lists (None stays None), for layer configs."""
    return None if active is None else [list(a) for a in active]


def _check_edge_count(active, expected, kind):
    if active is not None and len(active) != expected:
        raise ValueError(f"op_subsets[{kind!r}] lists {len(active)} edges, but the cell has "
                         f"{expected} edges.")


def load_op_subsets(op_subsets):
    """Reads per-edge op subsets from a dict or a JSON file.

    Args:
        op_subsets: `{"normal": [[op, ...], ...], "reduce": [...]}`, or the
            path of a JSON file holding it.

    Returns:
        The dict.

    Raises:
        ValueError: if the file is missing or not JSON, or the value is not
            a dict of lists of op-name lists.

    Example:

    >>> load_op_subsets({"normal": [["skip_connect", "sep_conv_3x3"]] * 14})["normal"][0]
    ['skip_connect', 'sep_conv_3x3']
    """
    if isinstance(op_subsets, (str, os.PathLike)):
        try:
            with open(op_subsets, encoding="utf-8") as f:
                op_subsets = json.load(f)
        except FileNotFoundError:
            raise ValueError(f"op_subsets file {str(op_subsets)!r} does not exist.") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"op_subsets file {str(op_subsets)!r} is not valid JSON: {e}") from None
    if not isinstance(op_subsets, dict) or not op_subsets:
        raise ValueError("op_subsets must map cell kinds ('normal', 'reduce') to one op-name "
                         f"list per edge. Received: {op_subsets!r}")
    out = {}
    for kind, edges in op_subsets.items():
        if kind not in ("normal", "reduce"):
            raise ValueError(f"op_subsets has an unknown cell kind {kind!r}; use 'normal' "
                             "and 'reduce'.")
        if not isinstance(edges, (list, tuple)) or not all(
                isinstance(e, (list, tuple)) and all(isinstance(o, str) for o in e)
                for e in edges):
            raise ValueError(f"op_subsets[{kind!r}] must be a list with one list of op names "
                             f"per edge. Received: {edges!r}")
        out[kind] = [list(e) for e in edges]
    return out


def get_search_space(name="darts", op_subsets=None):
    """Returns the named search space, optionally restricted to per-edge op subsets.

    Args:
        name: one of `search_space_names()`.
        op_subsets: per-edge op names per cell kind (a dict or JSON path);
            required by `s1`, optional for the others (each edge's ops must be
            candidates of the space).

    Returns:
        A `SearchSpace`.

    Raises:
        ValueError: for an unknown space, a missing or malformed subset, an
            unknown op name, an op outside the space, an empty or repeated
            subset, or a kind the space does not have.

    Example:

    >>> get_search_space("nb201").kinds
    ('normal',)
    """
    family, primitives, needs_subsets = SPACES.get(name)
    unknown = [p for p in primitives if p not in OPS]
    if unknown:
        raise ValueError(f"Search space {name!r} names unregistered ops {unknown}. "
                         f"Known ops: {registered_ops()}.")
    if op_subsets is None:
        if needs_subsets:
            raise ValueError(f"Search space {name!r} needs op_subsets: one list of op names per "
                             "edge for 'normal' and 'reduce' cells (a dict or a JSON file).")
        return SearchSpace(name, family, primitives)
    subsets = load_op_subsets(op_subsets)
    kinds = ("normal",) if family == "nb201" else ("normal", "reduce")
    known = set(registered_ops())
    active = {}
    for kind, edges in subsets.items():
        if kind not in kinds:
            raise ValueError(f"Search space {name!r} has no {kind!r} cells; op_subsets may name "
                             f"{list(kinds)}.")
        rows = []
        for e, ops in enumerate(edges):
            if not ops:
                raise ValueError(f"op_subsets[{kind!r}] edge {e} lists no ops.")
            unknown = [o for o in ops if o not in known]
            if unknown:
                raise ValueError(f"op_subsets[{kind!r}] edge {e} names unknown ops {unknown}. "
                                 f"Known ops: {sorted(known)}.")
            outside = [o for o in ops if o not in primitives]
            if outside:
                raise ValueError(f"op_subsets[{kind!r}] edge {e} names ops {outside} that are "
                                 f"not in search space {name!r} ({list(primitives)}).")
            if len(set(ops)) != len(ops):
                raise ValueError(f"op_subsets[{kind!r}] edge {e} repeats an op: {ops}.")
            rows.append(tuple(sorted(primitives.index(o) for o in ops)))
        active[kind] = tuple(rows)
    if needs_subsets and set(active) != set(kinds):
        raise ValueError(f"Search space {name!r} needs op_subsets for {list(kinds)}; received "
                         f"{sorted(active)}.")
    return SearchSpace(name, family, primitives, active.get("normal"), active.get("reduce"),
                       subsets)
