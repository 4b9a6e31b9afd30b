"""The DARTS search network (supernet)."""

import keras
from keras import layers as layers_mod
from keras import ops

from keras_darts.search_space.cells import SearchCell, num_edges
from keras_darts.search_space.ops import DARTS_PRIMITIVES, batch_norm
from keras_darts.search_space.shared_calls import share_edge_traces


def reduction_indices(num_layers, reductions=None):
    """Indices of the reduction cells: `num_layers // 3` and `2 * num_layers // 3` by default.

    Args:
        num_layers: number of cells.
        reductions: explicit indices, or None for the DARTS placement.

    Returns:
        A sorted tuple of distinct indices in `[0, num_layers)`.

    Raises:
        ValueError: if `num_layers < 1`, if the indices collide (more
            reductions than cells, e.g. `num_layers=1`), or are out of range.

    Example:

    >>> reduction_indices(8)
    (2, 5)
    """
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
        raise ValueError(f"layers must be a positive integer. Received: layers={num_layers!r}")
    if reductions is None:
        reductions = (num_layers // 3, 2 * num_layers // 3)
        if len(set(reductions)) != len(reductions):
            raise ValueError(
                f"layers={num_layers} is too few cells for 2 reduction cells at "
                f"layers//3 and 2*layers//3 (both would be cell {reductions[0]}). "
                "Use at least 2 cells."
            )
    reductions = tuple(int(r) for r in reductions)
    if len(set(reductions)) != len(reductions):
        raise ValueError(f"Duplicate reduction indices: {list(reductions)}.")
    bad = [r for r in reductions if not 0 <= r < num_layers]
    if bad:
        raise ValueError(
            f"Reduction indices {bad} are out of range for layers={num_layers}."
        )
    return tuple(sorted(reductions))


STEMS = ("cifar", "imagenet")


def check_stem(stem, channels):
    """Raises `ValueError` for an unknown stem, or `channels` too few for the ImageNet stem."""
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}. Received: stem={stem!r}")
    if stem == "imagenet" and channels < 2:
        raise ValueError(f"The imagenet stem's first convolution has channels // 2 channels: "
                         f"channels must be at least 2. Received: channels={channels}")


class ImageNetStem:
    """The DARTS family's ImageNet (mobile setting) stem: three stride-2 3x3 convolutions.

    `stem0` (conv to `channels // 2`, BN, ReLU, conv to `channels`, BN) gives
    the first cell's `s0` at 1/4 of the input side, `stem1` (ReLU, conv, BN)
    its `s1` at 1/8: 224 -> 56 and 28. Each convolution pads 1 pixel on every
    side, as the papers' networks do. The stand-alone network (functional)
    and the search supernet (a subclassed layer) are both built from this one
    definition; its layers are named `stem0_*` and `stem1_*`.

    Args:
        channels: the cells' initial channels C.

    Example:

    >>> stem = ImageNetStem(16)
    >>> s0, s1 = stem(keras.random.normal((2, 64, 64, 3)))
    >>> tuple(s0.shape), tuple(s1.shape)
    ((2, 16, 16, 16), (2, 8, 8, 16))
    """

    def __init__(self, channels):
        def conv(c, name):
            return layers_mod.Conv2D(c, 3, strides=2, use_bias=False, name=name)

        self.stem0 = [
            layers_mod.ZeroPadding2D(1, name="stem0_pad1"), conv(channels // 2, "stem0_conv1"),
            batch_norm(True, name="stem0_bn1"), layers_mod.ReLU(name="stem0_relu"),
            layers_mod.ZeroPadding2D(1, name="stem0_pad2"), conv(channels, "stem0_conv2"),
            batch_norm(True, name="stem0_bn2"),
        ]
        self.stem1 = [
            layers_mod.ReLU(name="stem1_relu"), layers_mod.ZeroPadding2D(1, name="stem1_pad"),
            conv(channels, "stem1_conv"), batch_norm(True, name="stem1_bn"),
        ]
        self.layers = self.stem0 + self.stem1

    def build(self, input_shape):
        """Builds the layers; returns the shapes of `(s0, s1)`."""
        def build_all(sequence, shape):
            for layer in sequence:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
            return shape

        s0 = build_all(self.stem0, input_shape)
        return s0, build_all(self.stem1, s0)

    def __call__(self, x, training=None):
        """`(s0, s1)`: the first cell's two inputs."""
        def run(sequence, x):
            for layer in sequence:
                is_bn = isinstance(layer, layers_mod.BatchNormalization)
                x = layer(x, training=training) if is_bn else layer(x)
            return x

        s0 = run(self.stem0, x)
        return s0, run(self.stem1, s0)


@keras.saving.register_keras_serializable(package="keras_darts")
class DartsSupernet(layers_mod.Layer):
    """The DARTS supernet: stem, `layers` search cells, global pooling, classifier.

    Reduction cells sit at `layers // 3` and `2 * layers // 3` (or at
    `reductions`) and double the channels. Every BN inside the cells has no
    affine parameters, as in the reference; the stem's BN has them.

    The CIFAR stem (one 3x3 conv at full resolution) feeds both inputs of
    the first cell. The ImageNet stem (`ImageNetStem`, PC-DARTS's search on
    ImageNet) reduces 224 x 224 images to 28 x 28 with three stride-2
    convolutions before the first cell, whose `s0` (56 x 56) is then reduced
    as after a reduction cell.

    Args:
        num_classes: number of classes.
        layers: number of cells (8 in the paper).
        channels: initial channels C (16 in the paper).
        steps: intermediate nodes per cell (4).
        multiplier: nodes concatenated into a cell's output (4).
        stem_multiplier: the CIFAR stem has `stem_multiplier * channels`
            channels (3).
        primitives: candidate op names.
        normal_active: per-edge active op indices of normal cells (None: all).
        reduce_active: per-edge active op indices of reduction cells.
        reductions: explicit reduction indices (None: the DARTS placement).
        partial_channels: PC-DARTS's partial channel connections: `1/K` of
            each edge's channels go through its ops (1: off; 4 in PC-DARTS).
        stem: `"cifar"` or `"imagenet"` (see above).

    Call arguments:
        x: images `(batch, height, width, channels)`.
        cell_weights: a list with one `(num_edges, len(primitives))` mixing
            weight tensor per cell, or one int `(num_edges,)` tensor of op
            indices per cell (a single path: each edge computes one op), or
            one sampled path `(indices, weights)` per cell (each edge computes
            its op, scaled by its weight: `edge_output`).
        training: training mode.
        edge_weights: optional list of one `(num_edges,)` tensor per cell,
            each edge's weight in its node's sum (PC-DARTS's edge
            normalisation).

    Returns:
        Logits `(batch, num_classes)`.

    Raises:
        ValueError: for impossible sizes (no classes, zero nodes, more
            reductions than cells, a multiplier larger than the nodes) or an
            unknown stem.

    Example:

    >>> net = DartsSupernet(10, layers=3, channels=4, steps=2, multiplier=2)
    """

    def __init__(self, num_classes, layers=8, channels=16, steps=4, multiplier=4,
                 stem_multiplier=3, primitives=DARTS_PRIMITIVES, normal_active=None,
                 reduce_active=None, reductions=None, partial_channels=1, stem="cifar",
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_classes", num_classes), ("channels", channels),
                            ("steps", steps), ("multiplier", multiplier),
                            ("stem_multiplier", stem_multiplier)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2. Received: num_classes={num_classes}")
        self.num_classes = num_classes
        self.num_layers = layers
        self.channels = channels
        self.steps = steps
        self.multiplier = multiplier
        self.stem_multiplier = stem_multiplier
        self.primitives = tuple(primitives)
        self.normal_active = normal_active
        self.reduce_active = reduce_active
        self.reductions = reduction_indices(layers, reductions)
        self.partial_channels = partial_channels
        check_stem(stem, channels)
        self.stem_kind = stem

        if stem == "cifar":
            self.stem_conv = layers_mod.Conv2D(
                stem_multiplier * channels, 3, padding="same", use_bias=False, name="stem_conv"
            )
            self.stem_bn = batch_norm(True, name="stem_bn")
        else:
            self._imagenet_stem = ImageNetStem(channels)
            self.imagenet_stem_layers = self._imagenet_stem.layers  # tracked by Keras
        self.cells = []
        c = channels
        reduction_prev = stem == "imagenet"  # s0 is twice s1's side, as after a reduction
        for index in range(layers):
            reduction = index in self.reductions
            if reduction:
                c *= 2
            self.cells.append(
                SearchCell(
                    self.primitives, c, reduction=reduction, reduction_prev=reduction_prev,
                    steps=steps, multiplier=multiplier,
                    active=reduce_active if reduction else normal_active,
                    affine=False, partial_channels=partial_channels, name=f"cell_{index}",
                )
            )
            reduction_prev = reduction
        self.global_pool = layers_mod.GlobalAveragePooling2D(name="global_pool")
        self.classifier = layers_mod.Dense(num_classes, name="classifier")
        # Edges of the same signature (size, stride, ops) are traced once (`SharedCalls`).
        self.shared_calls = None
        share_edge_traces(self)

    @property
    def cell_types(self):
        """`"reduce"` or `"normal"` for each cell, in order."""
        return ["reduce" if i in self.reductions else "normal" for i in range(self.num_layers)]

    @property
    def stem_layers(self):
        """The stem's layers, in order."""
        if self.stem_kind == "cifar":
            return [self.stem_conv, self.stem_bn]
        return list(self.imagenet_stem_layers)

    @property
    def num_edges(self):
        """Edges per cell."""
        return num_edges(self.steps)

    def build(self, input_shape):
        b, h, w = input_shape[0], input_shape[1], input_shape[2]
        if self.stem_kind == "cifar":
            self.stem_conv.build(input_shape)
            stem_shape = (b, h, w, self.stem_multiplier * self.channels)
            self.stem_bn.build(stem_shape)
            s0 = s1 = stem_shape
        else:
            s0, s1 = self._imagenet_stem.build(input_shape)
        for cell in self.cells:
            cell.build(s0, s1)
            s0, s1 = s1, cell.compute_output_shape(s0, s1)
        self.global_pool.build(s1)
        self.classifier.build((b, s1[-1]))

    def compute_output_shape(self, input_shape, cell_weights_shape=None):
        return (input_shape[0], self.num_classes)

    def stem(self, x, training=None):
        """The stem's outputs `(s0, s1)`: the first cell's two inputs (one tensor twice for the
        CIFAR stem)."""
        if self.stem_kind == "imagenet":
            return self._imagenet_stem(x, training)
        s = self.stem_bn(self.stem_conv(x), training=training)
        return s, s

    def cell_step(self, index, s0, s1, cell_weights, training=None, edge_weights=None):
        """The two states after cell `index`: `(s1, cell(s0, s1))`.

        Args:
            index: the cell's index.
            s0, s1: the cell's two inputs (the outputs of the two cells before it).
            cell_weights: one mixing-weight tensor (or op-index tensor) per cell.
            training: training mode.
            edge_weights: one edge-weight tensor per cell, or None.

        Returns:
            `(s1, output)`: the next cell's inputs.
        """
        return s1, self.cells[index](
            s0, s1, cell_weights[index], training=training,
            edge_weights=None if edge_weights is None else edge_weights[index])

    def head(self, features):
        """Logits of the last cell's feature map (float32 under mixed precision)."""
        return ops.cast(self.classifier(self.global_pool(features)), "float32")

    def check_cell_weights(self, cell_weights):
        """Raises `ValueError` unless there is one mixing-weight tensor per cell."""
        if len(cell_weights) != self.num_layers:
            raise ValueError(
                f"Expected mixing weights for {self.num_layers} cells, got {len(cell_weights)}."
            )

    def features(self, x, cell_weights, training=None, edge_weights=None):
        """Runs stem and cells; returns the last cell's feature map.

        A method that runs the cells otherwise (D-DARTS's passes with a cell
        removed) composes `stem`, `cell_step` and `head` itself.

        Args:
            x: images.
            cell_weights: one mixing-weight tensor (or op-index tensor) per cell.
            training: training mode.
            edge_weights: one edge-weight tensor per cell, or None.

        Returns:
            The feature map.
        """
        self.check_cell_weights(cell_weights)
        s0, s1 = self.stem(x, training)
        for i in range(self.num_layers):
            s0, s1 = self.cell_step(i, s0, s1, cell_weights, training, edge_weights)
        return s1

    def call(self, x, cell_weights, training=None, edge_weights=None):
        return self.head(self.features(x, cell_weights, training, edge_weights))

    def discrete_weights(self, genotype):
        """One-hot mixing weights (per kind) that select exactly `genotype`'s edges and ops."""
        import numpy as np

        from keras_darts.search_space.cells import genotype_edge_rows

        out = {}
        for kind in ("normal", "reduce"):
            edges = getattr(genotype, kind)
            w = np.zeros((self.num_edges, len(self.primitives)), "float32")
            for row, (op, inp) in zip(genotype_edge_rows(edges, self.steps), edges):
                if row is None:
                    raise ValueError(f"The {kind} cell's edge from input {inp} is no edge of "
                                     f"this supernet's {self.steps}-node cells: {genotype}")
                w[row, self.primitives.index(op)] = 1.0
            out[kind] = w
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "layers": self.num_layers,
            "channels": self.channels,
            "steps": self.steps,
            "multiplier": self.multiplier,
            "stem_multiplier": self.stem_multiplier,
            "primitives": list(self.primitives),
            "normal_active": self.normal_active,
            "reduce_active": self.reduce_active,
            "reductions": list(self.reductions),
            "partial_channels": self.partial_channels,
            "stem": self.stem_kind,
        }

