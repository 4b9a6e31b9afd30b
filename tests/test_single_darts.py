"""Single-DARTS: sigmoid architecture activation, same-batch updates, the paper's ablations."""

import json

import keras
import numpy as np
import pytest

from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.data import search_data
from keras_darts.optimizers import CoupledAdam
from keras_darts.search import SearchConfig, run_search
from keras_darts.strategies import SingleDartsSearch

from conftest import TINY

NB201_TINY = dict(num_classes=10, input_shape=(28, 28, 1), space="nb201", cells_per_stage=1,
                  channels=4, seed=0)


def _np(v):
    return keras.ops.convert_to_numpy(v)


@pytest.mark.parametrize("space,k", [("darts", 8), ("nb201", 5), ("s3", 3)])
def test_sigmoid_starts_at_the_uniform_share(space, k):
    kwargs = dict(NB201_TINY, space=space) if space == "nb201" else dict(
        num_classes=10, input_shape=(16, 16, 1), space=space, seed=0, **TINY)
    model = SingleDartsSearch(alpha_init_scale=0.0, **kwargs)
    for alpha in model.arch_variables:
        np.testing.assert_allclose(_np(alpha), -np.log(k - 1), rtol=1e-6)
    for w in model.mixing_weights().values():
        np.testing.assert_allclose(w, 1.0 / k, rtol=1e-5)
    if k == 8:
        np.testing.assert_allclose(_np(model.arch_variables[0]), -np.log(7.0), rtol=1e-6)


def test_uniform_init_follows_each_edges_op_count():
    subsets = {"normal": [["skip_connect", "sep_conv_3x3"], ["skip_connect", "sep_conv_3x3",
                                                              "max_pool_3x3", "dil_conv_3x3"],
                          *[["skip_connect", "sep_conv_3x3"]] * 3],
               "reduce": [["max_pool_3x3"]] * 5}
    model = SingleDartsSearch(num_classes=10, input_shape=(16, 16, 1), space="s1",
                              op_subsets=subsets, alpha_init_scale=0.0, seed=0, **TINY)
    w = model.mixing_weights()
    assert np.allclose(w["normal"][0].sum(), 1.0) and np.isclose(w["normal"][0].max(), 0.5)
    np.testing.assert_allclose(sorted(w["normal"][1])[-4:], [0.25] * 4, rtol=1e-5)
    np.testing.assert_allclose(w["reduce"].max(axis=1), 0.5)  # a single-op edge: alpha 0


def test_sigmoid_mixing_weights_are_not_normalised():
    model = SingleDartsSearch(**NB201_TINY)
    alpha = np.linspace(-2.0, 3.0, 30).reshape(6, 5).astype("float32")
    model.architecture.alpha_normal.assign(alpha)
    w = model.mixing_weights()["normal"]
    np.testing.assert_allclose(w, 1.0 / (1.0 + np.exp(-alpha)), rtol=1e-5)
    assert not np.allclose(w.sum(axis=1), 1.0)
    # The softmax variant normalises.
    soft = SingleDartsSearch(activation="softmax", **NB201_TINY)
    np.testing.assert_allclose(soft.mixing_weights()["normal"].sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(_np(soft.arch_variables[0]), 0.0, atol=0.01)


def test_default_arch_optimizer_is_the_papers_adam():
    model = SingleDartsSearch(**NB201_TINY)
    model.compile()
    opt = model.arch_optimizer
    assert isinstance(opt, CoupledAdam)
    assert np.isclose(float(_np(opt.learning_rate)), 3e-4)
    assert opt.beta_1 == 0.5 and opt.beta_2 == 0.999 and opt.coupled_weight_decay == 0.0


def test_same_batch_step_equals_one_joint_gradient_on_that_batch():
    """With plain SGD the update is exactly -lr times the gradient of one loss on one batch."""
    import tensorflow as tf

    data = search_data("embedded", batch_size=16, mode="single", max_train=64, seed=0)
    x, y = next(iter(data.train))
    model = SingleDartsSearch(grad_clip=None, **NB201_TINY)
    model.compile(optimizer=keras.optimizers.SGD(0.1), arch_optimizer=keras.optimizers.SGD(0.2))

    @tf.function  # traced like the train step (eager kernels may break max-pool ties otherwise)
    def gradients():
        with tf.GradientTape() as tape:
            _, loss, _ = model.compute_search_loss(x, y)
        return tape.gradient(loss, model.arch_variables + model.weight_variables)

    a0 = _np(model.arch_variables[0])
    w0 = [_np(v) for v in model.weight_variables]
    ga, *gw = gradients()
    model.train_on_batch(x, y)
    np.testing.assert_allclose(_np(model.arch_variables[0]), a0 - 0.2 * _np(ga), atol=1e-5)
    k = next(i for i, v in enumerate(model.weight_variables) if "kernel" in v.path)
    np.testing.assert_allclose(_np(model.weight_variables[k]), w0[k] - 0.1 * _np(gw[k]),
                               atol=1e-5)


def test_different_batches_ablation_needs_paired_batches():
    model = SingleDartsSearch(batches="different", **NB201_TINY)
    assert model.data_mode == "paired"
    model.compile()
    paired = search_data("embedded", batch_size=8, mode="paired", max_train=32, seed=0)
    (x1, _), (x2, _) = next(iter(paired.train))
    assert not np.array_equal(_np(x1), _np(x2))
    a0 = _np(model.arch_variables[0])
    model.fit(paired.train, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.abs(_np(model.arch_variables[0]) - a0).max() > 0
    single = search_data("embedded", batch_size=8, mode="single", max_train=32, seed=0)
    with pytest.raises(ValueError, match="mode='paired'"):
        model.fit(single.train, epochs=1, steps_per_epoch=1, verbose=0)


def test_bad_batches_option():
    with pytest.raises(ValueError, match="batches must be 'same' or 'different'"):
        SingleDartsSearch(batches="both", **NB201_TINY)
    with pytest.raises(ValueError, match="batches must be 'same' or 'different'"):
        SearchConfig.from_preset("nb201-small", method="single-darts", batches="x").validate()


@pytest.mark.slow
def test_short_nb201_search_moves_alphas_and_gives_a_valid_arch_string(tmp_path):
    cfg = SearchConfig.from_preset("nb201-small", method="single-darts", epochs=2,
                                   channels=4, batch_size=16, max_train=128,
                                   arch_learning_rate=0.05)
    result = run_search(cfg, str(tmp_path), verbose=0)
    alpha = _np(result.model.arch_variables[0])
    assert np.abs(alpha - (-np.log(4.0))).max() > 1e-2
    saved = json.loads((tmp_path / "genotype.json").read_text())
    g = NB201Genotype.from_arch_string(saved["genotype"]["arch"])
    assert g == result.genotype
    assert (tmp_path / "cell.dot").exists() and (tmp_path / "cell.png").exists()
    assert "ies" in result.history and "discrete_accuracy" in result.history
