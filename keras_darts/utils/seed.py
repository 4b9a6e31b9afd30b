"""Seeding and determinism for reproducible runs."""

import copy
import functools
import random

import numpy as np


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy, TensorFlow and Keras, and optionally turns determinism on.

    With `deterministic=True` determinism is turned on (`set_determinism`), so
    two runs on the CPU with the same seed and thread settings give
    bit-identical alphas and weights, in one process or in two. It stays on
    for the rest of the process (in this thread); `run_search` and
    `run_training` scope it to the run (`restores_determinism`).
    On GPUs some kernels have no deterministic implementation; TensorFlow then
    raises an error naming the op rather than silently diverging.

    Args:
        seed: a non-negative integer.
        deterministic: whether to turn determinism on (with False the
            setting is left as found).

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
        set_determinism(True)
    return int(seed)


def _function_call_config():
    """The `ConfigProto` that `tf.function` calls of this thread hand to Grappler."""
    from tensorflow.core.protobuf import config_pb2
    from tensorflow.python.eager import context

    proto = config_pb2.ConfigProto()
    proto.ParseFromString(context.context().function_call_options.config_proto_serialized)
    return proto


def set_determinism(enabled):
    """Turns determinism on or off: TensorFlow's op determinism and Grappler's AddN rewrite.

    Op determinism (`tf.config.experimental.enable_op_determinism`) makes
    every op give the same outputs for the same inputs. It does not cover
    graph rewrites, and one of Grappler's breaks it on the CPU: when the
    statically estimated peak memory of a graph exceeds half of the RAM that
    is *free* when the graph is optimised, the memory optimizer turns large
    `AddN` ops (in a supernet: every node's summed gradients) into
    `AssignAdd`s onto a temporary variable in the order their inputs happen
    to finish, so the sums round differently from call to call and from
    process to process, and whether it happens depends on what else runs on
    the machine. Determinism therefore also switches Grappler's memory
    optimizer off for the functions this thread calls (measured on the
    `small` preset: the steady step within noise of determinism off, the
    first step shorter; `benchmarks/search_step.py --determinism both`).

    TensorFlow has no public setting for the memory optimizer: the option
    is written into the thread's function-call options, the private route
    that `tf.experimental.function_executor_type` takes for the executor.

    Args:
        enabled: True to turn both on, False to turn both off.

    Example:

    >>> set_determinism(True); determinism_enabled()  # doctest: +SKIP
    True
    """
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config as tf_config

    if enabled:
        tf_config.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()
    proto = _function_call_config()
    proto.graph_options.rewrite_options.memory_optimization = (
        rewriter_config_pb2.RewriterConfig.NO_MEM_OPT if enabled
        else rewriter_config_pb2.RewriterConfig.DEFAULT_MEM_OPT)
    context.context().function_call_options.config_proto_serialized = proto


def determinism_enabled():
    """Whether determinism is on in this thread: op determinism and no memory optimizer.

    Returns:
        A bool: True when both parts of `set_determinism(True)` are in effect.

    Example:

    >>> determinism_enabled()  # doctest: +SKIP
    False
    """
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.framework import config as tf_config

    memory_optimization = _function_call_config().graph_options.rewrite_options.memory_optimization
    return bool(tf_config.is_op_determinism_enabled()) and (
        memory_optimization == rewriter_config_pb2.RewriterConfig.NO_MEM_OPT)


def restores_determinism(fn):
    """Decorator: determinism turned on inside `fn` ends when `fn` returns or raises.

    A run asks for determinism (`set_seed(seed, deterministic=True)`);
    without this it would stay on for whatever the process does next (later
    runs, tests), so results would depend on what ran before. The op
    determinism setting and the thread's function-call options found when
    `fn` starts are restored when it ends.

    Args:
        fn: the function to wrap.

    Returns:
        The wrapped function.

    Example:

    >>> @restores_determinism
    ... def run(seed):
    ...     return set_seed(seed)
    >>> _ = run(0); determinism_enabled()  # doctest: +SKIP
    False
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from tensorflow.python.eager import context
        from tensorflow.python.framework import config as tf_config

        op_determinism = tf_config.is_op_determinism_enabled()
        call_options = copy.copy(context.context().function_call_options)
        try:
            return fn(*args, **kwargs)
        finally:
            if op_determinism:
                tf_config.enable_op_determinism()
            else:
                tf_config.disable_op_determinism()
            context.context().function_call_options = call_options

    return wrapper
