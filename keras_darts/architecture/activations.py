"""How architecture parameters become mixing weights.

An activation is a function `fn(alpha, temperature, mask) -> weights` applied
per edge (over the last axis). `mask` is a boolean tensor of alpha's shape,
or None; masked-out ops get weight 0. New activations are registered by name
with `register_activation`.
"""

from keras import ops

from keras_darts.registry import Registry


def _check_activation(name, fn):
    if not callable(fn):
        raise ValueError(f"Activation {name!r} must be a function "
                         f"fn(alpha, temperature, mask). Received: {fn!r}")


ACTIVATIONS = Registry("activation", group="keras_darts.activations", check=_check_activation)
"""Mixing functions by name (`keras_darts.registry.Registry`); third-party ones register
through the `keras_darts.activations` entry-point group."""


def register_activation(name, overwrite=False):
    """Registers a mixing function under `name` (a decorator).

    Args:
        name: the activation's name.
        overwrite: allow replacing an existing activation.

    Returns:
        A decorator taking `fn(alpha, temperature, mask) -> weights`.

    Raises:
        ValueError: if the name is taken and `overwrite` is False.

    Example:

    >>> @register_activation("hardmax_demo")
    ... def _hardmax(alpha, temperature, mask):
    ...     return keras.ops.one_hot(keras.ops.argmax(alpha, -1), alpha.shape[-1])
    """
    return ACTIVATIONS.register(name, overwrite=overwrite)


def get_activation(name):
    """Returns the registered mixing function `name`.

    Args:
        name: a registered activation name (`"softmax"`, `"sigmoid"`, ...).

    Returns:
        The function `fn(alpha, temperature, mask) -> weights`.

    Raises:
        ValueError: for an unknown name.

    Example:

    >>> fn = get_activation("softmax")
    """
    return ACTIVATIONS.get(name)


def registered_activations():
    """Sorted names of the registered activations (built-in and installed plugins).

    Example:

    >>> registered_activations()[:2]
    ['sigmoid', 'softmax']
    """
    return ACTIVATIONS.names()


@register_activation("softmax")
def softmax(alpha, temperature=1.0, mask=None):
    """Softmax of `alpha / temperature` over each edge's (unmasked) ops.

    Args:
        alpha: `(..., num_ops)` architecture parameters.
        temperature: a positive scalar (tensor or float).
        mask: optional boolean mask of alpha's shape.

    Returns:
        Weights summing to 1 over each edge's active ops.

    Example:

    >>> softmax(keras.ops.zeros((1, 4)))  # [[0.25, 0.25, 0.25, 0.25]]  # doctest: +SKIP
    """
    logits = alpha / temperature
    if mask is not None:
        logits = ops.where(mask, logits, ops.full_like(logits, -1e30))
    logits = logits - ops.max(logits, axis=-1, keepdims=True)
    e = ops.exp(logits)
    if mask is not None:
        e = e * ops.cast(mask, e.dtype)
    return e / ops.sum(e, axis=-1, keepdims=True)


@register_activation("sigmoid")
def sigmoid(alpha, temperature=1.0, mask=None):
    """Element-wise sigmoid of `alpha / temperature`: weights are not normalised.

    Args:
        alpha: `(..., num_ops)` architecture parameters.
        temperature: a positive scalar.
        mask: optional boolean mask of alpha's shape.

    Returns:
        Weights in (0, 1), masked ops set to 0.

    Example:

    >>> sigmoid(keras.ops.zeros((1, 4)))  # [[0.5, 0.5, 0.5, 0.5]]  # doctest: +SKIP
    """
    w = ops.sigmoid(alpha / temperature)
    if mask is not None:
        w = w * ops.cast(mask, w.dtype)
    return w
