"""FairDARTS / D-DARTS derivation: per-cell parsers with a sigmoid threshold, and deepening."""

import numpy as np

from keras_darts.architecture.cell_genotype import CellGenotype, NetworkGenotype
from keras_darts.derivation.darts import parse_cell
from keras_darts.search_space.cells import edge_endpoints, genotype_edge_rows
from keras_darts.search_space.ops import op_spec

PARSERS = ("darts", "sparse", "edge")


def check_threshold(threshold):
    """Raises `ValueError` unless `0 < threshold < 1`."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
            not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1). Received: threshold={threshold!r}")


def parse_fair_cell(weights, primitives, steps, multiplier=None, parser="sparse",
                    threshold=0.8, mask=None, reduction=False):
    """Derives one cell from its sigmoid weights with a FairDARTS parser.

    * `"darts"`: the DARTS rule (the 2 strongest incoming edges per node by
      their best non-`none` op, that op kept).
    * `"sparse"`: the same 2 edges per node, but an edge keeps its best op
      only if its weight is >= `threshold` (0..2 ops per node).
    * `"edge"`: every edge keeps up to 2 non-`none` ops whose weights are >=
      `threshold` (the 2 strongest when more pass).

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

    Returns:
        A `CellGenotype`.

    Raises:
        ValueError: for an unknown parser, a threshold outside (0, 1), or a
            shape mismatch.

    Example:

    >>> parse_fair_cell(np.full((5, 2), 0.9), ["none", "skip_connect"], steps=2).edges
    (('skip_connect', 0, 0), ('skip_connect', 0, 1), ('skip_connect', 1, 0), ('skip_connect', 1, 1))
    """
    if parser not in PARSERS:
        raise ValueError(f"Unknown parser {parser!r}. Known: {list(PARSERS)}.")
    check_threshold(threshold)
    w = np.asarray(weights, np.float64)
    endpoints = edge_endpoints(steps)
    if w.shape != (len(endpoints), len(primitives)):
        raise ValueError(f"Weights of shape {w.shape} do not match {len(endpoints)} edges x "
                         f"{len(primitives)} ops.")
    multiplier = steps if multiplier is None else multiplier
    concat = list(range(2 + steps - multiplier, steps + 2))
    usable = np.array([not op_spec(p).is_zero for p in primitives])[None, :].repeat(len(w), 0)
    if mask is not None:
        usable &= np.asarray(mask, bool)
    scores = np.where(usable, w, -np.inf)
    edges = []
    if parser in ("darts", "sparse"):
        parsed = parse_cell(w, primitives, steps, mask)
        for k, ((op, inp), row) in enumerate(zip(parsed, genotype_edge_rows(parsed, steps))):
            node = k // 2
            if parser == "sparse":
                if scores[row, primitives.index(op)] < threshold:
                    continue
            edges.append((op, node, inp))
    else:
        for row, (node, inp) in enumerate(endpoints):
            order = sorted(range(len(primitives)), key=lambda j: (-scores[row, j], j))
            for j in order[:2]:
                if np.isfinite(scores[row, j]) and scores[row, j] >= threshold:
                    edges.append((primitives[j], node, inp))
    return CellGenotype(edges, concat, steps, reduction)


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
    spans = {"before the first reduction": m, "between the reductions": m2 - 1 - m,
             "after the second reduction": k - 1 - m2}
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
