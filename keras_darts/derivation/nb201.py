"""NAS-Bench-201 derivation: the argmax op of every edge (`none` included)."""

import numpy as np

from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.search_space.nb201 import nb201_edges


def derive_nb201(weights, primitives, mask=None):
    """The `NB201Genotype` of `(6, num_ops)` mixing weights: per edge its strongest op.

    Ties go to the lower op index (deterministic also when a sparse softmax
    saturates several ops at the same value).

    Args:
        weights: `(6, len(primitives))` weights.
        primitives: op names.
        mask: optional boolean mask of active ops.

    Returns:
        An `NB201Genotype`.

    Raises:
        ValueError: for a shape mismatch.

    Example:

    >>> derive_nb201(np.eye(6, 5), NB201_PRIMITIVES).to_arch_string()  # doctest: +SKIP
    """
    w = np.asarray(weights, np.float64)
    edges = nb201_edges()
    if w.shape != (len(edges), len(primitives)):
        raise ValueError(f"Weights of shape {w.shape} do not match {len(edges)} edges x "
                         f"{len(primitives)} ops.")
    if mask is not None:
        w = np.where(np.asarray(mask, bool), w, -np.inf)
    return nb201_genotype([primitives[i] for i in np.argmax(w, axis=1)])


def nb201_genotype(edge_ops):
    """The `NB201Genotype` with op `edge_ops[e]` on edge `e` (`nb201_edges()` order).

    Args:
        edge_ops: one op name per edge (6).

    Returns:
        An `NB201Genotype`.

    Raises:
        ValueError: for another number of ops.

    Example:

    >>> nb201_genotype(["nor_conv_3x3"] * 6).to_arch_string()
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
    """
    edges = nb201_edges()
    edge_ops = list(edge_ops)
    if len(edge_ops) != len(edges):
        raise ValueError(f"A NAS-Bench-201 cell has {len(edges)} edges; received "
                         f"{len(edge_ops)} ops: {edge_ops}.")
    nodes = {}
    for op, (i, j) in zip(edge_ops, edges):
        nodes.setdefault(i, []).append((str(op), j))
    return NB201Genotype(tuple(nodes[i] for i in sorted(nodes)))
