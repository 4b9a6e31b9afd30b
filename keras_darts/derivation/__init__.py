"""Derivation: from architecture weights to discrete genotypes.

Each cell family has its rule (`derive`): DARTS cells keep the two strongest incoming edges of
every node with their strongest op besides `none` (`derive_genotype`); NAS-Bench-201 cells keep
the strongest op of every edge (`derive_nb201`). The derivation depends on the search space,
never the other way round.
"""

from keras_darts.derivation.darts import derive_genotype, parse_cell
from keras_darts.derivation.fair import PARSERS, deepen, parse_fair_cell
from keras_darts.derivation.nb201 import derive_nb201


def derive(family, network, weights, masks):
    """The genotype of a supernet's mixing weights, by its cell family's rule.

    Args:
        family: the search space's cell family, `"darts"` or `"nb201"`.
        network: the supernet (its `primitives`; DARTS cells: `steps`, `multiplier`).
        weights: `{"normal": (num_edges, num_ops), "reduce": ...}` weights (numpy).
        masks: the op masks by kind (None: every op).

    Returns:
        A `Genotype` (DARTS) or an `NB201Genotype`.

    Raises:
        ValueError: for an unknown family.

    Example:

    >>> derive("nb201", net, {"normal": w}, {"normal": None})  # doctest: +SKIP
    """
    if family == "nb201":
        return derive_nb201(weights["normal"], network.primitives, masks.get("normal"))
    if family == "darts":
        return derive_genotype(weights["normal"], weights["reduce"], network.primitives,
                               network.steps, network.multiplier, masks.get("normal"),
                               masks.get("reduce"))
    raise ValueError(f"No derivation rule for cell family {family!r}.")


__all__ = ["PARSERS", "deepen", "derive", "derive_genotype", "derive_nb201", "parse_cell",
           "parse_fair_cell"]
