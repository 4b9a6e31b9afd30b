"""Hand-designed reference networks, trained by the same command as a genotype's network."""

import json

import keras
import numpy as np
import pytest

from keras_darts.cli import main
from keras_darts.data import load_arrays, normalize
from keras_darts.export import export_tflite
from keras_darts.networks import (
    build_reference_network, reference_network_names, register_reference_network,
)
from keras_darts.profiling import profile
from keras_darts.training import TrainConfig, run_training

# The nb201-small preset (no auxiliary head, no drop-path) cut to seconds.
TINY_TRAIN = dict(epochs=1, max_train=256, batch_size=64)


@pytest.mark.parametrize("name,params,macs", [("plain-cnn", 0.0348, 2.44),
                                              ("resnet20", 0.2722, 31.02)])
def test_reference_networks_have_their_published_sizes(name, params, macs):
    model = build_reference_network(name, 10, (28, 28, 1))
    assert model.name == name
    assert profile(model) == {"params_m": params, "macs_m": macs, "input_shape": [28, 28, 1]}
    logits = model(np.zeros((2, 28, 28, 1), "float32"))
    assert tuple(logits.shape) == (2, 10)


def test_unknown_network_and_taken_name_are_refused():
    with pytest.raises(ValueError, match=r"Unknown network 'vgg99'. Known networks: .*plain-cnn"):
        build_reference_network("vgg99")
    with pytest.raises(ValueError, match="'plain-cnn' is already registered"):
        register_reference_network("plain-cnn")(lambda n, s, name: None)


def test_a_registered_network_trains_by_name(tmp_path):
    @register_reference_network("test-mlp", overwrite=True)
    def _mlp(num_classes, input_shape, name):
        inputs = keras.Input(input_shape)
        x = keras.layers.Dense(num_classes)(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, x, name=name)

    assert "test-mlp" in reference_network_names()
    cfg = TrainConfig.from_preset("nb201-small", network="test-mlp", **TINY_TRAIN)
    model, summary = run_training(cfg, str(tmp_path / "run"), verbose=0)
    assert model.name == "test-mlp" and summary["network"] == "test-mlp"
    assert summary["params_m"] == 0.0078  # 784 * 10 + 10


def test_plain_cnn_trains_and_exports_like_a_genotype(tmp_path, capsys):
    cfg = TrainConfig.from_preset("nb201-small", network="plain-cnn", **TINY_TRAIN)
    out = tmp_path / "run"
    model, summary = run_training(cfg, str(out), verbose=0)
    assert summary["network"] == "plain-cnn" and summary["params_m"] == 0.0348
    assert 0.0 < summary["test_accuracy"] <= 1.0
    assert not (out / "genotype.json").exists()
    assert (out / "learning_curve.png").stat().st_size > 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["network"] == "plain-cnn" and saved["genotype"] is None
    assert keras.models.load_model(out / "model.keras", compile=False).count_params() == 34826
    (x, _), (xt, _), info = load_arrays("embedded")
    report = export_tflite(model, str(tmp_path / "m.tflite"), normalize(xt[:100], info).numpy())
    assert report["top1_agreement"] == 1.0, report
    # Side by side with another run (here the same one twice), as `make demo` ends.
    table = tmp_path / "compare.json"
    assert main(["compare", str(out), str(out), "--out", str(table)]) == 0
    printed = capsys.readouterr().out
    assert printed.count(" plain-cnn ") == 2 and f"{summary['test_accuracy']:.4f}" in printed
    rows = json.loads(table.read_text())["runs"]
    assert rows[0]["network"] == "plain-cnn" and rows[0]["params_m"] == 0.0348
    assert rows[0]["epochs"] == 1 and rows[0]["tflite_ms"] > 0


@pytest.mark.parametrize("flags,match", [
    (["--network", "vgg99"], "Unknown network 'vgg99'"),
    (["--network", "plain-cnn", "--genotype", "DARTS_V2"],
     "Give a genotype or a reference network, not both"),
    (["--network", "plain-cnn", "--preset", "small", "--auxiliary"],
     "'plain-cnn' has no auxiliary head and no drop-path"),
])
def test_bad_network_flags_exit_2_and_write_nothing(tmp_path, capsys, flags, match):
    out = tmp_path / "run"
    args = ["train", "--out", str(out), *flags]
    if "--preset" not in flags:
        args += ["--preset", "nb201-small"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_compare_refuses_a_directory_without_a_finished_run(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    assert main(["compare", str(tmp_path / "half"), "--out", str(tmp_path / "t.json")]) == 2
    err = capsys.readouterr().err
    assert "is not a finished training run: no" in err and "summary.json" in err
    assert not (tmp_path / "t.json").exists()

