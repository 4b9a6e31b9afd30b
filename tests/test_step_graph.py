"""The step graph built for a short first step: Grappler without its idle passes (options scoped
to fit) and edges traced once per signature, each computing what the default graph computes
(up to float rounding)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import TINY
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
from tensorflow.python.eager import context

from keras_darts.strategies import create_search_model
from keras_darts.utils import set_seed
from keras_darts.utils.graph_options import QUICK_REWRITES, quick_graph_optimization

OFF = rewriter_config_pb2.RewriterConfig.OFF


def rewrites():
    """The rewrite options `tf.function` calls in this thread run with now."""
    config = config_pb2.ConfigProto()
    config.ParseFromString(context.context().function_call_options.config_proto_serialized)
    return config.graph_options.rewrite_options


def test_quick_graph_optimization_is_scoped_to_the_block():
    before = rewrites().SerializeToString()
    with quick_graph_optimization():
        inside = rewrites()
        assert inside.layout_optimizer == OFF and inside.loop_optimization == OFF
        assert inside.disable_tfg_optimizer
        assert inside.meta_optimizer_iterations == rewriter_config_pb2.RewriterConfig.ONE
        assert inside.remapping == OFF and set(QUICK_REWRITES) >= {"remapping"}
    assert rewrites().SerializeToString() == before
    with quick_graph_optimization(enabled=False):
        assert rewrites().SerializeToString() == before
    with pytest.raises(RuntimeError):
        with quick_graph_optimization():
            raise RuntimeError("inside")
    assert rewrites().SerializeToString() == before


def assert_all_close(got, want, rtol, atol):
    """The two lists of arrays have the same length and agree element by element."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


class _SeenOptions(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.layout = rewrites().layout_optimizer


def _two_steps(quick=True, shared=None, method="darts", **kwargs):
    """Losses, alphas, weights (all state) after 2 steps of `method` on the full tiny space."""
    set_seed(0)
    model = create_search_model(method, num_classes=10, input_shape=(28, 28, 1), seed=0,
                                **TINY, **kwargs)
    assert model.quick_graph_optimization  # the default
    model.quick_graph_optimization = quick
    if shared is not None:  # else the strategy's default
        model.shares_edge_traces = shared
    model.compile(epochs=1, steps_per_epoch=2)
    rng = np.random.default_rng(0)

    def batches():
        x = rng.normal(size=(16, 28, 28, 1)).astype("float32")
        return tf.data.Dataset.from_tensor_slices((x, rng.integers(0, 10, 16))).batch(8)

    seen = _SeenOptions()
    history = model.fit(tf.data.Dataset.zip((batches(), batches())), epochs=1, verbose=0,
                        callbacks=[seen])
    return (history.history["loss"], [v.numpy() for v in model.arch_variables],
            [v.numpy() for v in model.weights], seen.layout, model)


@pytest.mark.slow
def test_search_steps_are_the_same_with_quick_graph_optimization():
    # Without the remapper's fusions the last bits may differ; nothing more.
    loss_default, alphas_default, weights_default, layout_default, _ = _two_steps(quick=False)
    loss_quick, alphas_quick, weights_quick, layout_quick, _ = _two_steps(quick=True)
    assert layout_quick == OFF and layout_default != OFF  # fit ran inside the block, or not
    np.testing.assert_allclose(loss_quick, loss_default, rtol=1e-6)
    assert_all_close(alphas_quick, alphas_default, rtol=1e-5, atol=1e-7)
    assert_all_close(weights_quick, weights_default, rtol=1e-5, atol=1e-6)
    assert rewrites().layout_optimizer != OFF  # restored after fit


@pytest.mark.slow
@pytest.mark.parametrize("method,kwargs", [("darts", {"order": 2}), ("d-darts", {})])
def test_edges_traced_once_per_signature_compute_what_inline_edges_do(method, kwargs):
    # Second order (virtual step, finite differences) and D-DARTS (per-cell alphas, a pass
    # with each cell removed), the most intricate steps, with shared edges forced on: every
    # weight, BN statistic and alpha after 2 steps is what the edges traced inline give, up
    # to float rounding (gradients summed in another order).
    loss_inline, alphas_inline, state_inline, _, inline = _two_steps(shared=False, method=method,
                                                                    **kwargs)
    loss, alphas, state, _, model = _two_steps(shared=True, method=method, **kwargs)
    assert not any(edge.shared_calls for cell in inline.network.cells for edge in cell.edges)
    # The tiny supernet's 15 edges have 5 signatures: the normal cell's 5 edges (4 channels,
    # 28x28), and in each of the two reduction cells the stride-2 edges from the cell's
    # inputs and the stride-1 edges at the halved size.
    assert len(model.network.shared_calls) == 5
    np.testing.assert_allclose(loss, loss_inline, rtol=1e-5)
    # Adam moves each alpha by up to 3e-4 a step whatever the gradient's size, and second
    # order's finite differences amplify rounding: alphas agree to 1e-5 (3% of one step).
    assert_all_close(alphas, alphas_inline, rtol=1e-4, atol=1e-5)
    assert_all_close(state, state_inline, rtol=1e-4, atol=1e-5)
    # BatchNorm statistics moved: the shared trace assigns them to each edge's own variables.
    moving = [v for v in model.network.cells[0].edges[0].non_trainable_variables
              if "moving_mean" in v.path]
    assert moving and all(np.any(v.numpy() != 0) for v in moving)


@pytest.mark.slow
@pytest.mark.parametrize("method,kwargs", [("darts", {}), ("d-darts", {})])
def test_recomputed_edges_give_the_same_steps(method, kwargs):
    # Recomputing every edge's activations in the backward pass (D-DARTS: its removed-cell
    # passes too) changes what is kept, not what is computed: after 2 steps every alpha,
    # weight and BatchNorm statistic is as without it, up to float rounding. Statistics
    # updated twice (forward and recomputation) would have moved twice as far.
    loss_kept, alphas_kept, state_kept, _, _ = _two_steps(shared=True, method=method, **kwargs)
    loss, alphas, state, _, model = _two_steps(method=method, recompute=True, **kwargs)
    assert model.network.shared_calls.recompute and model.get_config()["recompute"]
    np.testing.assert_allclose(loss, loss_kept, rtol=1e-5)
    assert_all_close(alphas, alphas_kept, rtol=1e-4, atol=1e-5)
    assert_all_close(state, state_kept, rtol=1e-4, atol=1e-5)


def _dense_bn():
    layer = keras.Sequential([keras.layers.Dense(3), keras.layers.BatchNormalization()])
    layer.build((None, 4))
    return layer


def test_shared_calls_trace_once_and_use_each_layers_own_variables():
    from keras_darts.search_space import SharedCalls
    shared = SharedCalls()
    first, second = _dense_bn(), _dense_bn()
    inline = [_dense_bn(), _dense_bn()]
    for copy, layer in zip(inline, (first, second)):
        copy.set_weights(layer.get_weights())
    x = tf.constant(np.random.default_rng(0).normal(size=(5, 4)), tf.float32)

    def compute(layer, inputs):
        return layer(inputs, training=True)

    @tf.function
    def step(inputs):
        return [shared.call(layer, ("dense-bn",), compute, inputs) for layer in (first, second)]

    got = step(x)
    want = [compute(layer, x) for layer in inline]
    assert len(shared) == 1  # one trace for both layers
    assert_all_close(got, want, rtol=1e-6, atol=1e-6)
    # BatchNorm statistics were assigned to each layer's own variables, as inline.
    def statistics(layers):
        return [v.numpy() for layer in layers for v in layer.non_trainable_variables]

    assert_all_close(statistics((first, second)), statistics(inline), rtol=1e-6, atol=1e-6)
    assert not np.allclose(first.non_trainable_variables[0].numpy(), 0.0)


def test_shared_calls_refuse_lost_assignments_and_other_variables():
    from keras_darts.search_space import SharedCalls
    shared = SharedCalls()
    layer = _dense_bn()
    foreign = keras.Variable(0.0)

    def assigns_foreign(layer, inputs):
        foreign.assign(1.0)
        return layer(inputs, training=False)

    with pytest.raises(ValueError, match="not its own"):
        tf.function(lambda x: shared.call(layer, ("foreign",), assigns_foreign, x))(tf.ones((2, 4)))
    assert float(foreign.numpy()) == 0.0
    other = keras.layers.Dense(5)
    other.build((None, 4))
    shared.call(layer, ("dense",), lambda lay, x: lay(x), tf.ones((2, 4)))  # eager: runs inline
    with pytest.raises(ValueError, match="not its variables"):
        @tf.function
        def mismatched(x):
            shared.call(layer, ("sig",), lambda lay, t: lay(t, training=False), x)
            return shared.call(other, ("sig",), lambda lay, t: lay(t), x)
        mismatched(tf.ones((2, 4)))


def test_search_steps_are_traced_without_autograph_unless_a_strategy_asks():
    """Strategies' steps run as written (no AutoGraph conversion); `autograph = True` converts."""
    from keras_darts.strategies import SingleLevelSearch

    def step(self, data):  # a Python `if` on a tensor: needs AutoGraph in a graph
        x, y = data
        loss = keras.ops.mean(self.search_loss(y, self(x, training=True)))
        if loss > 1e9:
            loss = loss * 0.0
        return {"loss": loss}

    plain = type("Plain", (SingleLevelSearch,), {"train_step": step})
    converted = type("Converted", (SingleLevelSearch,), {"train_step": step, "autograph": True})
    x = tf.random.stateless_normal((4, 28, 28, 1), seed=(0, 0))
    y = tf.constant([0, 1, 2, 3])
    settings = dict(TINY, num_classes=10, input_shape=(28, 28, 1), layers=3, channels=2,
                    steps=1, multiplier=1, stem_multiplier=1)
    model = converted(**settings)
    model.compile()
    assert np.isfinite(float(tf.function(model.train_step)((x, y))["loss"]))
    model = plain(**settings)
    model.compile()
    with pytest.raises(TypeError, match="bool"):  # tf.errors.OperatorNotAllowedInGraphError
        tf.function(model.train_step)((x, y))
    # Built-in strategies' steps are AutoGraph artifacts, so `fit`'s tf.function calls them as is.
    assert hasattr(SingleLevelSearch.train_step, "autograph_info__")
    assert not hasattr(converted.train_step, "autograph_info__")
