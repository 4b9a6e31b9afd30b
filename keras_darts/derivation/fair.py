"""FairDARTS / D-DARTS derivation: per-cell parsers with a sigmoid threshold, and deepening."""

import numpy as np

from keras_darts.architecture.cell_genotype import CellGenotype, NetworkGenotype
from keras_darts.derivation.darts import parse_cell
from keras_darts.search_space.cells import edge_endpoints, genotype_edge_rows
from keras_darts.search_space.ops import op_spec

PARSERS = ("darts", "sparse", "edge")


def check_parser(parser):
    """Raises `ValueError` unless `parser` is one of `PARSERS`."""
    if parser not in PARSERS:
        raise ValueError(f"Unknown parser {parser!r}. Known: {list(PARSERS)}.")


def check_threshold(threshold):
    """Raises `ValueError` unless `0 < threshold < 1`."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
            not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1). Received: threshold={threshold!r}")


def parse_fair_cell(weights, primitives, steps, multiplier=None, parser="sparse",
                    threshold=0.8, mask=None, reduction=False, min_node_inputs=1):
    """Derives one cell from its sigmoid weights with a FairDARTS parser.

    * `"darts"`: the DARTS rule (the 2 strongest incoming edges per node by
      their best non-`none` op, that op kept).
    * `"sparse"`: the same 2 edges per node, but an edge keeps its best op
      only if its weight is >= `threshold` (0..2 ops per node).
    * `"edge"`: every edge keeps up to 2 non-`none` ops whose weights are >=
      `threshold` (the 2 strongest when more pass).

    The threshold is meaningful once the zero-one loss has pushed the sigmoid
    weights to 0 or 1, as after the papers' 50-epoch searches. A shorter search
    leaves them near 1/2: below a threshold of 0.8 every op fails it and the
    paper's rule empties the cell, whose output is then zero and the network's
    accuracy chance. So by default (`min_node_inputs=1`) a node none of whose
    ops reaches the threshold keeps its single strongest op (the DARTS rule's
    first pick for it); `fallback_nodes` counts such nodes. `min_node_inputs=0`
    is the paper's rule (a node may be left without input, and is then zero);
    a cell it leaves with no path from its inputs to its output raises.

    Ties go to the lower op index, then the lower input.

    Args:
        weights: `(num_edges, num_ops)` mixing weights (sigmoid values).
        primitives: op names.
        steps: intermediate nodes.
        multiplier: last nodes concatenated (None: all).
        parser: `"darts"`, `"sparse"` or `"edge"`.
        threshold: keep ops with weight >= threshold (0.8 in the paper).
        mask: optional boolean mask of active ops.
        reduction: the cell is a reduction cell.
        min_node_inputs: 1 (every node keeps at least its strongest op) or 0
            (the paper's rule).

    Returns:
        A `CellGenotype`.

    Raises:
        ValueError: for an unknown parser, a threshold outside (0, 1), a
            shape mismatch, `min_node_inputs` other than 0 or 1, or (with
            `min_node_inputs=0`) a cell left with no path to its output.

    Example:

    >>> parse_fair_cell(np.full((5, 2), 0.9), ["none", "skip_connect"], steps=2).edges
    (('skip_connect', 0, 0), ('skip_connect', 0, 1), ('skip_connect', 1, 0), ('skip_connect', 1, 1))
    """
    check_parser(parser)
    check_threshold(threshold)
    check_min_node_inputs(min_node_inputs)
    edges, scores = _threshold_edges(weights, primitives, steps, parser, threshold, mask)
    multiplier = steps if multiplier is None else multiplier
    concat = list(range(2 + steps - multiplier, steps + 2))
    endpoints = edge_endpoints(steps)
    fed = {node for _, node, _ in edges}
    for k in range(steps):
        if k in fed or not min_node_inputs:
            continue
        # The node's strongest usable op over its incoming edges (ties: lower op, lower input).
        best = max(((scores[r, j], -j, -inp, r, j) for r, (node, inp) in enumerate(endpoints)
                    if node == k for j in range(len(primitives)) if np.isfinite(scores[r, j])),
                   default=None)
        if best is not None:  # None: every op of the node is masked out
            edges.append((primitives[best[4]], k, endpoints[best[3]][1]))
    edges.sort(key=lambda e: e[1])  # by node; stable, so each node's order is kept
    live = {0, 1}  # the cell's two inputs
    for k in range(steps):
        if any(node == k and inp in live for _, node, inp in edges):
            live.add(k + 2)
    if not live & set(concat):
        raise ValueError(
            f"The {parser!r} parser at threshold={threshold} leaves this "
            f"{'reduction' if reduction else 'normal'} cell with no path from its inputs to its "
            f"output (largest usable weight {np.max(scores[np.isfinite(scores)], initial=0):.3f}"
            f"): the cell would output zeros and the network stay at chance. Search longer "
            f"(the zero-one loss pushes the weights to 0 or 1), lower the threshold, or "
            f"use min_node_inputs=1.")
    return CellGenotype(edges, concat, steps, reduction)


def check_min_node_inputs(min_node_inputs):
    """Raises `ValueError` unless `min_node_inputs` is 0 or 1."""
    if isinstance(min_node_inputs, bool) or min_node_inputs not in (0, 1):
        raise ValueError(f"min_node_inputs must be 0 (the paper's threshold rule) or 1 (every "
                         f"node keeps its strongest op). Received: "
                         f"min_node_inputs={min_node_inputs!r}")


def fallback_nodes(weights, primitives, steps, parser="sparse", threshold=0.8, mask=None):
    """The intermediate nodes none of whose ops reaches `threshold` under `parser`.

    These are the nodes `parse_fair_cell` keeps alive with their strongest op
    (`min_node_inputs=1`) or leaves empty (`min_node_inputs=0`); a converged
    FairDARTS / D-DARTS search has none. The `"darts"` parser has none.

    Args:
        weights, primitives, steps, parser, threshold, mask: as `parse_fair_cell`.

    Returns:
        A sorted list of node indices (0-based intermediate nodes).

    Raises:
        ValueError: as `parse_fair_cell`.

    Example:

    >>> fallback_nodes(np.full((5, 2), 0.5), ["none", "skip_connect"], steps=2)
    [0, 1]
    """
    check_parser(parser)
    check_threshold(threshold)
    edges, _ = _threshold_edges(weights, primitives, steps, parser, threshold, mask)
    fed = {node for _, node, _ in edges}
    return [k for k in range(steps) if k not in fed]


def _threshold_edges(weights, primitives, steps, parser, threshold, mask):
    """The parser's `(op, node, input)` edges before any fallback, and the usable scores."""
    w = np.asarray(weights, np.float64)
    endpoints = edge_endpoints(steps)
    if w.shape != (len(endpoints), len(primitives)):
        raise ValueError(f"Weights of shape {w.shape} do not match {len(endpoints)} edges x "
                         f"{len(primitives)} ops.")
    usable = np.array([not op_spec(p).is_zero for p in primitives])[None, :].repeat(len(w), 0)
    if mask is not None:
        usable &= np.asarray(mask, bool)
    scores = np.where(usable, w, -np.inf)
    edges = []
    if parser in ("darts", "sparse"):
        parsed = parse_cell(w, primitives, steps, mask)
        for k, ((op, inp), row) in enumerate(zip(parsed, genotype_edge_rows(parsed, steps))):
            if parser == "sparse" and scores[row, primitives.index(op)] < threshold:
                continue
            edges.append((op, k // 2, inp))
    else:
        for row, (node, inp) in enumerate(endpoints):
            order = sorted(range(len(primitives)), key=lambda j: (-scores[row, j], j))
            for j in order[:2]:
                if np.isfinite(scores[row, j]) and scores[row, j] >= threshold:
                    edges.append((primitives[j], node, inp))
    return edges, scores


def deepen(genotype, num_cells):
    """Derives an `num_cells`-cell network from a searched one (D-DARTS Algorithm 1).

    With `k` searched cells, `m = k // 3` and `m2 = 2k // 3` are the searched
    reduction cells. The new network has its reductions at `n // 3` and
    `2n // 3` (searched cells `m` and `m2`); its other positions `i` take, as
    Algorithm 1 writes it, `i mod m` before the first reduction,
    `(i mod (m2 - 1 - m)) + m + 1` between the reductions and
    `(i mod (k - 1 - m2)) + m2 + 1` after the second: the searched normal
    cells of each stage, repeated. For `n == k` the searched network is
    returned unchanged (Algorithm 1's `c = i`); for `n < k` the same
    stage-wise rule applies (Algorithm 1 keeps the first `n` cells, which
    would misplace the reductions).

    Args:
        genotype: a `NetworkGenotype` with reductions at `k // 3` and `2k // 3`.
        num_cells: n, the new number of cells (>= 3).

    Returns:
        `(network_genotype, indices)`: the new `NetworkGenotype` and the
        searched cell index used at every position.

    Raises:
        ValueError: for n < 3, a searched network whose reductions are not at
            `k // 3` and `2k // 3`, or a stage of the new network with no
            searched normal cell to repeat.

    Example:

    >>> _, idx = deepen(searched_8_cells, 14)  # doctest: +SKIP
    >>> idx  # doctest: +SKIP
    [0, 1, 0, 1, 2, 4, 3, 4, 3, 5, 6, 7, 6, 7]
    """
    if not isinstance(num_cells, int) or isinstance(num_cells, bool) or num_cells < 3:
        raise ValueError(f"A network needs at least 3 cells (two reductions at n//3 and "
                         f"2n//3). Received: num_cells={num_cells!r}")
    k = len(genotype.cells)
    m, m2 = k // 3, 2 * k // 3
    if genotype.reductions != (m, m2) or m == m2:
        raise ValueError(f"The searched network must have its reductions at k//3={m} and "
                         f"2k//3={m2}. Received reductions at {list(genotype.reductions)}.")
    if num_cells == k:
        return genotype, list(range(k))
    n = num_cells
    indices = []
    for i in range(n):
        if i < n // 3:
            stage, c = "before the first reduction", (i % m if m else None)
        elif i == n // 3:
            stage, c = None, m
        elif i < 2 * n // 3:
            span = m2 - 1 - m
            stage, c = "between the reductions", (i % span + m + 1 if span else None)
        elif i == 2 * n // 3:
            stage, c = None, m2
        else:
            span = k - 1 - m2
            stage, c = "after the second reduction", (i % span + m2 + 1 if span else None)
        if c is None:
            raise ValueError(f"The searched network has no normal cell {stage} "
                             f"(k={k}), but the {n}-cell network needs one there.")
        indices.append(c)
    return NetworkGenotype(tuple(genotype.cells[c] for c in indices)), indices
