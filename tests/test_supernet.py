import keras
import numpy as np
import pytest

from keras_darts.search_space import DartsSupernet, SearchCell, num_edges, reduction_indices
from keras_darts.strategies import BilevelSearch, SingleLevelSearch, create_search_model

rng = np.random.default_rng(2)


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_reduction_placement_and_channel_doubling():
    assert reduction_indices(8) == (2, 5)
    assert reduction_indices(20) == (6, 13)
    net = DartsSupernet(10, layers=8, channels=16)
    assert net.cell_types == ["normal", "normal", "reduce", "normal", "normal", "reduce",
                              "normal", "normal"]
    assert [c.channels for c in net.cells] == [16, 16, 32, 32, 32, 64, 64, 64]
    assert [c.reduction_prev for c in net.cells][3] and num_edges(4) == 14


def test_paper_supernet_weights_count():
    # DARTS's CIFAR-10 search supernet: ~1.93 M weights (PyTorch reference, BN without affine).
    model = BilevelSearch(num_classes=10, input_shape=(32, 32, 3))
    n = sum(int(np.prod(v.shape)) for v in model.weight_variables)
    assert n == pytest.approx(1.93e6, rel=0.01)


def test_search_cell_output_shapes(tiny):
    cell = SearchCell(["skip_connect", "sep_conv_3x3"], channels=4, reduction=True, steps=3,
                      multiplier=2)
    x = rng.normal(size=(2, 8, 8, 6)).astype("float32")
    y = cell(x, x, keras.ops.ones((num_edges(3), 2)) / 2, training=True)
    assert tuple(y.shape) == (2, 4, 4, 8)


@pytest.mark.parametrize("kwargs,match", [
    ({"steps": 0}, "steps must be a positive integer"),
    ({"layers": 1}, "too few cells for 2 reduction cells"),
    ({"layers": 0}, "layers must be a positive integer"),
    ({"multiplier": 5}, "multiplier"),
    ({"num_classes": 1}, "num_classes must be at least 2"),
    ({"reductions": [0, 7]}, "out of range"),
    ({"grad_clip": -1.0}, "grad_clip"),
    ({"input_shape": (8, 8)}, "input_shape"),
])
def test_impossible_configurations_raise(kwargs, match):
    args = dict(num_classes=3, input_shape=(8, 8, 1), layers=3, channels=4, steps=2,
                multiplier=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        BilevelSearch(**args)


def test_unknown_method_names_known_ones():
    with pytest.raises(ValueError, match=r"Unknown search strategy 'no-such-method'.*darts"):
        create_search_model("no-such-method")


def test_config_round_trip(tiny):
    model = BilevelSearch(order=2, num_classes=3, input_shape=(8, 8, 1), seed=1, **tiny)
    clone = BilevelSearch.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    for layer in (model.network, model.architecture):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_keras_save_and_load_round_trip(tmp_path, tiny):
    model = SingleLevelSearch(num_classes=3, input_shape=(8, 8, 1), seed=1, **tiny)
    model.architecture.alpha_normal.assign(rng.normal(size=(5, 8)).astype("float32"))
    x = rng.normal(size=(4, 8, 8, 1)).astype("float32")
    model(x, training=True)  # move BN statistics
    path = str(tmp_path / "supernet.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is SingleLevelSearch
    np.testing.assert_allclose(_np(loaded(x, training=False)), _np(model(x, training=False)),
                               atol=1e-6)
    assert loaded.genotype() == model.genotype()


def test_evaluate_measures_the_supernet(tiny):
    model = BilevelSearch(num_classes=3, input_shape=(8, 8, 1), **tiny)
    model.compile(run_eagerly=True)
    x = rng.normal(size=(8, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 8)
    logs = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    logits = _np(model(x, training=False))
    ce = -np.log(np.exp(logits - logits.max(1, keepdims=True))[np.arange(8), y]
                 / np.exp(logits - logits.max(1, keepdims=True)).sum(1))
    assert logs["loss"] == pytest.approx(ce.mean(), rel=1e-4)
    assert logs["accuracy"] == pytest.approx((logits.argmax(1) == y).mean())


def test_bilevel_rejects_unpaired_batches(tiny):
    model = BilevelSearch(num_classes=3, input_shape=(8, 8, 1), **tiny)
    model.compile(run_eagerly=True)
    x = rng.normal(size=(8, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError, match=r"expects batches \(\(x_train"):
        model.fit(x, rng.integers(0, 3, 8), epochs=1, verbose=0)


def test_every_layer_is_built_at_construction():
    """Keras's symbolic build (taken under tf.distribute) is skipped only when every layer
    is built, padding layers inside the ops included."""
    from keras_darts.strategies import create_search_model

    for space in ("darts", "s4"):
        model = create_search_model("darts", space=space, num_classes=10,
                                    input_shape=(12, 12, 1), layers=3, channels=4, steps=2,
                                    multiplier=2, stem_multiplier=1, partial_channels=2)
        unbuilt = [layer.name for layer in model._flatten_layers() if not layer.built]
        assert unbuilt == []


def test_imagenet_stem_supernet_searches_at_an_eighth_of_the_input_side(tmp_path, tiny):
    from keras_darts.networks import build_network
    from keras_darts.search import SearchConfig

    model = BilevelSearch(num_classes=3, input_shape=(64, 64, 3), seed=1, stem="imagenet",
                          **tiny)
    net = model.network
    x = rng.normal(size=(2, 64, 64, 3)).astype("float32")
    s0, s1 = net.stem(x, training=False)
    assert tuple(s0.shape) == (2, 16, 16, 4) and tuple(s1.shape) == (2, 8, 8, 4)
    assert net.cells[0].reduction_prev  # s0 is reduced to s1's side, as after a reduction
    assert tuple(model(x, training=False).shape) == (2, 3)
    # One stem definition: the stand-alone network's stem computes the same with the
    # supernet's stem weights.
    standalone = build_network("DARTS_V2", num_classes=3, layers=3, channels=4,
                               input_shape=(64, 64, 3), stem="imagenet", auxiliary=False)
    for layer in net.stem_layers:
        standalone.get_layer(layer.name).set_weights(layer.get_weights())
    stem_out = keras.Model(standalone.input, standalone.get_layer("stem1_bn").output)
    np.testing.assert_allclose(_np(stem_out(x, training=False)), _np(s1), atol=1e-5)
    # Saved and loaded with its stem.
    path = str(tmp_path / "supernet.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.network.stem_kind == "imagenet"
    np.testing.assert_allclose(_np(loaded(x, training=False)), _np(model(x, training=False)),
                               atol=1e-5)
    # PC-DARTS's ImageNet search preset.
    cfg = SearchConfig.from_preset("imagenet").validate()
    assert (cfg.stem, cfg.image_size, cfg.batch_size, cfg.learning_rate, cfg.warmup_epochs,
            cfg.train_subset, cfg.train_portion, cfg.partial_channels) == \
        ("imagenet", 224, 1024, 0.5, 35, 0.125, 0.8, 2)
    single = SearchConfig.from_preset("imagenet", method="single-darts").validate()
    assert (single.stem, single.batch_size, single.train_subset, single.warmup_epochs,
            single.arch_learning_rate) == ("imagenet", 360, None, 0, 3e-4)
    pd = SearchConfig.from_preset("imagenet", method="darts-pd").validate()
    assert (pd.pd_epochs, pd.pd_learning_rate, pd.eval_layers, pd.eval_channels) == \
        (250, 0.045, 14, 48)
    assert pd.inner_config().stem == "imagenet" and pd.inner_config().partial_channels == 2


@pytest.mark.parametrize("kwargs,match", [
    ({"stem": "mobilenet"}, r"stem must be one of \('cifar', 'imagenet'\)"),
    ({"stem": "imagenet", "channels": 1}, "channels must be at least 2"),
    ({"stem": "imagenet", "space": "nb201"}, "stem='imagenet' needs a DARTS-family"),
])
def test_bad_stems_are_named(kwargs, match):
    from keras_darts.search import SearchConfig

    args = {**dict(num_classes=3, input_shape=(32, 32, 3), layers=3, channels=4, steps=2,
                   multiplier=2), **kwargs}
    with pytest.raises(ValueError, match=match):
        BilevelSearch(**args)
    if "space" not in kwargs:
        with pytest.raises(ValueError, match=match):
            SearchConfig.from_preset("small", **kwargs).validate()
