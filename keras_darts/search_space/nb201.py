"""The NAS-Bench-201 search space: its cell, its supernet, and the stand-alone network."""

import keras
from keras import layers, ops

from keras_darts.search_space.mixed_op import MixedOp, edge_output
from keras_darts.search_space.shared_calls import share_edge_traces
from keras_darts.search_space.ops import NB201_PRIMITIVES, ReLUConvBN, batch_norm

NB201_NODES = 4


def nb201_edges(max_nodes=NB201_NODES):
    """`(to_node, from_node)` of each NAS-Bench-201 edge, in alpha row order.

    Node 0 is the cell input; node `i` sums edges from every `j < i`.

    Args:
        max_nodes: nodes per cell (4 in the benchmark).

    Returns:
        A list of pairs: 6 edges for 4 nodes.

    Example:

    >>> nb201_edges()
    [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
    """
    return [(i, j) for i in range(1, max_nodes) for j in range(i)]


@keras.saving.register_keras_serializable(package="keras_darts")
class NB201Cell(layers.Layer):
    """A NAS-Bench-201 cell: node `i` sums a mixed edge from every earlier node; the last node is the output.

    Args:
        primitives: candidate op names.
        channels: channels (input = output).
        active: per-edge active op indices (None: all); a stand-alone cell
            has one active op per edge.
        affine: BN scale and offset (False in the supernet).
        max_nodes: nodes per cell.

    Call arguments:
        x: the cell input.
        weights: `(num_edges, len(primitives))` mixing weights, integer op
            indices `(num_edges,)`: a single path, each edge computing only its
            chosen op (`MixedOp.call_choice`), or a sampled path `(indices,
            weights)` (`edge_output`).
        training: training mode.

    Returns:
        The last node, shaped like `x`.

    Example:

    >>> cell = NB201Cell(NB201_PRIMITIVES, channels=8)
    >>> cell(keras.ops.ones((1, 8, 8, 8)), keras.ops.ones((6, 5)) / 5).shape
    (1, 8, 8, 8)
    """

    def __init__(self, primitives, channels, active=None, affine=False, max_nodes=NB201_NODES,
                 **kwargs):
        super().__init__(**kwargs)
        self.primitives = tuple(primitives)
        self.channels = channels
        self.affine = affine
        self.max_nodes = max_nodes
        edges = nb201_edges(max_nodes)
        if active is not None and len(active) != len(edges):
            raise ValueError(f"active must list the ops of each of the {len(edges)} edges. "
                             f"Received {len(active)} entries.")
        self.active = None if active is None else [list(a) for a in active]
        self.edges = [
            MixedOp(self.primitives, channels, 1, None if active is None else active[e], affine,
                    pool_bn=False, name=f"edge_{i}_{j}")
            for e, (i, j) in enumerate(edges)
        ]

    def edge(self, e):
        """The `MixedOp` of edge row `e` (every NAS-Bench-201 edge is present)."""
        return self.edges[e]

    def build(self, input_shape, weights_shape=None):
        for edge in self.edges:
            edge.build(tuple(input_shape[:-1]) + (self.channels,))

    def compute_output_shape(self, input_shape, weights_shape=None):
        return tuple(input_shape)

    def call(self, x, weights, training=None):
        nodes = [x]
        e = 0
        for i in range(1, self.max_nodes):
            total = None
            for j in range(i):
                y = edge_output(self.edges[e], nodes[j], weights, e, training)
                total = y if total is None else total + y
                e += 1
            nodes.append(total)
        return nodes[-1]

    def get_config(self):
        return {**super().get_config(), "primitives": list(self.primitives),
                "channels": self.channels, "active": self.active, "affine": self.affine,
                "max_nodes": self.max_nodes}


@keras.saving.register_keras_serializable(package="keras_darts")
class ResidualReduction(layers.Layer):
    """The benchmark's residual reduction block between stages.

    ReLU-conv3x3(stride 2)-BN, ReLU-conv3x3-BN, plus a shortcut of 2x2 average
    pooling and a 1x1 convolution.

    Args:
        channels: output channels.

    Example:

    >>> ResidualReduction(16)(keras.ops.ones((1, 8, 8, 8))).shape
    (1, 4, 4, 16)
    """

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.conv_a = ReLUConvBN(channels, 3, 2, 1, True, name="conv_a")
        self.conv_b = ReLUConvBN(channels, 3, 1, 1, True, name="conv_b")
        self.pool = layers.AveragePooling2D(2, 2, name="shortcut_pool")
        self.shortcut = layers.Conv2D(channels, 1, use_bias=False, name="shortcut_conv")

    def build(self, input_shape):
        self.conv_a.build(input_shape)
        shape = self.conv_a.compute_output_shape(input_shape)
        self.conv_b.build(shape)
        self.shortcut.build(self.pool.compute_output_shape(input_shape))

    def compute_output_shape(self, input_shape):
        return self.conv_b.compute_output_shape(self.conv_a.compute_output_shape(input_shape))

    def call(self, x, training=None):
        y = self.conv_b(self.conv_a(x, training=training), training=training)
        return y + self.shortcut(self.pool(x))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package="keras_darts")
class NB201Supernet(layers.Layer):
    """The NAS-Bench-201 supernet: stem, three stages of N cells with residual reductions.

    Stem 3x3 conv (C) and BN; N cells at C, a residual reduction to 2C, N cells,
    a reduction to 4C, N cells; BN, ReLU, global pooling, classifier. All
    cells share one alpha (`"normal"`).

    Args:
        num_classes: classes.
        channels: C (16 in the benchmark).
        cells_per_stage: N (5 in the benchmark).
        primitives: candidate ops (`NB201_PRIMITIVES`).
        active: per-edge active op indices (None: all).
        affine: cell BNs with scale and offset (False in the supernet).

    Call arguments:
        x: images.
        cell_weights: one `(6, len(primitives))` weight tensor per cell.
        training: training mode.

    Returns:
        Logits.

    Raises:
        ValueError: for non-positive sizes.

    Example:

    >>> net = NB201Supernet(10, channels=8, cells_per_stage=1)
    """

    def __init__(self, num_classes, channels=16, cells_per_stage=5, primitives=NB201_PRIMITIVES,
                 active=None, affine=False, **kwargs):
        super().__init__(**kwargs)
        for name, v in (("num_classes", num_classes), ("channels", channels),
                        ("cells_per_stage", cells_per_stage)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")
        self.num_classes = num_classes
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.primitives = tuple(primitives)
        self.active = active
        self.affine = affine
        self.stem_conv = layers.Conv2D(channels, 3, padding="same", use_bias=False,
                                       name="stem_conv")
        self.stem_bn = batch_norm(True, name="stem_bn")
        self.blocks = []
        self.cells = []
        c = channels
        for stage in range(3):
            if stage:
                c *= 2
                self.blocks.append(ResidualReduction(c, name=f"reduction_{stage}"))
            for k in range(cells_per_stage):
                cell = NB201Cell(self.primitives, c, active, affine, name=f"cell_{stage}_{k}")
                self.cells.append(cell)
                self.blocks.append(cell)
        self.last_bn = batch_norm(True, name="last_bn")
        self.global_pool = layers.GlobalAveragePooling2D(name="global_pool")
        self.classifier = layers.Dense(num_classes, name="classifier")
        # Edges of the same signature (size, ops) are traced once (`SharedCalls`).
        self.shared_calls = None
        share_edge_traces(self)

    @property
    def cell_types(self):
        """Every searched cell is of one kind (`"normal"`)."""
        return ["normal"] * len(self.cells)

    @property
    def num_edges(self):
        """Edges per cell (6)."""
        return len(nb201_edges())

    @property
    def steps(self):
        """Intermediate nodes (3)."""
        return NB201_NODES - 1

    def build(self, input_shape):
        self.stem_conv.build(input_shape)
        shape = self.stem_conv.compute_output_shape(input_shape)
        self.stem_bn.build(shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.last_bn.build(shape)
        self.classifier.build((shape[0], shape[-1]))

    def compute_output_shape(self, input_shape, cell_weights_shape=None):
        return (input_shape[0], self.num_classes)

    def call(self, x, cell_weights, training=None):
        if len(cell_weights) != len(self.cells):
            raise ValueError(f"Expected mixing weights for {len(self.cells)} cells, "
                             f"got {len(cell_weights)}.")
        x = self.stem_bn(self.stem_conv(x), training=training)
        weights = iter(cell_weights)
        for block in self.blocks:
            if isinstance(block, NB201Cell):
                x = block(x, next(weights), training=training)
            else:
                x = block(x, training=training)
        x = ops.relu(self.last_bn(x, training=training))
        logits = self.classifier(self.global_pool(x))
        return ops.cast(logits, "float32")  # losses in float32 under mixed precision

    def discrete_weights(self, genotype):
        """One-hot mixing weights (per kind) that select `genotype`'s op on every edge."""
        import numpy as np

        w = np.zeros((self.num_edges, len(self.primitives)), "float32")
        for e, (op, _) in enumerate(genotype.edge_list()):
            w[e, self.primitives.index(op)] = 1.0
        return {"normal": w}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "channels": self.channels, "cells_per_stage": self.cells_per_stage,
                "primitives": list(self.primitives), "active": self.active,
                "affine": self.affine}
