"""The DARTS search cell."""

import keras
from keras import layers, ops

from keras_darts.search_space.mixed_op import MixedOp, edge_output
from keras_darts.search_space.ops import FactorizedReduce, ReLUConvBN, halved_shape


def num_edges(steps):
    """Number of edges of a DARTS cell with `steps` intermediate nodes.

    Node `i` (0-based) has `i + 2` incoming edges, so 4 steps give 14 edges.

    Args:
        steps: intermediate nodes.

    Returns:
        The number of edges.

    Example:

    >>> num_edges(4)
    14
    """
    return sum(2 + i for i in range(steps))


def edge_endpoints(steps):
    """Returns `(to_node, from_state)` for each edge, in alpha row order.

    States 0 and 1 are the cell's inputs; intermediate node `i` is state
    `i + 2`. Edge rows are ordered node by node, inputs ascending.

    Args:
        steps: intermediate nodes.

    Returns:
        A list of `(to_node, from_state)` pairs.

    Example:

    >>> edge_endpoints(2)
    [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    """
    return [(i, j) for i in range(steps) for j in range(i + 2)]


def genotype_edge_rows(edges, steps):
    """The alpha row of each `(op, input)` of a DARTS-family genotype cell.

    A genotype cell lists two `(op, input)` pairs per intermediate node, node
    by node; the pair at position `k` is the edge into node `k // 2`.

    Args:
        edges: a genotype cell's `(op, input)` pairs (`genotype.normal`).
        steps: intermediate nodes of the supernet cell.

    Returns:
        Per pair, its row in `edge_endpoints(steps)` order, or None where the
        pair is no edge of a `steps`-node cell.

    Example:

    >>> genotype_edge_rows([("sep_conv_3x3", 1), ("skip_connect", 0),
    ...                     ("sep_conv_3x3", 2), ("max_pool_3x3", 0)], steps=2)
    [1, 0, 4, 2]
    """
    rows = {pair: e for e, pair in enumerate(edge_endpoints(steps))}
    return [rows.get((position // 2, inp)) for position, (_, inp) in enumerate(edges)]


@keras.saving.register_keras_serializable(package="keras_darts")
class SearchCell(layers.Layer):
    """A DARTS search cell: two inputs, `steps` nodes of mixed edges, a concat.

    The two inputs are preprocessed to `channels` channels (a factorized
    reduce for the first input when the previous cell was a reduction, else a
    1x1 ReLU-conv-BN). Every intermediate node sums one `MixedOp` per earlier
    state; the output concatenates the last `multiplier` nodes. In a
    reduction cell the edges leaving the two inputs have stride 2.

    The mixing weights are a call argument, so how they are computed (softmax
    with a temperature, sigmoid, per-cell alphas, masks, single paths) is the
    business of the caller, not of the cell. Integer "weights" (one op index
    per edge) select a single path: each edge then computes only its chosen
    op (`MixedOp.call_choice`); a pair `(indices, weights)` is a sampled path
    whose op outputs are scaled by their weights (`edge_output`). `edge_weights` (PC-DARTS's edge
    normalisation) scale each edge's output within its node's sum.

    An edge whose `active` list is empty is absent: it is neither built nor
    computed (a pruned supernet keeps only the edges of its topology).

    Args:
        primitives: candidate op names (the columns of the weights).
        channels: channels of every node.
        reduction: whether this is a reduction cell.
        reduction_prev: whether the previous cell was a reduction cell.
        steps: number of intermediate nodes.
        multiplier: number of last nodes concatenated into the output.
        active: per-edge lists of active op indices (None: all ops on all
            edges). Inactive ops are neither built nor computed; an empty list
            removes the edge.
        affine: whether the BNs have a scale and an offset.
        partial_channels: PC-DARTS's `K` for every edge (1: off).

    Call arguments:
        s0: output of the cell before the previous one.
        s1: output of the previous cell.
        weights: a `(num_edges, len(primitives))` tensor of mixing weights,
            or an int `(num_edges,)` tensor of op indices (a single path).
        training: training mode.
        edge_weights: optional `(num_edges,)` weights of the edges in their
            node's sum (edge normalisation).

    Returns:
        A tensor with `multiplier * channels` channels.

    Raises:
        ValueError: for `steps < 1`, a `multiplier` outside `[1, steps]`, a
            malformed `active` list, a node left without incoming edges, or a
            `partial_channels` that does not divide `channels`.

    Example:

    >>> cell = SearchCell(["skip_connect", "sep_conv_3x3"], channels=4, steps=2, multiplier=2)
    >>> x = keras.ops.ones((1, 8, 8, 4))
    >>> cell(x, x, keras.ops.ones((5, 2)) / 2).shape
    (1, 8, 8, 8)
    """

    def __init__(self, primitives, channels, reduction=False, reduction_prev=False, steps=4,
                 multiplier=4, active=None, affine=False, partial_channels=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer. Received: steps={steps!r}")
        if not isinstance(multiplier, int) or not 1 <= multiplier <= steps:
            raise ValueError(
                f"multiplier must be in [1, steps={steps}]. Received: multiplier={multiplier!r}"
            )
        self.primitives = tuple(primitives)
        self.channels = channels
        self.reduction = bool(reduction)
        self.reduction_prev = bool(reduction_prev)
        self.steps = steps
        self.multiplier = multiplier
        self.affine = affine
        endpoints = edge_endpoints(steps)
        if active is not None and len(active) != len(endpoints):
            raise ValueError(
                f"active must list the ops of each of the {len(endpoints)} edges. "
                f"Received {len(active)} entries."
            )
        self.active = None if active is None else [list(a) for a in active]
        self.partial_channels = partial_channels
        present = [active is None or len(active[e]) > 0 for e in range(len(endpoints))]
        for i in range(steps):
            if not any(present[e] for e, (node, _) in enumerate(endpoints) if node == i):
                raise ValueError(f"Node {i} has no incoming edge: every node needs at least "
                                 "one edge with an active op.")
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(channels, affine, name="preprocess0")
        else:
            self.preprocess0 = ReLUConvBN(channels, 1, 1, 0, affine, name="preprocess0")
        self.preprocess1 = ReLUConvBN(channels, 1, 1, 0, affine, name="preprocess1")
        #: position of each edge in `self.edges`, -1 for an absent edge.
        self.edge_index = []
        self.edges = []
        for e, (i, j) in enumerate(endpoints):
            if not present[e]:
                self.edge_index.append(-1)
                continue
            self.edge_index.append(len(self.edges))
            self.edges.append(MixedOp(
                self.primitives, channels, stride=2 if reduction and j < 2 else 1,
                active=None if active is None else active[e], affine=affine,
                partial_channels=partial_channels, name=f"edge_{i}_{j}"))

    def edge(self, e):
        """The `MixedOp` of edge row `e`, or None for an absent edge."""
        position = self.edge_index[e]
        return None if position < 0 else self.edges[position]

    def build(self, s0_shape, s1_shape, weights_shape=None):
        self.preprocess0.build(s0_shape)
        self.preprocess1.build(s1_shape)
        b, h, w = s1_shape[0], s1_shape[1], s1_shape[2]
        state = (b, h, w, self.channels)
        for edge in self.edges:
            edge.build(state)

    def compute_output_shape(self, s0_shape, s1_shape, weights_shape=None):
        shape = halved_shape(s1_shape) if self.reduction else tuple(s1_shape)
        return shape[:3] + (self.multiplier * self.channels,)

    def call(self, s0, s1, weights, training=None, edge_weights=None):
        states = [self.preprocess0(s0, training=training), self.preprocess1(s1, training=training)]
        e = 0
        for i in range(self.steps):
            node = None
            for j in range(i + 2):
                edge = self.edge(e)
                if edge is not None:
                    y = edge_output(edge, states[j], weights, e, training)
                    if edge_weights is not None:
                        y = ops.cast(edge_weights[e], y.dtype) * y
                    node = y if node is None else node + y
                e += 1
            states.append(node)
        return ops.concatenate(states[-self.multiplier:], axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "primitives": list(self.primitives),
            "channels": self.channels,
            "reduction": self.reduction,
            "reduction_prev": self.reduction_prev,
            "steps": self.steps,
            "multiplier": self.multiplier,
            "active": self.active,
            "affine": self.affine,
            "partial_channels": self.partial_channels,
        }
