import math

import keras
import numpy as np
import pytest

from keras_darts.architecture import ArchitectureParameters, get_activation
from keras_darts.search_space import DARTS_PRIMITIVES
from keras_darts.strategies import BilevelSearch


def _np(t):
    return keras.ops.convert_to_numpy(t)


def _arch(**kw):
    arch = ArchitectureParameters(14, DARTS_PRIMITIVES, ["normal", "normal", "reduce"], **kw)
    arch.build()
    return arch


def test_two_named_alphas_initialised_like_the_reference():
    arch = _arch(seed=0)
    names = [v.name for v in arch.trainable_variables]
    assert names == ["alpha_normal", "alpha_reduce"]
    a = np.concatenate([_np(v).ravel() for v in arch.trainable_variables])
    assert a.shape == (2 * 14 * 8,)
    assert 5e-4 < a.std() < 2e-3 and abs(a.mean()) < 3e-4  # 1e-3 * N(0, 1)
    # Cells of a kind share one variable.
    cells = arch.cell_alphas()
    assert cells[0] is cells[1] is arch.alpha_normal and cells[2] is arch.alpha_reduce


def test_alphas_are_kept_apart_from_network_weights(tiny):
    model = BilevelSearch(num_classes=3, input_shape=(8, 8, 1), **tiny)
    w_ids = {id(v) for v in model.weight_variables}
    a_ids = {id(v) for v in model.arch_variables}
    assert not w_ids & a_ids
    assert len(model.arch_variables) == 2
    assert len(w_ids | a_ids) == len(model.trainable_variables)


def test_softmax_with_temperature_and_sigmoid_unnormalised():
    alpha = keras.ops.array([[1.0, 2.0, 3.0]])
    soft = _np(get_activation("softmax")(alpha, 0.5))
    e = np.exp(np.array([1.0, 2.0, 3.0]) / 0.5)
    np.testing.assert_allclose(soft[0], e / e.sum(), rtol=1e-6)
    sig = _np(get_activation("sigmoid")(alpha, 1.0))
    np.testing.assert_allclose(sig[0], 1 / (1 + np.exp(-np.array([1.0, 2.0, 3.0]))), rtol=1e-6)
    assert sig.sum() > 1.5  # not normalised


def test_masks_zero_out_ops_for_both_activations():
    active = [[0, 4]] + [[1, 2, 3]] * 13
    for activation in ("softmax", "sigmoid"):
        arch = _arch(activation=activation, normal_active=active)
        w = arch.weights_by_kind()["normal"]
        assert (w[0, [1, 2, 3, 5, 6, 7]] == 0).all() and (w[0, [0, 4]] > 0).all()
        if activation == "softmax":
            np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)


def test_per_cell_alphas_one_variable_per_cell():
    arch = _arch(per_cell=True)
    assert [v.name for v in arch.trainable_variables] == [f"alpha_cell_{i}" for i in range(3)]
    assert len(arch.mixing_weights()) == 3


def test_temperature_variable_is_read_by_mixing_weights():
    arch = _arch(seed=1, init_scale=1.0)
    w1 = arch.weights_by_kind()["normal"]
    arch.temperature.assign(0.01)
    w2 = arch.weights_by_kind()["normal"]
    assert w2.max(axis=1).mean() > w1.max(axis=1).mean()


def test_entropy_is_ln_num_ops_for_uniform_and_zero_for_one_hot():
    arch = _arch(init_scale=0.0)
    assert float(arch.entropy()) == pytest.approx(math.log(8), rel=1e-5)
    one_hot = np.zeros((14, 8), "float32")
    one_hot[np.arange(14), np.arange(14) % 8] = 1e3
    arch.alpha_normal.assign(one_hot)
    arch.alpha_reduce.assign(one_hot)
    assert float(arch.entropy()) == pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize("kwargs,match", [
    ({"activation": "relu6"}, "Unknown activation"),
    ({"temperature": 0.0}, "temperature must be positive"),
    ({"init_scale": -1.0}, "init_scale"),
    ({"normal_active": [[0]] * 3}, "each of the 14 edges"),
])
def test_bad_architecture_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ArchitectureParameters(14, DARTS_PRIMITIVES, ["normal", "reduce"], **kwargs)
