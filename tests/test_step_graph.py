"""The step graph built for a short first step: Grappler without its idle passes (same numbers,
options scoped to fit), edges traced once per signature (same numbers up to rounding)."""

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
        # The remapper is left on: it changes the last bits of a loss.
        assert "remapping" not in QUICK_REWRITES and inside.remapping != OFF
    assert rewrites().SerializeToString() == before
    with quick_graph_optimization(enabled=False):
        assert rewrites().SerializeToString() == before
    with pytest.raises(RuntimeError):
        with quick_graph_optimization():
            raise RuntimeError("inside")
    assert rewrites().SerializeToString() == before


class _SeenOptions(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.layout = rewrites().layout_optimizer


def _two_steps(quick=True, shared=True, method="darts", **kwargs):
    """Losses, alphas, weights (all state) after 2 steps of `method` on the full tiny space."""
    set_seed(0)
    model = create_search_model(method, num_classes=10, input_shape=(28, 28, 1), seed=0,
                                **TINY, **kwargs)
    assert model.quick_graph_optimization  # the default
    model.quick_graph_optimization = quick
    if not shared:
        for cell in model.network.cells:
            for edge in cell.edges:
                edge.shared_calls = None
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
def test_search_steps_are_bit_identical_with_quick_graph_optimization():
    loss_default, alphas_default, weights_default, layout_default, _ = _two_steps(quick=False)
    loss_quick, alphas_quick, weights_quick, layout_quick, _ = _two_steps(quick=True)
    assert layout_quick == OFF and layout_default != OFF  # fit ran inside the block, or not
    assert loss_quick == loss_default
    assert all(np.array_equal(a, b) for a, b in zip(alphas_quick, alphas_default))
    assert len(weights_quick) == len(weights_default)
    assert all(np.array_equal(a, b) for a, b in zip(weights_quick, weights_default))
    assert rewrites().layout_optimizer != OFF  # restored after fit


@pytest.mark.slow
@pytest.mark.parametrize("method,kwargs", [("darts", {"order": 2}), ("d-darts", {})])
def test_edges_traced_once_per_signature_compute_what_inline_edges_do(method, kwargs):
    # Second order (virtual step, finite differences) and D-DARTS (per-cell alphas, a pass
    # with each cell removed): every weight, BN statistic and alpha after 2 steps is what
    # the edges traced inline give, up to float rounding (gradients summed in another order).
    loss_inline, alphas_inline, state_inline, _, inline = _two_steps(shared=False, method=method,
                                                                    **kwargs)
    loss, alphas, state, _, model = _two_steps(method=method, **kwargs)
    assert len(inline.network.shared_calls) == 0
    # The tiny supernet's 15 edges have 5 signatures: the normal cell's 5 edges (4 channels,
    # 28x28), and in each of the two reduction cells the stride-2 edges from the cell's
    # inputs and the stride-1 edges at the halved size.
    assert len(model.network.shared_calls) == 5
    np.testing.assert_allclose(loss, loss_inline, rtol=1e-5)
    for a, b in zip(alphas, alphas_inline):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert len(state) == len(state_inline)
    for a, b in zip(state, state_inline):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # BatchNorm statistics moved: the shared trace assigns them to each edge's own variables.
    moving = [v for v in model.network.cells[0].edges[0].non_trainable_variables
              if "moving_mean" in v.path]
    assert moving and all(np.any(v.numpy() != 0) for v in moving)
