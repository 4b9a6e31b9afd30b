"""Stand-alone NAS-Bench-201 networks: building, pruning of dead edges, training, export."""

import json

import keras
import numpy as np
import pytest

from keras_darts.architecture import GenotypeError, NB201Genotype, get_genotype
from keras_darts.data import load_arrays, normalize
from keras_darts.export import export_onnx, export_tflite
from keras_darts.networks import build_nb201_network, build_network, count_params
from keras_darts.training import TrainConfig, run_training

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
# Node 2 does not reach the output (edge 2->3 is `none`): its conv is dead code.
DEAD = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|"
PRUNED = "|nor_conv_1x1~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|"


def test_network_shape_stages_and_parameters():
    model = build_nb201_network(ARCH, num_classes=10, channels=8, cells_per_stage=2,
                                input_shape=(28, 28, 1))
    assert tuple(model.output.shape) == (None, 10)
    names = [layer.name for layer in model.layers]
    assert [n for n in names if n.startswith("cell_")] == [
        f"cell_{s}_{k}" for s in range(3) for k in range(2)]
    assert "reduction_1" in names and "reduction_2" in names
    assert model.get_layer("reduction_2").output.shape[1:] == (7, 7, 32)
    # Four 3x3 convs and no 1x1 in the cell: more parameters than an all-skip cell.
    skips = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    assert count_params(model) > count_params(build_nb201_network(
        skips, channels=8, cells_per_stage=2, input_shape=(28, 28, 1)))


def test_dead_edges_are_not_built_and_the_function_is_unchanged():
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    dead = build_nb201_network(DEAD, channels=4, cells_per_stage=1, input_shape=(16, 16, 3))
    pruned = build_nb201_network(PRUNED, channels=4, cells_per_stage=1, input_shape=(16, 16, 3))
    assert count_params(dead) == count_params(pruned)
    pruned.set_weights(dead.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dead(x)),
                               keras.ops.convert_to_numpy(pruned(x)), rtol=1e-5, atol=1e-6)


def test_all_none_cell_outputs_zeros_and_build_network_routes_arch_strings():
    zero = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    model = build_network(zero, num_classes=3, channels=4, input_shape=(8, 8, 1),
                          auxiliary=False, cells_per_stage=1)
    cell = model.get_layer("cell_0_0")
    assert not cell.edge_layers
    out = keras.ops.convert_to_numpy(cell(np.ones((1, 8, 8, 4), "float32")))
    assert np.all(out == 0)
    with pytest.raises(ValueError, match="no auxiliary head"):
        build_network(ARCH, input_shape=(8, 8, 1), auxiliary=True)
    with pytest.raises(GenotypeError, match="Unknown op"):
        build_nb201_network("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(ValueError, match="cells_per_stage must be a positive integer"):
        build_nb201_network(ARCH, cells_per_stage=0)


def test_get_genotype_reads_arch_strings_and_nb201_genotype_files(tmp_path):
    g = get_genotype(ARCH)
    assert isinstance(g, NB201Genotype)
    path = tmp_path / "genotype.json"
    g.save(str(path), epoch=3)
    assert get_genotype(str(path)) == g
    assert json.loads(path.read_text())["epoch"] == 3


def test_keras_save_load_round_trip(tmp_path):
    model = build_nb201_network(ARCH, channels=4, cells_per_stage=1, input_shape=(8, 8, 1))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)),
                               keras.ops.convert_to_numpy(loaded(x)), rtol=1e-5, atol=1e-6)


def test_nb201_network_exports_to_onnx_and_tflite_with_parity(tmp_path):
    (x, _), (xt, _), info = load_arrays("digits")
    images = normalize(xt[:64], info).numpy()
    model = build_nb201_network(ARCH, channels=4, cells_per_stage=1, input_shape=(8, 8, 1))
    for report in (export_onnx(model, str(tmp_path / "m.onnx"), images),
                   export_tflite(model, str(tmp_path / "m.tflite"), images)):
        assert report["passed"] and report["rel_max_abs_diff"] < 1e-4, report


def test_an_auxiliary_head_or_drop_path_refuses_an_nb201_cell(tmp_path):
    cfg = TrainConfig.from_preset("small", genotype=ARCH, auxiliary=True, drop_path=0.1)
    with pytest.raises(ValueError, match="without auxiliary head and drop-path"):
        run_training(cfg, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_training_an_nb201_cell_learns(tmp_path):
    cfg = TrainConfig.from_preset("nb201-small", genotype=ARCH, epochs=2, max_train=1024)
    model, summary = run_training(cfg, str(tmp_path / "run"), verbose=0)
    assert summary["test_accuracy"] > 0.4  # 10 classes: clearly learned
    saved = json.loads((tmp_path / "run" / "genotype.json").read_text())
    assert saved["genotype"]["arch"] == ARCH


@pytest.mark.parametrize("op,params_m,macs_m", [("nor_conv_3x3", 1.53, 220.1),
                                                ("none", 0.07, 7.8)])
def test_cifar10_sizes_match_the_benchmarks_extremes(op, params_m, macs_m):
    """NAS-Bench-201 reports 0.07-1.53 M parameters and 7.8-220.1 M FLOPs on CIFAR-10."""
    from keras_darts.networks import NETWORK_PRESETS
    from keras_darts.profiling import profile

    arch = f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|"
    model = build_network(arch, auxiliary=False, **NETWORK_PRESETS["nb201"])
    result = profile(model)
    assert round(result["params_m"], 2) == params_m
    assert abs(result["macs_m"] - macs_m) < 0.1
