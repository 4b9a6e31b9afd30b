"""The DARTS derivation rule: alphas to a discrete genotype."""

import numpy as np

from keras_darts.architecture.genotype import Genotype
from keras_darts.search_space.cells import edge_endpoints
from keras_darts.search_space.ops import op_spec


def parse_cell(weights, primitives, steps, mask=None, edges_per_node=2):
    """Derives one cell: per node the best `edges_per_node` incoming edges.

    An edge's strength is its largest weight over ops that are neither the
    `none` op nor masked out; each kept edge takes that best op. Ties are
    broken deterministically: the lower op index wins, then the lower input
    index.

    Args:
        weights: `(num_edges, num_ops)` mixing weights (numpy or tensor).
        primitives: op names (columns).
        steps: intermediate nodes.
        mask: optional boolean `(num_edges, num_ops)` array of active ops.
        edges_per_node: incoming edges kept per node (2 in DARTS).

    Returns:
        A list of `(op_name, input_index)` pairs, `edges_per_node` per node.

    Raises:
        ValueError: if the shapes do not match, or an edge has no op besides `none`.

    Example:

    >>> w = np.array([[0.1, 0.9], [0.5, 0.5], [0.2, 0.8], [0.3, 0.7], [0.0, 1.0]])
    >>> parse_cell(w, ["none", "skip_connect"], steps=2)
    [('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 2), ('skip_connect', 1)]
    """
    w = np.asarray(weights, dtype=np.float64)
    endpoints = edge_endpoints(steps)
    if w.shape != (len(endpoints), len(primitives)):
        raise ValueError(
            f"Weights of shape {w.shape} do not match {len(endpoints)} edges x "
            f"{len(primitives)} ops."
        )
    usable = np.array([not op_spec(p).is_zero for p in primitives])[None, :].repeat(len(w), 0)
    if mask is not None:
        usable &= np.asarray(mask, dtype=bool)
    scores = np.where(usable, w, -np.inf)
    best_op = np.argmax(scores, axis=1)  # first maximum: lowest op index wins ties
    strength = scores[np.arange(len(w)), best_op]
    result = []
    e = 0
    for i in range(steps):
        n_in = i + 2
        rows = list(range(e, e + n_in))
        e += n_in
        if any(not np.isfinite(strength[r]) for r in rows):
            bad = next(r for r in rows if not np.isfinite(strength[r]))
            raise ValueError(f"Edge {bad} has no candidate op besides 'none'.")
        # Stable sort: equal strengths keep input order (lower input first).
        order = sorted(rows, key=lambda r: -strength[r])[:edges_per_node]
        for r in sorted(order, key=lambda r: -strength[r]):
            result.append((primitives[best_op[r]], endpoints[r][1]))
    return result


def derive_genotype(normal_weights, reduce_weights, primitives, steps=4, multiplier=4,
                    normal_mask=None, reduce_mask=None):
    """Derives a `Genotype` from the mixing weights of the normal and reduction cells.

    Args:
        normal_weights: `(num_edges, num_ops)` weights of normal cells.
        reduce_weights: `(num_edges, num_ops)` weights of reduction cells.
        primitives: op names (columns).
        steps: intermediate nodes.
        multiplier: number of last nodes concatenated.
        normal_mask: optional active-op mask of normal cells.
        reduce_mask: optional active-op mask of reduction cells.

    Returns:
        A `Genotype` concatenating nodes `steps + 2 - multiplier .. steps + 1`.

    Example:

    >>> model.genotype()  # calls this with the model's current weights  # doctest: +SKIP
    """
    concat = list(range(2 + steps - multiplier, steps + 2))
    return Genotype(
        normal=parse_cell(normal_weights, primitives, steps, normal_mask),
        normal_concat=concat,
        reduce=parse_cell(reduce_weights, primitives, steps, reduce_mask),
        reduce_concat=concat,
    )
