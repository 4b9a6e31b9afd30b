"""SP-DARTS: Bernoulli-mixed temperatures, the p schedule, IES, discretized accuracy."""

import json
import math

import keras
import numpy as np
import pytest

from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.callbacks import AlphaHistory, DiscretizedAccuracy, MixingProbabilitySchedule
from keras_darts.data import search_data
from keras_darts.search import SearchConfig, run_search
from keras_darts.strategies import SparseMixSearch, mixing_probability, sparse_draw

NB201_TINY = dict(num_classes=10, input_shape=(28, 28, 1), space="nb201", cells_per_stage=1,
                  channels=4, seed=0)


def _np(v):
    return keras.ops.convert_to_numpy(v)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_share_of_sparse_iterations_matches_p(p):
    n = 4000
    draws = np.array([bool(sparse_draw(p, seed=3, step=s)) for s in range(n)])
    bound = 4.0 * math.sqrt(p * (1 - p) / n)
    assert abs(draws.mean() - p) <= bound
    again = np.array([bool(sparse_draw(p, seed=3, step=s)) for s in range(50)])
    np.testing.assert_array_equal(again, draws[:50])  # reproducible


def test_p_schedule_equals_eq20_at_every_epoch_and_reaches_p_up_at_the_last():
    epochs, warmup, lo, hi = 6, 1, 0.2, 0.7
    expected = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7]  # p_low + (p_up - p_low)(i + 1 - 1) / 5
    got = [mixing_probability(i, epochs, lo, hi, warmup) for i in range(epochs)]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert mixing_probability(3, 4, 0.0, 1.0, 0) == 1.0


def test_schedule_callback_drives_the_variable_the_traced_step_reads():
    data = search_data("embedded", batch_size=8, max_train=64, seed=0)
    model = SparseMixSearch(t_sp=1e-3, p_low=0.0, p_up=1.0, p_warmup_epochs=1, **NB201_TINY)
    model.compile()
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda e, logs: seen.append(float(_np(model.mix_probability))))
    cbs = model.default_callbacks(3)
    history = model.fit(data.train, epochs=3, steps_per_epoch=2, callbacks=[*cbs, probe],
                        verbose=0)
    np.testing.assert_allclose(seen, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(history.history["mix_p"], [0.0, 0.5, 1.0])
    assert history.history["sparse_share"][0] == 0.0  # p = 0: only t_sm


@pytest.mark.parametrize("p,temperature", [(1.0, "t_sp"), (0.0, "t_sm")])
def test_the_drawn_temperature_is_the_one_the_step_trains_with(p, temperature):
    data = search_data("embedded", batch_size=16, mode="single", max_train=64, seed=0)
    x, y = next(iter(data.train))
    model = SparseMixSearch(t_sp=0.05, level="single", **NB201_TINY)
    model.architecture.alpha_normal.assign(
        np.random.default_rng(1).normal(size=(6, 5)).astype("float32"))
    model.compile()
    model.mix_probability.assign(p)
    t = getattr(model, temperature)
    expected, _, _ = model.compute_search_loss(x, y, temperature=t)
    other, _, _ = model.compute_search_loss(x, y, temperature=model.t_sm if p else model.t_sp)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["sparse_share"] == p
    assert np.isclose(logs["loss"], float(expected), rtol=1e-4)
    assert not np.isclose(logs["loss"], float(other), rtol=1e-4)


def test_ies_equals_the_closed_form():
    model = SparseMixSearch(**NB201_TINY)
    alpha = np.zeros((6, 5), "float32")
    alpha[0] = np.log([1, 2, 3, 4, 10])
    alpha[1] = [50, 0, 0, 0, 0]  # nearly one-hot
    model.architecture.alpha_normal.assign(alpha)
    p0 = np.array([1, 2, 3, 4, 10]) / 20.0
    expected = -(p0 * np.log(p0)).sum() + 0.0 + 4 * math.log(5)
    assert np.isclose(float(_np(model.architecture.ies())), expected, rtol=1e-5)
    # IES uses softmax(A) whatever the temperature in use, and skips masked ops.
    model.architecture.temperature.assign(0.01)
    assert np.isclose(float(_np(model.architecture.ies())), expected, rtol=1e-5)
    # At T = 0.5, the closed form of softmax(A / 0.5); SP-DARTS logs it at t_sp, as the paper.
    q = p0 ** 2 / (p0 ** 2).sum()
    expected_half = -(q * np.log(q)).sum() + 0.0 + 4 * math.log(5)
    assert np.isclose(float(_np(model.architecture.ies(0.5))), expected_half, rtol=1e-5)
    assert model.ies_temperature == model.t_sp


def test_ies_skips_masked_ops():
    from conftest import TINY

    subsets = {"normal": [["skip_connect", "sep_conv_3x3"]] * 5,
               "reduce": [["max_pool_3x3", "sep_conv_3x3", "dil_conv_3x3"]] * 5}
    model = SparseMixSearch(num_classes=10, input_shape=(16, 16, 1), space="s1",
                            op_subsets=subsets, alpha_init_scale=0.0, **TINY)
    assert np.isclose(float(_np(model.architecture.ies())), 5 * math.log(2) + 5 * math.log(3))


def test_tie_breaking_is_deterministic_when_the_sparse_softmax_saturates():
    model = SparseMixSearch(t_sp=1e-3, **NB201_TINY)
    alpha = np.zeros((6, 5), "float32")
    alpha[:, 2] = alpha[:, 3] = 1.0           # exact ties -> the lower index
    alpha[0, 4] = 1.0 + 1e-2                  # saturates at t_sp, still ranked by alpha
    model.architecture.alpha_normal.assign(alpha)
    sparse = model.architecture.weights_by_kind(temperature=model.t_sp)["normal"]
    assert np.allclose(sparse[1, 2], sparse[1, 3])  # tied under the sparse softmax
    first = model.genotype().to_arch_string()
    assert all(model.genotype().to_arch_string() == first for _ in range(3))
    g = NB201Genotype.from_arch_string(first)
    assert g.edge_list()[0][0] == "avg_pool_3x3"
    assert all(op == "nor_conv_1x1" for op, _ in g.edge_list()[1:])


@pytest.mark.parametrize("kwargs,match", [
    (dict(t_sp=0.0), "t_sp must be a positive temperature"),
    (dict(t_sp=-1e-3), "t_sp must be a positive temperature"),
    (dict(t_sp=1e-3, t_sm=1e-4), "t_sm must be a temperature larger than t_sp"),
    (dict(p_up=1.5), "p_up must be a probability in \\[0, 1\\]"),
    (dict(p_low=-0.1), "p_low must be a probability"),
    (dict(p_low=0.8, p_up=0.5), "p_low \\(0.8\\) must not exceed p_up \\(0.5\\)"),
    (dict(level="trilevel"), "level must be 'bilevel' or 'single'"),
    (dict(p_warmup_epochs=-1), "warm-up must be a non-negative integer"),
])
def test_bad_sp_darts_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SparseMixSearch(**kwargs, **NB201_TINY)
    with pytest.raises(ValueError, match=match):
        SearchConfig.from_preset("nb201-small", method="sp-darts", **kwargs).validate()


def test_warmup_longer_than_the_search_is_rejected(tmp_path):
    cfg = SearchConfig.from_preset("nb201-small", method="sp-darts", epochs=2,
                                   p_warmup_epochs=2)
    with pytest.raises(ValueError, match="leaves no epoch of sparse training"):
        run_search(cfg, str(tmp_path / "run"), verbose=0)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="leaves no epoch"):
        MixingProbabilitySchedule(0.0, 1.0, 3, 3)


def test_discretized_accuracy_evaluates_the_one_hot_architecture():
    data = search_data("embedded", batch_size=16, max_train=64, seed=0, eval_batch_size=100)
    model = SparseMixSearch(**NB201_TINY)
    model.compile()
    model.fit(data.train, epochs=1, steps_per_epoch=2, verbose=0)
    cb = DiscretizedAccuracy(data.validation, max_batches=2)
    cb.set_model(model)
    logs = {}
    cb.on_epoch_end(0, logs)
    g = model.genotype()
    w = model.network.discrete_weights(g)["normal"]
    correct = total = 0
    for x, y in data.validation.take(2):
        logits = model.network(x, [w] * 3, training=False)
        correct += int((np.argmax(_np(logits), -1) == _np(y)).sum())
        total += len(_np(y))
    assert logs["discrete_accuracy"] == pytest.approx(correct / total)
    assert cb.history[0]["genotype"] == g.to_arch_string()
    with pytest.raises(ValueError, match="max_batches"):
        DiscretizedAccuracy(data.validation, max_batches=0)


def test_alpha_history_logs_ies_every_epoch(tmp_path):
    data = search_data("embedded", batch_size=8, max_train=32, seed=0)
    model = SparseMixSearch(**NB201_TINY)
    model.compile()
    hist = AlphaHistory(str(tmp_path / "alphas.json"))
    out = model.fit(data.train, epochs=2, steps_per_epoch=2, callbacks=[hist], verbose=0)
    assert len(out.history["ies"]) == 2
    saved = json.loads((tmp_path / "alphas.json").read_text())["history"]
    # Logged at t_sp: the entropy of softmax(A / t_sp) of the recorded alphas (the initial
    # 1e-3-scale alphas are far from uniform at t_sp = 1e-3, near uniform at temperature 1).
    for entry in saved:
        a = np.asarray(entry["alphas"]["normal"], np.float64) / model.t_sp
        w = np.exp(a - a.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)
        assert np.isclose(entry["ies"], -(w * np.log(w)).sum(), rtol=1e-4)
    assert saved[0]["ies"] < 0.95 * 6 * math.log(5)
    assert [e["ies"] for e in saved[1:]] == pytest.approx(out.history["ies"])


@pytest.mark.slow
@pytest.mark.parametrize("level", ["bilevel", "single"])
def test_short_nb201_search_moves_alphas_and_gives_a_valid_arch_string(tmp_path, level):
    cfg = SearchConfig.from_preset("nb201-small", method="sp-darts", level=level, epochs=3,
                                   channels=4, batch_size=16, max_train=128, t_sp=1e-2,
                                   p_warmup_epochs=1, arch_learning_rate=0.05)
    result = run_search(cfg, str(tmp_path), verbose=0)
    assert np.abs(_np(result.model.arch_variables[0])).max() > 1e-2
    saved = json.loads((tmp_path / "genotype.json").read_text())
    assert NB201Genotype.from_arch_string(saved["genotype"]["arch"]) == result.genotype
    assert result.history["mix_p"] == pytest.approx([0.0, 0.5, 1.0])
    assert len(result.history["ies"]) == 3 and len(result.history["discrete_accuracy"]) == 3
    assert (tmp_path / "cell.png").exists()
    with open(tmp_path / "history.csv") as f:
        header = f.readline()
    assert "ies" in header and "discrete_accuracy" in header
