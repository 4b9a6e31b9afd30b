import keras
import numpy as np
import pytest

from keras_darts.search_space.mixed_op import MixedOp
from keras_darts.search_space.ops import DARTS_PRIMITIVES

rng = np.random.default_rng(1)


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_weighted_sum_of_ops_and_none_is_not_computed():
    op = MixedOp(DARTS_PRIMITIVES, channels=4)
    assert len(op.candidate_ops) == len(DARTS_PRIMITIVES) - 1  # `none` has no layer
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    w = rng.random(len(DARTS_PRIMITIVES)).astype("float32")
    y = _np(op(x, w, training=False))
    expected = np.zeros_like(y)
    for i, layer, bn in op.computed_layers:
        out = layer(x, training=False)
        if bn is not None:
            out = bn(out, training=False)
        expected += w[i] * _np(out)
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_masked_ops_are_neither_built_nor_computed_and_match_full_with_zero_weights():
    full = MixedOp(DARTS_PRIMITIVES, channels=4)
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    w = rng.random(len(DARTS_PRIMITIVES)).astype("float32")
    full(x, w, training=False)
    active = [3, 4]  # skip_connect, sep_conv_3x3
    pruned = MixedOp(DARTS_PRIMITIVES, channels=4, active=active)
    pruned(x, w, training=False)
    assert len(pruned.candidate_ops) == 2
    by_index = {i: (layer, bn) for i, layer, bn in full.computed_layers}
    for i, layer, _ in pruned.computed_layers:
        layer.set_weights(by_index[i][0].get_weights())
    w_masked = np.where(np.isin(np.arange(len(w)), active), w, 0).astype("float32")
    np.testing.assert_allclose(_np(pruned(x, w, training=False)),
                               _np(full(x, w_masked, training=False)), atol=1e-6)


def test_only_none_active_gives_zeros_of_output_shape():
    op = MixedOp(DARTS_PRIMITIVES, channels=4, stride=2, active=[0])
    y = op(np.ones((1, 6, 6, 4), "float32"), np.ones(8, "float32"))
    assert tuple(y.shape) == (1, 3, 3, 4) and not _np(y).any()


@pytest.mark.parametrize("active,match", [([], "at least one"), ([1, 1], "duplicate"),
                                          ([9], "out of range")])
def test_bad_active_lists(active, match):
    with pytest.raises(ValueError, match=match):
        MixedOp(DARTS_PRIMITIVES, channels=4, active=active)


@pytest.mark.parametrize("partial_channels", [1, 2])
def test_a_sampled_path_computes_its_op_and_passes_gradient_to_every_weight(partial_channels):
    """`(indices, weights)`: each edge's chosen op scaled by its weight, the others as
    constants; with straight-through one-hot weights the value is the single path's and
    every weight gets a gradient (GDAS's hard Gumbel-softmax)."""
    import tensorflow as tf

    from keras_darts.search_space.mixed_op import edge_output

    op = MixedOp(DARTS_PRIMITIVES, channels=4, partial_channels=partial_channels)
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    logits = tf.Variable(rng.normal(size=(1, len(DARTS_PRIMITIVES))).astype("float32"))
    for choice in (0, 4, 6):  # `none` (not computed), a conv, another conv
        index = tf.constant([choice], tf.int32)
        with tf.GradientTape() as tape:
            soft = tf.nn.softmax(logits)
            hard = tf.one_hot(index, len(DARTS_PRIMITIVES)) - tf.stop_gradient(soft) + soft
            y = edge_output(op, x, (index, hard), 0, training=False)
            loss = tf.reduce_sum(y * x[..., :1])
        single = edge_output(op, x, index, 0, training=False)
        np.testing.assert_allclose(_np(y), _np(single), atol=1e-6)
        np.testing.assert_allclose(_np(y), _np(op(x, _np(tf.one_hot(choice, 8)), training=False)),
                                   atol=1e-6)
        grad = _np(tape.gradient(loss, logits))
        assert np.all(grad != 0)
        if partial_channels > 1:  # the constants enter the op's channels only: checked above
            continue
        # d loss / d weight_j: the op's output for the chosen op, sum(dL/dy) for the others.
        w = _np(soft)[0]
        g_out = np.broadcast_to(_np(x)[..., :1], y.shape)
        dw = np.full(len(DARTS_PRIMITIVES), g_out.sum())
        dw[choice] = float(np.sum(_np(single) * g_out))
        np.testing.assert_allclose(grad[0], w * (dw - np.dot(w, dw)), rtol=1e-4, atol=1e-5)
