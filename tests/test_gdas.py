"""GDAS: Gumbel-softmax draws of one path per edge, hard forward, straight-through gradients."""

import json
import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import SEARCH, TINY
from keras_darts.cli import main
from keras_darts.search import SearchConfig, run_search
from keras_darts.strategies import create_search_model
from keras_darts.strategies.gdas import GdasSearch, gumbel_temperature, hard_gumbel_softmax

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "recipes"))
import gdas as gdas_recipe  # noqa: E402


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_draws_follow_the_softmax_are_one_hot_and_pass_the_softmax_gradient():
    alpha = tf.Variable(np.tile([[2.0, 0.0, -1.0, 0.5]], (4000, 1)).astype("float32"))
    index, weights = hard_gumbel_softmax(alpha, 1.0, tf.constant([7, 0], tf.int64))
    np.testing.assert_array_equal(_np(weights), np.eye(4)[_np(index)])  # hard forward
    # Gumbel-max: each row draws op i with probability softmax(alpha)_i, at any temperature.
    counts = np.bincount(_np(index), minlength=4) / 4000
    np.testing.assert_allclose(counts, _np(tf.nn.softmax(alpha[0])), atol=0.03)
    again, _ = hard_gumbel_softmax(alpha, 0.1, tf.constant([7, 0], tf.int64))
    np.testing.assert_array_equal(_np(again), _np(index))  # the same seed, the same draw
    other, _ = hard_gumbel_softmax(alpha, 1.0, tf.constant([7, 1], tf.int64))
    assert (_np(other) != _np(index)).mean() > 0.1
    # Straight-through: the gradient is the Gumbel-softmax probabilities'.
    c = tf.constant(np.random.default_rng(0).normal(size=(4000, 4)).astype("float32"))
    seed = tf.constant([3, 3], tf.int64)
    with tf.GradientTape(persistent=True) as tape:
        _, w = hard_gumbel_softmax(alpha, 0.5, seed)
        u = tf.random.stateless_uniform(alpha.shape, seed=seed, minval=1e-10, maxval=1.0)
        probs = tf.nn.softmax((tf.nn.log_softmax(alpha) - tf.math.log(-tf.math.log(u))) / 0.5)
        hard_loss, soft_loss = tf.reduce_sum(w * c), tf.reduce_sum(probs * c)
    np.testing.assert_allclose(_np(tape.gradient(hard_loss, alpha)),
                               _np(tape.gradient(soft_loss, alpha)), rtol=1e-5, atol=1e-6)
    # Masked ops are never drawn.
    mask = np.array([[False, True, True, False]] * 4000)
    masked, _ = hard_gumbel_softmax(alpha, 1.0, tf.constant([1, 2], tf.int64), mask)
    assert set(np.unique(_np(masked))) == {1, 2}


def test_temperature_anneals_linearly_from_tau_max_to_tau_min():
    assert [gumbel_temperature(e, 5, 10.0, 0.1) for e in (0, 4, 9)] == pytest.approx(
        [10.0, 0.1, 0.1])
    assert gumbel_temperature(2, 5, 10.0, 0.1) == pytest.approx(5.05)
    assert gumbel_temperature(0, 1, 10.0, 0.1) == 10.0


def test_a_step_runs_only_the_sampled_path():
    """The training loss is the sampled single path's: the supernet with its int op indices
    gives the same logits."""
    model = create_search_model("gdas", num_classes=10, input_shape=(8, 8, 1), seed=0, **TINY)
    model.compile()
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")
    path = model.sampled_path(0)
    kinds = model.network.cell_types
    assert len(path) == len(kinds)
    for kind in set(kinds):  # the cells of a kind share one draw
        shared = [p for p, k in zip(path, kinds) if k == kind]
        assert all(p is shared[0] for p in shared)
    sampled = model.run_network(x, path, training=False)
    single = model.run_network(x, [index for index, _ in path], training=False)
    np.testing.assert_allclose(_np(sampled), _np(single), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"tau_min \(2.0\) must not exceed tau_max \(1.0\)"):
        GdasSearch(num_classes=10, input_shape=(8, 8, 1), tau_max=1.0, tau_min=2.0, **TINY)


@pytest.fixture(scope="module")
def gdas_run(tmp_path_factory):
    cfg = SearchConfig.from_preset("small", method="gdas", **SEARCH)
    out = tmp_path_factory.mktemp("gdas") / "run"
    return cfg, out, run_search(cfg, str(out), verbose=0)


def test_search_moves_the_alphas_anneals_tau_and_derives_a_genotype(gdas_run):
    cfg, out, result = gdas_run
    history = result.history
    assert [round(t, 2) for t in history["tau"]] == [10.0, 5.05, 0.1]
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(history["arch_loss"]))
    alphas = json.loads((out / "alpha_history.json").read_text())["history"]
    first, last = (np.array(alphas[i]["alphas"]["normal"]) for i in (0, -1))
    assert np.abs(last - first).max() > 1e-3
    saved = json.loads((out / "genotype.json").read_text())
    assert saved["method"] == "gdas" and saved["tau_max"] == 10.0
    assert result.genotype.to_text() == result.summary["genotype"]
    config = json.loads((out / "config.json").read_text())
    assert config["tau_min"] == 0.1 and "t_sp" not in config


def test_same_seed_same_search(gdas_run, tmp_path):
    """The draws are a function of the seed and the step: a second run ends identically."""
    cfg, out, result = gdas_run
    again = run_search(cfg, str(tmp_path / "again"), verbose=0)
    assert again.genotype.to_text() == result.genotype.to_text()
    for a, b in zip(again.model.arch_variables, result.model.arch_variables):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_nb201_space_and_command_line(tmp_path, capsys):
    out = tmp_path / "nb201"
    assert main(["search", "--preset", "nb201-small", "--method", "gdas", "--epochs", "1",
                 "--channels", "4", "--batch-size", "16", "--max-train", "64",
                 "--tau-max", "5", "--verbose", "0", "--out", str(out)]) == 0
    assert "|" in json.loads((out / "genotype.json").read_text())["genotype"]["arch"]
    assert json.loads((out / "config.json").read_text())["tau_max"] == 5.0
    assert main(["search", "--method", "gdas", "--tau-min", "20", "--out",
                 str(tmp_path / "bad")]) == 2
    assert "tau_min (20.0) must not exceed tau_max (10.0)" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_recipe_settings():
    nb = gdas_recipe.config_for("nb201").validate()
    assert (nb.method, nb.space, nb.tau_max, nb.tau_min, nb.batch_size, nb.epochs,
            nb.weight_decay, nb.arch_learning_rate, nb.arch_weight_decay) == (
        "gdas", "nb201", 10.0, 0.1, 64, 50, 5e-4, 3e-4, 1e-3)
    darts = gdas_recipe.config_for("darts", small=True, tau_min=0.5).validate()
    assert (darts.space, darts.dataset, darts.tau_min) == ("darts", "fashion_mnist_subset", 0.5)
    with pytest.raises(ValueError, match="tau_max must be a positive temperature"):
        gdas_recipe.config_for("nb201", tau_max=-1.0).validate()
