import keras
import numpy as np
import pytest

from keras_darts.architecture import get_genotype
from keras_darts.networks import (
    NETWORK_PRESETS, DropPath, build_network, count_params, inference_model,
)
from keras_darts.callbacks import DropPathSchedule
from keras_darts.profiling import count_macs, profile

rng = np.random.default_rng(0)


@pytest.mark.parametrize("name,preset,published", [
    ("DARTS_V2", "cifar", 3.3), ("PC_DARTS_cifar", "cifar", 3.6), ("PDARTS", "cifar", 3.4),
    ("DARTS_V2", "imagenet", 4.7), ("PC_DARTS_image", "imagenet", 5.3),
])
def test_published_parameter_counts(name, preset, published):
    # Papers' tables (../shared/papers: d-darts, darts-pd, sp-darts), auxiliary head excluded.
    model = build_network(name, **NETWORK_PRESETS[preset])
    assert round(count_params(inference_model(model)), 1) == published
    assert count_params(model) > count_params(inference_model(model))  # aux head exists


def test_darts_v2_multiply_adds_close_to_published():
    # DARTS_V2 on CIFAR-10: 528 M multiply-adds in the papers; counting conventions differ
    # slightly between papers (PC-DARTS ImageNet is 586 M in one table, 597 M in another).
    model = build_network("DARTS_V2", **NETWORK_PRESETS["cifar"])
    assert count_macs(inference_model(model)) == pytest.approx(528, rel=0.02)


def test_macs_of_a_single_conv_and_dense():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)
    out = keras.layers.Dense(5)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, out)
    expected = 8 * 8 * 9 * 3 * 4 + 4 * 4 * 9 * 4 + 64 * 5
    assert count_macs(model) * 1e6 == pytest.approx(expected)


def test_dilated_depthwise_conv_counted_at_its_output_resolution():
    # TF runs a dilated depthwise convolution on a SpaceToBatch view (rate**2 images of a
    # quarter the size); its multiply-adds are those of the undilated one (DARTS's dil_conv).
    inputs = keras.Input((16, 16, 8))
    counts = [count_macs(keras.Model(inputs, keras.layers.DepthwiseConv2D(
        3, dilation_rate=rate, padding="same", use_bias=False)(inputs))) for rate in (1, 2)]
    assert counts[0] * 1e6 == 16 * 16 * 9 * 8
    assert counts[1] == counts[0]


def test_network_shapes_and_reductions():
    model = build_network("DARTS_V2", num_classes=7, layers=5, channels=8, input_shape=(16, 16, 3))
    logits, aux = model(rng.normal(size=(2, 16, 16, 3)).astype("float32"), training=True)
    assert logits.shape == (2, 7) and aux.shape == (2, 7)
    assert [model.get_layer(f"cell_{i}").reduction for i in range(5)] == [
        False, True, False, True, False]
    deploy = inference_model(model)
    assert len(deploy.outputs) == 1 and "aux_logits" not in [l.name for l in deploy.layers]


def test_imagenet_stem_downsamples_8x_and_first_cell_sees_a_reduction():
    model = build_network("DARTS_V2", num_classes=5, layers=3, channels=8,
                          input_shape=(64, 64, 3), stem="imagenet", auxiliary=False)
    assert model.get_layer("cell_0").reduction_prev
    assert tuple(model.get_layer("cell_0").output.shape[1:3]) == (8, 8)


def test_per_cell_genotypes_and_wrong_length():
    cells = [get_genotype("DARTS_V2"), get_genotype("PDARTS"), get_genotype("DARTS_V1")]
    model = build_network(cells, num_classes=3, layers=3, channels=4, input_shape=(8, 8, 1))
    assert model.get_layer("cell_1").genotype == cells[1]
    with pytest.raises(ValueError, match="one genotype per cell: got 2 genotypes for layers=3"):
        build_network(cells[:2], layers=3, channels=4, input_shape=(8, 8, 1))


def test_drop_path_not_on_identity_and_identity_in_inference():
    model = build_network("DARTS_V2", num_classes=3, layers=3, channels=4, input_shape=(8, 8, 1),
                          auxiliary=False, seed=0)
    cell = model.get_layer("cell_0")
    for (op, _, _), dp in zip(cell.edges_spec, cell.drop_paths):
        assert (dp is None) == (op == "skip_connect")
    x = rng.normal(size=(4, 8, 8, 1)).astype("float32")
    schedule = DropPathSchedule(0.5, epochs=2)
    schedule.set_model(model)
    schedule.on_epoch_begin(1)
    assert float(cell.drop_paths[0].rate) == pytest.approx(0.25)
    a, b = model(x, training=False), model(x, training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_drop_path_drops_whole_samples_and_rescales():
    layer = DropPath(seed=1)
    layer.build((64, 2, 2, 3))
    layer.rate.assign(0.5)
    y = keras.ops.convert_to_numpy(layer(np.ones((64, 2, 2, 3), "float32"), training=True))
    per_sample = y.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}
    assert (per_sample.min(1) == per_sample.max(1)).all() and 10 < (per_sample[:, 0] == 0).sum() < 54


def test_keras_save_load_round_trip(tmp_path):
    model = build_network("PC_DARTS_cifar", num_classes=3, layers=3, channels=4,
                          input_shape=(8, 8, 1))
    path = str(tmp_path / "net.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = rng.normal(size=(2, 8, 8, 1)).astype("float32")
    for a, b in zip(model(x, training=False), loaded(x, training=False)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b),
                                   atol=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    ({"genotype": "DARTS_V9"}, "Unknown genotype"),
    ({"stem": "mobilenet"}, "stem must be"),
    ({"layers": 1}, "too few cells"),
    ({"channels": 0}, "channels must be a positive integer"),
])
def test_bad_network_arguments(kwargs, match):
    args = dict(genotype="DARTS_V2", num_classes=3, layers=3, channels=4, input_shape=(8, 8, 1))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        build_network(**args)


def test_profile_dict():
    p = profile(build_network("DARTS_V2", num_classes=10, layers=3, channels=4,
                              input_shape=(8, 8, 1)))
    assert set(p) == {"params_m", "macs_m", "input_shape"} and p["params_m"] > 0
