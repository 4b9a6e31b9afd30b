import math

import keras
import numpy as np
import pytest

from keras_darts.optimizers import CoupledAdam, CoupledSGD, EpochCosineDecay, search_optimizers


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_coupled_sgd_is_pytorch_sgd_with_l2():
    w0 = np.array([1.0, -2.0], "float32")
    v = keras.Variable(w0)
    opt = CoupledSGD(0.1, momentum=0.9, coupled_weight_decay=0.01)
    opt.build([v])
    grads = [np.array([0.5, 0.25], "float32"), np.array([-1.0, 2.0], "float32")]
    w, b = w0.astype("float64"), np.zeros(2)
    for g in grads:
        opt.apply([g], [v])
        d = g + 0.01 * w
        b = 0.9 * b + d
        w = w - 0.1 * b
    np.testing.assert_allclose(_np(v), w, rtol=1e-6)
    np.testing.assert_allclose(_np(opt.buffer(v)), b, rtol=1e-6)


def test_coupled_adam_adds_decay_to_the_gradient():
    v1, v2 = keras.Variable([1.0, 2.0]), keras.Variable([1.0, 2.0])
    a = CoupledAdam(0.1, coupled_weight_decay=0.5, beta_1=0.5)
    b = keras.optimizers.Adam(0.1, beta_1=0.5)
    a.build([v1])
    b.build([v2])
    g = np.array([0.1, -0.3], "float32")
    a.apply([g], [v1])
    b.apply([g + 0.5 * np.array([1.0, 2.0], "float32")], [v2])
    np.testing.assert_allclose(_np(v1), _np(v2), rtol=1e-6)


def test_epoch_cosine_steps_once_per_epoch():
    lr = EpochCosineDecay(0.025, epochs=4, steps_per_epoch=10, min_learning_rate=0.001)
    for step in (0, 9):
        assert float(lr(step)) == pytest.approx(0.025)
    expected = 0.001 + 0.024 * 0.5 * (1 + math.cos(math.pi * 1 / 4))
    assert float(lr(10)) == pytest.approx(expected, rel=1e-6)
    assert float(lr(40)) == pytest.approx(0.001, rel=1e-6)
    assert float(lr(1000)) == pytest.approx(0.001, rel=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    ({"learning_rate": -0.1}, "learning_rate must be >= 0"),
    ({"arch_learning_rate": -1e-3}, "arch_learning_rate must be >= 0"),
    ({"weight_decay": -1.0}, "weight_decay must be >= 0"),
])
def test_negative_rates_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        search_optimizers(epochs=2, steps_per_epoch=3, **kwargs)


def test_bad_momentum_and_schedule_length():
    with pytest.raises(ValueError, match="momentum"):
        CoupledSGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        EpochCosineDecay(0.1, epochs=0, steps_per_epoch=1)


def test_adjustable_cosine_changes_length_inside_a_traced_step():
    import tensorflow as tf

    fixed = EpochCosineDecay(0.1, epochs=8, steps_per_epoch=10)
    lr = EpochCosineDecay(0.1, epochs=100, steps_per_epoch=10, adjustable=True)
    traced = tf.function(lambda step: lr(step))
    assert float(traced(5)) == float(fixed(5)) == pytest.approx(0.1)  # epoch 0: any length
    lr.set_epochs(8)  # decided after the trace, as a time budget does
    for step in (10, 35, 79, 80, 200):
        assert float(traced(step)) == float(fixed(step))
    assert lr.get_config()["epochs"] == 8
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        lr.set_epochs(0)
    with pytest.raises(ValueError, match="length is fixed"):
        fixed.set_epochs(4)
