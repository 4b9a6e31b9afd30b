"""Graph optimisation settings for search steps: Grappler without the passes that find nothing.

The first call of a traced search step is spent mostly in Grappler, TensorFlow's graph
optimiser (`benchmarks/search_step.py --split`). On a supernet step several of its passes
change nothing on the CPU: the layout optimiser (no NCHW kernels to convert to), the loop
optimiser (no loops), the MLIR (TFG) passes, and the meta optimiser's second round over the
whole graph (which removes a few dozen nodes out of tens of thousands). The remapper fuses a
couple of ops of a supernet step (the last bits of a loss differ without it) for up to 20 s
of the first call of a second-order step. Turning these off halves the first call; steps
take as long as before.
"""

import contextlib

#: The settings `quick_graph_optimization` changes, as `RewriterConfig` fields and values.
QUICK_REWRITES = {
    "layout_optimizer": "OFF",
    "remapping": "OFF",
    "loop_optimization": "OFF",
    "disable_tfg_optimizer": True,
    "meta_optimizer_iterations": "ONE",
}


def _quick_options(options):
    """A copy of `FunctionCallOptions` `options` with `QUICK_REWRITES` applied."""
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    config = config_pb2.ConfigProto()
    config.ParseFromString(options.config_proto_serialized)
    rewrites = config.graph_options.rewrite_options
    for field, value in QUICK_REWRITES.items():
        if isinstance(value, str):
            value = getattr(rewriter_config_pb2.RewriterConfig, value)
        setattr(rewrites, field, value)
    return context.FunctionCallOptions(executor_type=options.executor_type, config_proto=config)


@contextlib.contextmanager
def quick_graph_optimization(enabled=True):
    """Runs `tf.function` calls in this thread with Grappler's idle passes off.

    Graphs first called inside the block are optimised with `QUICK_REWRITES`:
    the same optimised graph (so the same numbers) for a supernet step, in
    about half the time. The thread's previous options are restored on exit.
    Search models wrap `fit` and `evaluate` in it (`quick_graph_optimization`
    attribute, True by default).

    Args:
        enabled: False makes the block a no-op (the default optimiser runs).

    Yields:
        None.

    Example:

    >>> with quick_graph_optimization():
    ...     pass
    """
    if not enabled:
        yield
        return
    from tensorflow.python.eager import context

    ctx = context.context()
    saved = ctx.function_call_options
    ctx.function_call_options = _quick_options(saved)
    try:
        yield
    finally:
        ctx.function_call_options = saved
