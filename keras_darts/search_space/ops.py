"""Candidate operations of the DARTS search space and the op registry.

Every op is a Keras layer mapping a tensor with `channels` channels to one
with `channels` channels, at the same resolution (`stride=1`) or half of it
(`stride=2`). Padding is symmetric, as in the reference PyTorch
implementation: convolutions pad explicitly and run `"valid"`; strided pools
and dilated convolutions run at stride 1 with symmetric padding and are then
subsampled, which gives exactly the reference's window placement and exports
to ONNX and TFLite as plain ops.

New ops are added by name with `register_op`; every search space, MixedOp and
stand-alone network looks ops up in the same registry.
"""

import dataclasses

import keras
from keras import layers, ops

from keras_darts.registry import Registry
from keras_darts.utils.distribute import num_replicas

_PACKAGE = "keras_darts"
BN_MOMENTUM = 0.9  # PyTorch momentum 0.1
BN_EPSILON = 1e-5


def statistics_all_reduced():
    """Whether training-mode `BatchNorm` all-reduces its statistics here.

    It does under a multi-replica `tf.distribute` strategy (synchronized
    BatchNorm: every replica normalises with the global batch's statistics).
    The one place a search-space layer looks at the distribution: a
    cross-replica reduction may not sit in a `switch_case` branch or a
    separately traced function, so `MixedOp` computes its ops inline then.

    Returns:
        A Python bool.
    """
    return num_replicas() > 1


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BatchNorm(layers.Layer):
    """Batch normalisation on one fused kernel, with PyTorch's semantics.

    Training mode normalises with the batch statistics and updates the
    running statistics inside the same kernel (`FusedBatchNormV3`):
    `running = (1 - momentum) * batch + momentum * running`, the running
    variance Bessel-corrected, as PyTorch does. Inference mode is a plain
    scale and shift, which exporters fold into the preceding convolution.
    One fused op (and one for its gradient) instead of ~30 keeps supernet
    graphs small: tracing and steps are several times faster than with
    `keras.layers.BatchNormalization`.

    Args:
        affine: learn a scale (`gamma`) and an offset (`beta`).
        momentum: running-statistics momentum, Keras convention (0.9 =
            PyTorch's 0.1).
        epsilon: added to the variance.

    Call arguments:
        x: a `(batch, height, width, channels)` float32 tensor.
        training: use and update batch statistics.

    Returns:
        The normalised tensor.

    Example:

    >>> bn = BatchNorm(affine=False)
    >>> bn(keras.ops.ones((2, 4, 4, 3)), training=True).shape
    (2, 4, 4, 3)
    """

    def __init__(self, affine=True, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={momentum!r}")
        self.affine = bool(affine)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        c = (input_shape[-1],)
        if self.affine:
            # Mixed precision: the fused kernel takes float32 parameters for any input dtype.
            self.gamma = self.add_weight(name="gamma", shape=c, initializer="ones",
                                         autocast=False)
            self.beta = self.add_weight(name="beta", shape=c, initializer="zeros",
                                        autocast=False)
        self.moving_mean = self.add_weight(name="moving_mean", shape=c, initializer="zeros",
                                           trainable=False, autocast=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=c,
                                               initializer="ones", trainable=False,
                                               autocast=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _scale_offset(self, channels):
        if self.affine:
            return self.gamma, self.beta
        return ops.ones((channels,)), ops.zeros((channels,))

    def call(self, x, training=None):
        import tensorflow as tf

        scale, offset = self._scale_offset(x.shape[-1])
        if training and statistics_all_reduced():
            return self._synchronized(x, scale, offset, tf.distribute.get_replica_context())
        if training:
            y, mean, var = tf.compat.v1.nn.fused_batch_norm(
                x, ops.convert_to_tensor(scale), ops.convert_to_tensor(offset),
                mean=ops.convert_to_tensor(self.moving_mean),
                variance=ops.convert_to_tensor(self.moving_variance), epsilon=self.epsilon,
                is_training=True, exponential_avg_factor=1.0 - self.momentum,
            )
            self.moving_mean.assign(mean)
            self.moving_variance.assign(var)
            return y
        inv = ops.rsqrt(self.moving_variance + self.epsilon)
        if self.affine:
            inv = inv * self.gamma
        shift = offset - self.moving_mean * inv
        # Scale and shift in float32, applied in the input's dtype (a no-op cast for float32).
        return x * ops.cast(inv, x.dtype) + ops.cast(shift, x.dtype)

    def _synchronized(self, x, scale, offset, ctx):
        """Training-mode BN over the global batch of all replicas (synchronized statistics).

        The per-channel sum, sum of squares and count are summed over replicas,
        so every replica normalises with, and stores, the statistics a single
        device would compute on the whole batch.
        """
        import tensorflow as tf

        x32 = tf.cast(x, tf.float32)
        count = tf.cast(tf.reduce_prod(tf.shape(x32)[:3]), tf.float32)
        total, n = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                                  [tf.reduce_sum(x32, axis=[0, 1, 2]), count])
        mean = total / n
        # Two passes (mean, then squared deviations): E[x^2] - E[x]^2 loses the variance
        # of nearly constant channels to cancellation.
        var = ctx.all_reduce(tf.distribute.ReduceOp.SUM,
                             tf.reduce_sum(tf.square(x32 - mean), axis=[0, 1, 2])) / n
        inv = tf.math.rsqrt(var + self.epsilon) * tf.convert_to_tensor(scale)
        y = x32 * inv + (tf.convert_to_tensor(offset) - mean * inv)
        unbiased = var * n / tf.maximum(n - 1.0, 1.0)
        m = self.momentum
        self.moving_mean.assign(m * self.moving_mean + (1.0 - m) * tf.stop_gradient(mean))
        self.moving_variance.assign(m * self.moving_variance
                                    + (1.0 - m) * tf.stop_gradient(unbiased))
        return tf.cast(y, x.dtype)

    def get_config(self):
        return {**super().get_config(), "affine": self.affine, "momentum": self.momentum,
                "epsilon": self.epsilon}


def batch_norm(affine, name=None):
    """Returns a `BatchNorm` with the reference's settings (momentum 0.1, eps 1e-5, PyTorch terms).

    Args:
        affine: whether the layer learns a scale and an offset (the supernet's
            BNs have none; stand-alone networks' BNs do).
        name: optional layer name.

    Returns:
        A `BatchNorm` layer.

    Example:

    >>> bn = batch_norm(affine=False)
    """
    return BatchNorm(affine=affine, name=name)


def subsample(x):
    """Keeps every second row and column (the centres of stride-2 windows).

    Args:
        x: a `(batch, height, width, channels)` tensor.

    Returns:
        `x[:, ::2, ::2, :]`.

    Example:

    >>> subsample(keras.ops.ones((1, 5, 5, 2))).shape
    (1, 3, 3, 2)
    """
    return x[:, ::2, ::2, :]


def _spatial(shape, fn):
    b, h, w, c = shape
    return (b, None if h is None else fn(h), None if w is None else fn(w), c)


def halved_shape(shape):
    """The `(batch, height, width, channels)` shape after a stride-2 op with symmetric padding.

    Spatial sizes become `ceil(n / 2)`; unknown sizes stay None.

    Args:
        shape: a 4-D shape tuple.

    Returns:
        The halved shape.

    Example:

    >>> halved_shape((None, 7, 8, 16))
    (None, 4, 4, 16)
    """
    return _spatial(shape, lambda n: (n + 1) // 2)


def _check_stride(stride):
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2. Received: stride={stride!r}")


def _check_channels(channels):
    if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
        raise ValueError(f"channels must be a positive integer. Received: channels={channels!r}")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Zero(layers.Layer):
    """The `none` op: zeros of the output shape.

    Args:
        stride: 1 or 2.

    Call arguments:
        x: a `(batch, height, width, channels)` tensor.

    Returns:
        Zeros shaped like `x`, halved spatially when `stride=2`.

    Example:

    >>> Zero(stride=2)(keras.ops.ones((1, 4, 4, 3))).shape
    (1, 2, 2, 3)
    """

    def __init__(self, stride=1, **kwargs):
        super().__init__(**kwargs)
        _check_stride(stride)
        self.stride = stride

    def compute_output_shape(self, input_shape):
        return halved_shape(input_shape) if self.stride == 2 else tuple(input_shape)

    def call(self, x):
        x = subsample(x) if self.stride == 2 else x
        return ops.zeros_like(x)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Identity(layers.Layer):
    """The `skip_connect` op at stride 1: returns its input.

    Args:
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    >>> Identity()(keras.ops.ones((1, 4, 4, 3))).shape
    (1, 4, 4, 3)
    """

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, x):
        return x


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FactorizedReduce(layers.Layer):
    """Halves the resolution with two offset 1x1 stride-2 convolutions.

    ReLU, then two 1x1 stride-2 convolutions of `channels // 2` filters each,
    one on the input and one on the input shifted by one pixel, concatenated
    and batch-normalised. This is `skip_connect` at stride 2 and the
    preprocessing of a cell's first input after a reduction.

    Args:
        channels: output channels (even).
        affine: whether the BN has a scale and an offset.

    Raises:
        ValueError: if `channels` is odd or not positive.

    Example:

    >>> FactorizedReduce(8)(keras.ops.ones((1, 8, 8, 4))).shape
    (1, 4, 4, 8)
    """

    def __init__(self, channels, affine=True, **kwargs):
        super().__init__(**kwargs)
        _check_channels(channels)
        if channels % 2:
            raise ValueError(
                f"FactorizedReduce needs an even number of channels. Received: channels={channels}"
            )
        self.channels = channels
        self.affine = affine
        self.conv_1 = layers.Conv2D(channels // 2, 1, strides=2, use_bias=False, name="conv_1")
        self.conv_2 = layers.Conv2D(channels // 2, 1, strides=2, use_bias=False, name="conv_2")
        self.bn = batch_norm(affine, name="bn")

    def build(self, input_shape):
        self.conv_1.build(input_shape)
        self.conv_2.build(input_shape)
        self.bn.build(tuple(input_shape[:-1]) + (self.channels,))

    def compute_output_shape(self, input_shape):
        return halved_shape(input_shape)[:3] + (self.channels,)

    def call(self, x, training=None):
        x = ops.relu(x)
        # The shifted branch is padded at the far end so that odd sizes give
        # the same output size as the first branch; for even sizes the padded
        # row and column are never sampled.
        shifted = ops.pad(x[:, 1:, 1:, :], [[0, 0], [0, 1], [0, 1], [0, 0]])
        out = ops.concatenate([self.conv_1(x), self.conv_2(shifted)], axis=-1)
        return self.bn(out, training=training)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "affine": self.affine}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ReLUConvBN(layers.Layer):
    """ReLU, a (possibly dilated) convolution, BN.

    Args:
        channels: output channels.
        kernel_size: convolution size.
        stride: 1 or 2.
        padding: symmetric zero padding.
        affine: whether the BN has a scale and an offset.

    Example:

    >>> ReLUConvBN(8, 1, 1, 0)(keras.ops.ones((1, 8, 8, 4))).shape
    (1, 8, 8, 8)
    """

    def __init__(self, channels, kernel_size, stride=1, padding=0, affine=True, **kwargs):
        super().__init__(**kwargs)
        _check_channels(channels)
        _check_stride(stride)
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.affine = affine
        self.pad = layers.ZeroPadding2D(padding) if padding else None
        self.conv = layers.Conv2D(
            channels, kernel_size, strides=stride, padding="valid", use_bias=False, name="conv"
        )
        self.bn = batch_norm(affine, name="bn")

    def build(self, input_shape):
        if self.pad:
            self.pad.build(input_shape)
        shape = self.pad.compute_output_shape(input_shape) if self.pad else input_shape
        self.conv.build(shape)
        self.bn.build(self.conv.compute_output_shape(shape))

    def compute_output_shape(self, input_shape):
        shape = self.pad.compute_output_shape(input_shape) if self.pad else input_shape
        return self.conv.compute_output_shape(shape)

    def call(self, x, training=None):
        x = ops.relu(x)
        if self.pad is not None:
            x = self.pad(x)
        return self.bn(self.conv(x), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "affine": self.affine,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DilConv(layers.Layer):
    """ReLU, a dilated depthwise convolution, a 1x1 convolution, BN.

    A stride-2 convolution with an even dilation and even padding reads only
    the even rows and columns of its padded input, so it is computed exactly
    as an undilated (dilation / 2) convolution of the subsampled input with
    half the padding: the reference's strided dilated convolution at a
    quarter of the work, with no strided dilated kernel (which Keras lacks).
    Other strided dilated settings run at stride 1 and are subsampled.

    Args:
        channels: output channels.
        kernel_size: depthwise kernel size.
        stride: 1 or 2.
        padding: symmetric zero padding.
        dilation: dilation rate.
        affine: whether the BN has a scale and an offset.

    Example:

    >>> DilConv(8, 3, 2, 2, 2)(keras.ops.ones((1, 8, 8, 8))).shape
    (1, 4, 4, 8)
    """

    def __init__(self, channels, kernel_size, stride=1, padding=0, dilation=1, affine=True,
                 **kwargs):
        super().__init__(**kwargs)
        _check_channels(channels)
        _check_stride(stride)
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.affine = affine
        # Strided dilated convs: subsample first (even phase) or after (general case).
        self._subsample_first = stride == 2 and dilation % 2 == 0 and padding % 2 == 0
        self._subsample_after = stride == 2 and dilation > 1 and not self._subsample_first
        conv_padding = padding // 2 if self._subsample_first else padding
        conv_dilation = dilation // 2 if self._subsample_first else dilation
        self.pad = layers.ZeroPadding2D(conv_padding) if conv_padding else None
        self.depthwise = layers.DepthwiseConv2D(
            kernel_size, strides=stride if dilation == 1 else 1, dilation_rate=conv_dilation,
            padding="valid", use_bias=False, name="depthwise",
        )
        self.pointwise = layers.Conv2D(channels, 1, use_bias=False, name="pointwise")
        self.bn = batch_norm(affine, name="bn")

    def _depthwise_shape(self, input_shape):
        shape = halved_shape(input_shape) if self._subsample_first else input_shape
        shape = self.pad.compute_output_shape(shape) if self.pad else shape
        return shape, self.depthwise.compute_output_shape(shape)

    def build(self, input_shape):
        if self.pad:
            self.pad.build(halved_shape(input_shape) if self._subsample_first else input_shape)
        conv_in, shape = self._depthwise_shape(input_shape)
        self.depthwise.build(conv_in)
        if self._subsample_after:
            shape = halved_shape(shape)
        self.pointwise.build(shape)
        self.bn.build(tuple(shape[:-1]) + (self.channels,))

    def compute_output_shape(self, input_shape):
        _, shape = self._depthwise_shape(input_shape)
        if self._subsample_after:
            shape = halved_shape(shape)
        return tuple(shape[:-1]) + (self.channels,)

    def call(self, x, training=None):
        x = ops.relu(x)
        if self._subsample_first:
            x = subsample(x)
        if self.pad is not None:
            x = self.pad(x)
        x = self.depthwise(x)
        if self._subsample_after:
            x = subsample(x)
        return self.bn(self.pointwise(x), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "affine": self.affine,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SepConv(layers.Layer):
    """Two stacked ReLU-depthwise-pointwise-BN blocks; the first one strided.

    Args:
        channels: output channels.
        kernel_size: depthwise kernel size.
        stride: 1 or 2 (applied in the first block).
        padding: symmetric zero padding of each depthwise convolution.
        affine: whether the BNs have a scale and an offset.

    Example:

    >>> SepConv(8, 3, 1, 1)(keras.ops.ones((1, 8, 8, 8))).shape
    (1, 8, 8, 8)
    """

    def __init__(self, channels, kernel_size, stride=1, padding=0, affine=True, **kwargs):
        super().__init__(**kwargs)
        _check_channels(channels)
        _check_stride(stride)
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.affine = affine
        self.block_1 = DilConv(channels, kernel_size, stride, padding, 1, affine, name="block_1")
        self.block_2 = DilConv(channels, kernel_size, 1, padding, 1, affine, name="block_2")

    def build(self, input_shape):
        self.block_1.build(input_shape)
        shape = self.block_1.compute_output_shape(input_shape)
        self.block_2.build(shape)

    def compute_output_shape(self, input_shape):
        return self.block_2.compute_output_shape(self.block_1.compute_output_shape(input_shape))

    def call(self, x, training=None):
        return self.block_2(self.block_1(x, training=training), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "affine": self.affine,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Pool(layers.Layer):
    """3x3 max or average pooling with symmetric padding (padding excluded from averages).

    Args:
        kind: `"max"` or `"avg"`.
        stride: 1 or 2.
        pool_size: window size (odd).

    Example:

    >>> Pool("avg", stride=2)(keras.ops.ones((1, 8, 8, 3))).shape
    (1, 4, 4, 3)
    """

    def __init__(self, kind, stride=1, pool_size=3, **kwargs):
        super().__init__(**kwargs)
        if kind not in ("max", "avg"):
            raise ValueError(f"Pool kind must be 'max' or 'avg'. Received: kind={kind!r}")
        _check_stride(stride)
        self.kind = kind
        self.stride = stride
        self.pool_size = pool_size
        cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
        # "same" at stride 1 pads symmetrically and excludes the padding.
        self.pool = cls(pool_size, strides=1, padding="same", name="pool")

    def compute_output_shape(self, input_shape):
        return halved_shape(input_shape) if self.stride == 2 else tuple(input_shape)

    def call(self, x):
        x = self.pool(x)
        return subsample(x) if self.stride == 2 else x

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "stride": self.stride,
                "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Noise(layers.Layer):
    """The `noise` op of the robustness spaces (S4): Gaussian noise of the output's shape.

    A parameter-free op that carries no information about its input; a
    search that picks it has collapsed.

    Args:
        stride: 1 or 2.
        stddev: standard deviation of the noise.
        seed: seed of the noise.

    Example:

    >>> Noise(stride=2)(keras.ops.ones((1, 4, 4, 3))).shape
    (1, 2, 2, 3)
    """

    def __init__(self, stride=1, stddev=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_stride(stride)
        self.stride = stride
        self.stddev = float(stddev)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compute_output_shape(self, input_shape):
        return halved_shape(input_shape) if self.stride == 2 else tuple(input_shape)

    def call(self, x):
        x = subsample(x) if self.stride == 2 else x
        return keras.random.normal(ops.shape(x), stddev=self.stddev, seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride, "stddev": self.stddev,
                "seed": self.seed}


# --------------------------------------------------------------------------- registry


@dataclasses.dataclass(frozen=True)
class OpSpec:
    """What the registry knows about an op.

    Attributes:
        name: the op's name in genotypes and alphas.
        builder: `builder(channels, stride, affine) -> keras.layers.Layer`.
        parameter_free: whether the op has no weights (pools, skip, none);
            used by analyses such as counting parameter-free picks.
        is_zero: whether the op is the `none` op (skipped in mixed sums and
            excluded by the DARTS derivation rule).
        search_bn: whether the supernet appends an affine-free BN after it
            (the reference does so for pooling ops).
        is_identity: whether the op is the identity at stride 1 (stand-alone
            networks apply no drop-path to it).

    Example:

    >>> op_spec("max_pool_3x3").search_bn
    True
    """

    name: str
    builder: object
    parameter_free: bool = False
    is_zero: bool = False
    search_bn: bool = False
    is_identity: bool = False


def _op_spec_of(name, obj):
    """An entry point's object as an `OpSpec`: an `OpSpec`, or a builder with default flags."""
    if isinstance(obj, OpSpec):
        return obj if obj.name == name else dataclasses.replace(obj, name=name)
    if callable(obj):
        return OpSpec(name, obj)
    raise ValueError(f"An op must be an OpSpec or a builder(channels, stride, affine). "
                     f"Received: {obj!r}")


def _check_op(name, spec):
    if not isinstance(spec, OpSpec) or not callable(spec.builder):
        raise ValueError(f"Op {name!r} must be registered as an OpSpec with a callable builder. "
                         f"Received: {spec!r}")


OPS = Registry("op", group="keras_darts.ops", check=_check_op, adapt=_op_spec_of)
"""The candidate ops by name (`keras_darts.registry.Registry` of `OpSpec`); third-party ops
register through the `keras_darts.ops` entry-point group (an `OpSpec` or a builder)."""


def register_op(name, *, parameter_free=False, is_zero=False, search_bn=False,
                is_identity=False, overwrite=False):
    """Registers an op builder under `name` (a decorator).

    Args:
        name: the op's name.
        parameter_free: the op has no weights.
        is_zero: the op is a `none` (zero) op.
        search_bn: the supernet appends a BN without affine parameters after it.
        is_identity: the op is the identity at stride 1.
        overwrite: allow replacing an existing op of that name.

    Returns:
        A decorator taking `builder(channels, stride, affine) -> Layer`.

    Raises:
        ValueError: if `name` is already registered and `overwrite` is False,
            or if `name` is not a non-empty string.

    Example:

    >>> @register_op("conv_1x1_demo")
    ... def _conv_1x1(channels, stride, affine):
    ...     return ReLUConvBN(channels, 1, stride, 0, affine)
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"Op name must be a non-empty string. Received: name={name!r}")

    def decorator(builder):
        OPS.register(name, OpSpec(name, builder, parameter_free, is_zero, search_bn, is_identity),
                     overwrite=overwrite)
        return builder

    return decorator


def op_spec(name):
    """Returns the `OpSpec` of a registered op.

    Args:
        name: op name.

    Returns:
        The `OpSpec`.

    Raises:
        ValueError: if no op of that name is registered.

    Example:

    >>> op_spec("sep_conv_3x3").parameter_free
    False
    """
    return OPS.get(name)


def registered_ops():
    """Returns the sorted names of all registered ops (built-in and installed plugins).

    Example:

    >>> "sep_conv_3x3" in registered_ops()
    True
    """
    return OPS.names()


def build_op(name, channels, stride=1, affine=True):
    """Builds the layer of a registered op.

    Args:
        name: op name.
        channels: input and output channels.
        stride: 1 or 2.
        affine: whether its BNs have a scale and an offset.

    Returns:
        A new `keras.layers.Layer`.

    Raises:
        ValueError: for an unknown op, a bad stride or bad channels.

    Example:

    >>> layer = build_op("dil_conv_3x3", channels=16, stride=2)
    """
    spec = op_spec(name)
    _check_channels(channels)
    _check_stride(stride)
    return spec.builder(channels, stride, affine)


@register_op("none", parameter_free=True, is_zero=True)
def _none(channels, stride, affine):
    return Zero(stride)


@register_op("max_pool_3x3", parameter_free=True, search_bn=True)
def _max_pool(channels, stride, affine):
    return Pool("max", stride)


@register_op("avg_pool_3x3", parameter_free=True, search_bn=True)
def _avg_pool(channels, stride, affine):
    return Pool("avg", stride)


@register_op("skip_connect", parameter_free=True, is_identity=True)
def _skip(channels, stride, affine):
    return Identity() if stride == 1 else FactorizedReduce(channels, affine)


@register_op("sep_conv_3x3")
def _sep3(channels, stride, affine):
    return SepConv(channels, 3, stride, 1, affine)


@register_op("sep_conv_5x5")
def _sep5(channels, stride, affine):
    return SepConv(channels, 5, stride, 2, affine)


@register_op("dil_conv_3x3")
def _dil3(channels, stride, affine):
    return DilConv(channels, 3, stride, 2, 2, affine)


@register_op("dil_conv_5x5")
def _dil5(channels, stride, affine):
    return DilConv(channels, 5, stride, 4, 2, affine)


@register_op("noise", parameter_free=True)
def _noise(channels, stride, affine):
    return Noise(stride)


@register_op("nor_conv_1x1")
def _nor_conv_1x1(channels, stride, affine):
    return ReLUConvBN(channels, 1, stride, 0, affine)


@register_op("nor_conv_3x3")
def _nor_conv_3x3(channels, stride, affine):
    return ReLUConvBN(channels, 3, stride, 1, affine)


DARTS_PRIMITIVES = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""The 8 candidate ops of the DARTS space, in the reference's column order."""

NB201_PRIMITIVES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The 5 candidate ops of NAS-Bench-201, in the benchmark's order."""
