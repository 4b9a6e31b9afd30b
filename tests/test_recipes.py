"""The recipes encode their papers' settings and give valid configs."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "recipes"))

import d_darts  # noqa: E402
import darts_pd  # noqa: E402
import single_darts  # noqa: E402
import sp_darts  # noqa: E402


def test_sp_darts_tables_ii_and_iv():
    c10 = sp_darts.config_for("nb201", "cifar10").validate()
    c100 = sp_darts.config_for("nb201", "cifar100").validate()
    assert (c10.t_sp, c10.p_up, c100.t_sp, c100.p_up) == (1.1e-3, 1.0, 1.3e-3, 0.9)
    for c in (c10, c100):
        assert (c.arch_weight_decay, c.learning_rate, c.min_learning_rate, c.p_low,
                c.p_warmup_epochs, c.batch_size, c.t_sm) == (0.0, 0.05, 0.05, 0.0, 1, 256, None)
    darts = sp_darts.config_for("darts7").validate()
    assert (darts.space, darts.t_sp, darts.batch_size, darts.p_up) == ("darts7", 1e-3, 80, 1.0)
    assert sp_darts.config_for("s3", t_sp=5e-4).t_sp == 5e-4


def test_single_darts_settings():
    nb = single_darts.config_for("nb201").validate()
    assert (nb.method, nb.activation, nb.batches, nb.batch_size, nb.epochs, nb.learning_rate,
            nb.weight_decay, nb.arch_learning_rate, nb.arch_weight_decay) == (
        "single-darts", "sigmoid", "same", 64, 50, 0.005, 3e-4, 3e-4, 0.0)
    assert single_darts.config_for("darts", activation="softmax").activation == "softmax"
    net = single_darts.config_for("darts", imagenet=True).validate()
    assert (net.dataset, net.stem, net.image_size, net.batch_size, net.learning_rate,
            net.arch_learning_rate, net.arch_weight_decay, net.warmup_epochs,
            net.train_subset, net.activation) == (
        "imagenet2012", "imagenet", 224, 360, 0.025, 3e-4, 0.0, 0, None, "sigmoid")
    for bad in (dict(space="nb201"), dict(space="darts", small=True)):
        with pytest.raises(ValueError, match="ImageNet search"):
            single_darts.config_for(imagenet=True, **bad)


def test_d_darts_settings_and_small_variant():
    c = d_darts.config_for().validate()
    assert (c.layers, c.batch_size, c.w01, c.w_abl, c.threshold, c.ablation_gradient) == (
        8, 72, 8.0, 0.5, 0.8, True)
    small = d_darts.config_for(True, parser="edge").validate()
    assert small.dataset == "fashion_mnist_subset" and small.parser == "edge"


@pytest.mark.parametrize("module", [single_darts, sp_darts, d_darts])
def test_recipes_reject_bad_values(module):
    with pytest.raises(ValueError):
        if module is d_darts:
            module.config_for(threshold=2.0).validate()
        elif module is sp_darts:
            module.config_for("nb201", t_sp=-1.0).validate()
        else:
            module.config_for("nb201", batches="three").validate()


def test_darts_pd_settings_and_small_variant():
    c = darts_pd.config_for().validate()
    assert (c.method, c.base_method, c.partial_channels, c.edge_normalization, c.top_k,
            c.batch_size, c.learning_rate, c.arch_learning_rate, c.warmup_epochs) == (
        "darts-pd", "darts", 4, True, 2, 256, 0.1, 6e-4, 15)
    assert (c.pd_epochs, c.pd_learning_rate, c.pd_cutout, c.es_population, c.es_tournament,
            c.es_mutation_prob, c.es_trials, c.eval_layers, c.eval_channels) == (
        600, 0.0025, 16, 50, 10, 0.1, 1000, 20, 36)
    small = darts_pd.config_for(True, top_k=3).validate()
    assert (small.dataset, small.partial_channels, small.top_k, small.channels) == (
        "fashion_mnist_subset", 2, 3, 8)
    with pytest.raises(ValueError, match="top_k"):
        darts_pd.config_for(True, top_k=0).validate()
    net = darts_pd.config_for(imagenet=True, es_trials=500).validate()
    assert (net.stem, net.partial_channels, net.batch_size, net.learning_rate,
            net.arch_learning_rate, net.warmup_epochs, net.train_subset, net.order) == (
        "imagenet", 2, 1024, 0.5, 6e-3, 35, 0.125, 1)
    assert (net.pd_epochs, net.pd_learning_rate, net.eval_layers, net.es_population,
            net.es_trials) == (250, 0.045, 14, 50, 500)
    with pytest.raises(ValueError, match="no small"):
        darts_pd.config_for(True, imagenet=True)
