"""Layers of stand-alone networks: drop-path, the genotype cell, auxiliary heads."""

import keras
from keras import layers, ops

from keras_darts.architecture.genotype import Genotype
from keras_darts.search_space.ops import (
    BatchNorm, FactorizedReduce, ReLUConvBN, batch_norm, build_op, halved_shape, op_spec,
    subsample,
)


@keras.saving.register_keras_serializable(package="keras_darts")
class DropPath(layers.Layer):
    """Drops a whole op output per sample during training (scaled by 1 / keep).

    The drop probability is a non-trainable variable, so `DropPathSchedule`
    can ramp it during training without retracing. In inference the layer is
    the identity and leaves no op in exported graphs.

    Args:
        seed: seed of the per-sample masks.

    Call arguments:
        x: the op output.
        training: drop only in training.

    Example:

    >>> DropPath()(keras.ops.ones((2, 4, 4, 3)), training=False).shape
    (2, 4, 4, 3)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.rate = self.add_weight(name="rate", shape=(), initializer="zeros", trainable=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, x, training=None):
        if not training:
            return x
        keep = 1.0 - self.rate
        shape = (ops.shape(x)[0], 1, 1, 1)
        mask = ops.floor(keep + keras.random.uniform(shape, seed=self.seed_generator))
        return x / keep * mask

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_darts")
class GenotypeCell(layers.Layer):
    """A discrete cell built from a genotype (normal or reduction part).

    Inputs are preprocessed as in the search cell (factorized reduce after a
    reduction, else 1x1 ReLU-conv-BN); every edge applies its op (stride 2 on
    the cell inputs of a reduction cell) followed by drop-path unless the op
    is an identity; each node sums its edges; the output concatenates the
    genotype's `concat` states. BNs have affine parameters.

    Args:
        genotype: a `Genotype` (or its dict form, as in configs), or a
            `CellGenotype` of one individually searched cell (D-DARTS).
        channels: channels of every node.
        reduction: use the reduction part of the genotype.
        reduction_prev: the previous cell was a reduction cell.
        drop_path: insert drop-path layers after non-identity ops.
        seed: seed of the drop-path masks.

    Call arguments:
        s0, s1: outputs of the two previous cells.
        training: training mode.

    Returns:
        A tensor with `len(concat) * channels` channels.

    Example:

    >>> cell = GenotypeCell(get_genotype("DARTS_V2"), channels=16)
    """

    def __init__(self, genotype, channels, reduction=False, reduction_prev=False,
                 drop_path=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        from keras_darts.architecture.cell_genotype import CellGenotype

        if isinstance(genotype, dict):
            genotype = (CellGenotype.from_dict(genotype) if "edges" in genotype
                        else Genotype.from_dict(genotype))
        self.genotype = genotype
        self.channels = channels
        self.reduction = bool(reduction)
        self.reduction_prev = bool(reduction_prev)
        self.use_drop_path = bool(drop_path)
        self.seed = seed
        if isinstance(genotype, CellGenotype):
            # A per-cell genotype (D-DARTS): any number of ops per node.
            self.edges_spec = list(genotype.edges)
            self.concat = tuple(genotype.concat)
            self.steps = genotype.steps
        else:
            kind = "reduce" if reduction else "normal"
            self.edges_spec = [(op, k // 2, inp)
                               for k, (op, inp) in enumerate(getattr(genotype, kind))]
            self.concat = tuple(getattr(genotype, f"{kind}_concat"))
            self.steps = len(self.edges_spec) // 2
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(channels, True, name="preprocess0")
        else:
            self.preprocess0 = ReLUConvBN(channels, 1, 1, 0, True, name="preprocess0")
        self.preprocess1 = ReLUConvBN(channels, 1, 1, 0, True, name="preprocess1")
        self.ops = []
        self.drop_paths = []
        for k, (name, _, inp) in enumerate(self.edges_spec):
            stride = 2 if reduction and inp < 2 else 1
            self.ops.append(build_op(name, channels, stride, affine=True))
            identity = op_spec(name).is_identity and stride == 1
            self.drop_paths.append(
                DropPath(seed=None if seed is None else seed + k, name=f"drop_path_{k}")
                if drop_path and not identity and not op_spec(name).is_zero else None)

    def build(self, s0_shape, s1_shape):
        self.preprocess0.build(s0_shape)
        self.preprocess1.build(s1_shape)
        b, h, w = s1_shape[0], s1_shape[1], s1_shape[2]
        state = (b, h, w, self.channels)
        for op, dp in zip(self.ops, self.drop_paths):
            op.build(state)
            if dp is not None:
                dp.build(op.compute_output_shape(state))

    def compute_output_shape(self, s0_shape, s1_shape):
        shape = halved_shape(s1_shape) if self.reduction else tuple(s1_shape)
        return shape[:3] + (len(self.concat) * self.channels,)

    def call(self, s0, s1, training=None):
        states = [self.preprocess0(s0, training=training), self.preprocess1(s1, training=training)]
        for node in range(self.steps):
            total = None
            for k, (_, target, inp) in enumerate(self.edges_spec):
                if target != node:
                    continue
                h = self.ops[k](states[inp], training=training)
                if self.drop_paths[k] is not None:
                    h = self.drop_paths[k](h, training=training)
                total = h if total is None else total + h
            if total is None:  # a node without ops (FairDARTS parsers) is zero
                total = ops.zeros_like(subsample(states[1]) if self.reduction else states[1])
            states.append(total)
        return ops.concatenate([states[i] for i in self.concat], axis=-1)

    def get_config(self):
        return {**super().get_config(), "genotype": self.genotype.to_dict(),
                "channels": self.channels, "reduction": self.reduction,
                "reduction_prev": self.reduction_prev, "drop_path": self.use_drop_path,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_darts")
class AuxiliaryHead(layers.Layer):
    """The reference auxiliary classifier (training only).

    ReLU, 5x5 average pooling (stride 3 for CIFAR's 8x8 maps, stride 2 for
    ImageNet's 14x14; padding excluded), 1x1 conv to 128, BN, ReLU, 2x2 conv to
    768, BN, ReLU, global pooling, a linear classifier. On maps smaller than
    the reference's (small images) the pooling window and the 2x2 kernel
    shrink to fit.

    Args:
        num_classes: number of classes.
        pool_stride: 3 (CIFAR) or 2 (ImageNet).

    Example:

    >>> AuxiliaryHead(10)(keras.ops.ones((2, 8, 8, 576))).shape
    (2, 10)
    """

    def __init__(self, num_classes, pool_stride=3, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.pool_stride = pool_stride
        self.conv1 = layers.Conv2D(128, 1, use_bias=False, name="conv1")
        self.bn1 = batch_norm(True, name="bn1")
        self.bn2 = batch_norm(True, name="bn2")
        self.gap = layers.GlobalAveragePooling2D(name="gap")
        self.classifier = layers.Dense(num_classes, name="classifier")

    def build(self, input_shape):
        size = min(int(input_shape[1]), int(input_shape[2]))
        window = min(5, size)
        self.pool = layers.AveragePooling2D(window, strides=min(self.pool_stride, window),
                                            padding="valid", name="pool")
        shape = self.pool.compute_output_shape(input_shape)
        self.conv1.build(shape)
        shape = self.conv1.compute_output_shape(shape)
        self.bn1.build(shape)
        self.conv2 = layers.Conv2D(768, min(2, int(shape[1]), int(shape[2])), use_bias=False,
                                   name="conv2")
        self.conv2.build(shape)
        shape = self.conv2.compute_output_shape(shape)
        self.bn2.build(shape)
        self.classifier.build((shape[0], 768))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def call(self, x, training=None):
        x = self.pool(ops.relu(x))
        x = ops.relu(self.bn1(self.conv1(x), training=training))
        x = ops.relu(self.bn2(self.conv2(x), training=training))
        return self.classifier(self.gap(x))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "pool_stride": self.pool_stride}


__all__ = ["AuxiliaryHead", "BatchNorm", "DropPath", "GenotypeCell"]


@keras.saving.register_keras_serializable(package="keras_darts")
class NB201GenotypeCell(layers.Layer):
    """A stand-alone NAS-Bench-201 cell: node `i` sums its edges' fixed ops; node 3 is the output.

    `none` edges are left out (no op, nothing computed), and so are the edges
    into nodes that do not reach the output (dead code in the benchmark's
    networks: same function, fewer parameters); a node whose edges are all
    `none` is zero. Ops have affine BNs, as in the benchmark's
    networks.

    Args:
        genotype: an `NB201Genotype` or its arch string.
        channels: channels (input = output).

    Example:

    >>> cell = NB201GenotypeCell("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|"
    ...                          "avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", channels=8)
    >>> cell(keras.ops.ones((1, 8, 8, 8))).shape
    (1, 8, 8, 8)
    """

    def __init__(self, genotype, channels, **kwargs):
        super().__init__(**kwargs)
        from keras_darts.architecture.nb201_genotype import NB201Genotype

        if isinstance(genotype, str):
            genotype = NB201Genotype.from_arch_string(genotype)
        self.genotype = genotype
        self.channels = channels
        # Nodes that reach the output through non-`none` edges; the others are dead
        # code (the benchmark computes them, their result is never used).
        live = {len(genotype.nodes)}
        for i in range(len(genotype.nodes), 0, -1):
            if i in live:
                live.update(j for op, j in genotype.nodes[i - 1] if op != "none")
        self.edge_ends = []
        self.edge_layers = []
        for i, node in enumerate(genotype.nodes, start=1):
            for op, j in node:
                if op != "none" and i in live:
                    self.edge_ends.append((i, j))
                    self.edge_layers.append(build_op(op, channels, 1, True))

    def build(self, input_shape):
        for op in self.edge_layers:
            op.build(tuple(input_shape[:-1]) + (self.channels,))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, x, training=None):
        nodes = [x]
        for i in range(1, len(self.genotype.nodes) + 1):
            total = None
            for (target, j), op in zip(self.edge_ends, self.edge_layers):
                if target == i:
                    y = op(nodes[j], training=training)
                    total = y if total is None else total + y
            nodes.append(ops.zeros_like(x) if total is None else total)
        return nodes[-1]

    def get_config(self):
        return {**super().get_config(), "genotype": self.genotype.to_arch_string(),
                "channels": self.channels}
