"""Seeding for reproducible searches."""

import random

import numpy as np


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy, TensorFlow and Keras, and optionally asks for deterministic ops.

    With `deterministic=True` TensorFlow's op determinism is enabled, so two
    runs on the CPU with the same seed give bit-identical alphas and weights.
    On GPUs some kernels have no deterministic implementation; TensorFlow then
    raises an error naming the op rather than silently diverging.

    Args:
        seed: a non-negative integer.
        deterministic: whether to call
            `tf.config.experimental.enable_op_determinism()`.

    Returns:
        The seed.

    Raises:
        ValueError: if `seed` is not a non-negative integer.

    Example:

    >>> set_seed(0)
    0
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(int(seed))
    tf.random.set_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return int(seed)
