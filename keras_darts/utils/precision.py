"""Numeric precision of searches and trainings: float32, or mixed with bfloat16 or float16.

Under a mixed precision the network's layers compute in bfloat16 or float16 and keep their
variables in float32 (Keras dtype policies `"mixed_bfloat16"`, `"mixed_float16"`). What
decides the architecture stays in float32: the alphas and their mixing weights (cast to the
op outputs' dtype only where an edge mixes them), BatchNorm's parameters and statistics (our
`BatchNorm` keeps them float32; its fused kernel computes the moments in float32), the logits
handed to a loss and every loss.
float16 has a narrow range, so its gradients are computed from a scaled loss
(`DynamicLossScale`); bfloat16 has float32's range and needs no scaling.
"""

import contextlib

import keras
import tensorflow as tf

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def check_precision(precision):
    """Returns `precision` if it is one of `PRECISIONS`.

    Raises:
        ValueError: naming the precision and the ones there are.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; choose one of "
                         f"{', '.join(PRECISIONS)}.")
    return precision


def check_loss_scaling_devices(precision, distributed):
    """Raises if float16's loss scaling would run under a multi-device strategy.

    A search model's `DynamicLossScale` is not synchronised across replicas, so
    `mixed_float16` searches run on one device; bfloat16 needs no scaling.

    Args:
        precision: one of `PRECISIONS`.
        distributed: whether the run uses more than one device.

    Raises:
        ValueError: for `mixed_float16` with `distributed`, naming bfloat16.
    """
    if precision == "mixed_float16" and distributed:
        raise ValueError("precision='mixed_float16' runs on one device (its loss scaling is "
                         "not distributed); under a tf.distribute strategy use "
                         "precision='mixed_bfloat16', which needs no loss scaling.")


@contextlib.contextmanager
def precision_policy(precision):
    """Layers created inside the block compute in `precision` (a Keras dtype policy).

    The global Keras dtype policy is set for the block only and restored after it, so
    a model built inside keeps its precision and nothing built later is affected.

    Args:
        precision: one of `PRECISIONS`.

    Raises:
        ValueError: for an unknown precision (before anything changes).

    Example:

    >>> with precision_policy("mixed_bfloat16"):
    ...     layer = keras.layers.Dense(2)
    >>> layer.compute_dtype, layer.variable_dtype
    ('bfloat16', 'float32')
    """
    check_precision(precision)
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


class DynamicLossScale:
    """Dynamic loss scaling for float16 gradients, shared by every optimizer of a model.

    Gradients are computed as the gradients of `scale * loss` (the backward pass is
    seeded with the scale: the forward pass is unchanged) and divided by the scale.
    An update whose gradients are not all finite is skipped and the scale halved;
    after `growth_interval` finite updates in a row the scale doubles. This is the
    scheme of Keras' `LossScaleOptimizer`, held once per model because the search
    strategies compute and clip their gradients themselves, for several optimizers.

    Args:
        owner: the Keras layer or model that owns the two variables (the scale and
            the count of finite updates), so that they are checkpointed with it.
        initial_scale: the first scale (2**15, as Keras).
        growth_interval: finite updates before the scale doubles.

    Example:

    >>> scale = DynamicLossScale(keras.layers.Layer())
    >>> float(scale.scale.numpy())
    32768.0
    """

    def __init__(self, owner, initial_scale=2.0 ** 15, growth_interval=2000):
        self.growth_interval = int(growth_interval)
        self.scale = owner.add_weight(
            name="loss_scale", shape=(), dtype="float32", trainable=False,
            initializer=keras.initializers.Constant(float(initial_scale)))
        self.good_steps = owner.add_weight(name="loss_scale_good_steps", shape=(),
                                           dtype="int64", trainable=False, initializer="zeros")

    def gradients(self, tape, target, sources):
        """`tape.gradient(target, sources)` through the scaled backward pass, unscaled.

        Args:
            tape: the `tf.GradientTape` that recorded `target`.
            target: a float32 scalar loss.
            sources: the variables or tensors.

        Returns:
            The gradients (None where `tape.gradient` gives None), divided by the scale.
        """
        scale = tf.convert_to_tensor(self.scale)
        grads = tape.gradient(target, sources,
                              output_gradients=tf.cast(scale, target.dtype))
        return [None if g is None else g / tf.cast(scale, g.dtype) for g in grads]

    def apply_if_finite(self, grads, apply):
        """Runs `apply()` if every gradient is finite; updates the scale either way.

        Args:
            grads: the unscaled gradients (no None).
            apply: a function of no arguments that applies them.
        """
        from keras_darts.utils.distribute import num_replicas

        check_loss_scaling_devices("mixed_float16", num_replicas() > 1)
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])

        def finite_update():
            apply()
            grow = self.good_steps + 1 >= self.growth_interval
            self.scale.assign(tf.where(grow, self.scale * 2.0, self.scale))
            self.good_steps.assign(tf.where(grow, tf.constant(0, tf.int64), self.good_steps + 1))
            return tf.constant(True)

        def skip():
            self.scale.assign(tf.maximum(self.scale / 2.0, 1.0))
            self.good_steps.assign(0)
            return tf.constant(False)

        tf.cond(finite, finite_update, skip)


def float32_model(model):
    """A float32 version of a mixed-precision Keras model: the model, or a float32 copy.

    Exporters write float32 graphs (TFLite's and ONNX's converters, and the parity checks
    against them, expect float32 kernels; a TFLite float16 or int8 file is made from the
    float32 graph by quantization). A network trained under `mixed_bfloat16` or
    `mixed_float16` keeps float32 weights, so the copy computes with exactly those.

    Args:
        model: a functional `keras.Model` (for example from `build_network`).

    Returns:
        `model` itself if it computes in float32, otherwise a float32 clone holding
        the same weight values.

    Example:

    >>> with precision_policy("mixed_bfloat16"):
    ...     net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> float32_model(net).layers[-1].compute_dtype
    'float32'
    """
    if model.dtype_policy.compute_dtype == "float32" and all(
            layer.dtype_policy.compute_dtype == "float32" for layer in model.layers):
        return model

    def clone(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    with precision_policy("float32"):  # sublayers made in a layer's constructor too
        copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
