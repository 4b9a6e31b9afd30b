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
    best = np.argmax(w, axis=1)
    nodes = {}
    for e, (i, j) in enumerate(edges):
        nodes.setdefault(i, []).append((primitives[best[e]], j))
    return NB201Genotype(tuple(nodes[i] for i in sorted(nodes)))
