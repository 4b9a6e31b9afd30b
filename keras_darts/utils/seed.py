"""Seeding for reproducible searches."""

import functools
import random

import numpy as np


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy, TensorFlow and Keras, and optionally asks for deterministic ops.

    With `deterministic=True` TensorFlow's op determinism is enabled, so two
    runs on the CPU with the same seed give bit-identical alphas and weights.
    It stays enabled for the rest of the process; `run_search` and
    `run_training` scope it to the run (`restores_op_determinism`).
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


def op_determinism_enabled():
    """Whether TensorFlow's op determinism is on in this process.

    Returns:
        A bool.

    Example:

    >>> op_determinism_enabled()  # doctest: +SKIP
    False
    """
    from tensorflow.python.framework import config as tf_config

    return bool(tf_config.is_op_determinism_enabled())


def restores_op_determinism(fn):
    """Decorator: op determinism turned on inside `fn` ends when `fn` returns or raises.

    A run asks for deterministic ops (`set_seed(seed, deterministic=True)`);
    without this the setting would stay on for whatever the process does next
    (later runs, tests), so results would depend on what ran before. The
    setting found when `fn` starts is restored when it ends.

    Args:
        fn: the function to wrap.

    Returns:
        The wrapped function.

    Example:

    >>> @restores_op_determinism
    ... def run(seed):
    ...     return set_seed(seed)
    >>> _ = run(0); op_determinism_enabled()  # doctest: +SKIP
    False
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from tensorflow.python.framework import config as tf_config

        before = op_determinism_enabled()
        try:
            return fn(*args, **kwargs)
        finally:
            if before:
                tf_config.enable_op_determinism()
            else:
                tf_config.disable_op_determinism()

    return wrapper
