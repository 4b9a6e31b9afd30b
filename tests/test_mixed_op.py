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
    for i, layer, bn in op._computed:
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
    by_index = {i: (layer, bn) for i, layer, bn in full._computed}
    for i, layer, _ in pruned._computed:
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
