import json
import os

import keras
import numpy as np
import pytest

from keras_darts.data import load_arrays, normalize
from keras_darts.export import export_tflite
from keras_darts.training import SparseCrossentropy, TrainConfig, run_training
from keras_darts.utils import determinism_enabled

SMALL = dict(layers=3, channels=8, max_train=512, batch_size=64)


def test_label_smoothing_loss_values():
    y = np.array([0, 2])
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]], "float32")
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    plain = -logp[np.arange(2), y]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(SparseCrossentropy()(y, logits)),
                               plain.mean(), rtol=1e-5)
    target = np.full((2, 3), 0.1 / 3)
    target[np.arange(2), y] += 0.9
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(SparseCrossentropy(0.1)(y, logits)),
        (-(target * logp).sum(1)).mean(), rtol=1e-5)


@pytest.mark.slow
def test_training_then_int8_export_agrees_with_float(tmp_path):
    # 3 epochs on 2048 images: ~62% test accuracy measured (a plain CNN gets less).
    cfg = TrainConfig.from_preset("small", genotype="DARTS_V2", epochs=3,
                                  **{**SMALL, "max_train": 2048})
    model, summary = run_training(cfg, str(tmp_path / "run"), verbose=0)
    assert summary["test_accuracy"] > 0.5  # 10 classes: clearly learned
    for name in ("config.json", "genotype.json", "history.csv", "model.keras", "summary.json"):
        assert (tmp_path / "run" / name).exists(), name
    (x, _), (xt, _), info = load_arrays("embedded")
    report = export_tflite(model, str(tmp_path / "m_int8.tflite"), normalize(xt[:300], info).numpy(),
                           "int8", normalize(x[:200], info).numpy())
    assert report["top1_agreement"] >= 0.9, report


@pytest.mark.slow
def test_training_resumes_after_a_crash(tmp_path, determinism_off):
    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("simulated crash")

    cfg = TrainConfig.from_preset("small", genotype="PDARTS", epochs=2, **SMALL)
    out = str(tmp_path / "run")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_training(cfg, out, verbose=0, callbacks=[Crash()])
    assert not determinism_enabled()  # a run that raises ends it too
    with open(os.path.join(out, "checkpoints", "state.json")) as f:
        assert json.load(f)["epoch"] == 1
    model, summary = run_training(cfg, out, verbose=0)
    assert len(summary["history"]["loss"]) == 2  # the whole run's history, from history.csv
    steps = 512 // 64
    assert int(model.optimizer.iterations) == 2 * steps  # optimizer state restored
    with open(os.path.join(out, "history.csv")) as f:
        assert len(f.read().strip().splitlines()) == 1 + 2


@pytest.mark.parametrize("overrides,match", [
    ({"genotype": "NOPE"}, "Unknown genotype"),
    ({"learning_rate": -1.0}, "learning_rate must be >= 0"),
    ({"drop_path": 1.5}, "drop_path must be in"),
    ({"dataset": "cifar11"}, "Unknown dataset"),
])
def test_bad_training_settings_write_nothing(tmp_path, overrides, match):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=match):
        run_training(TrainConfig.from_preset("small", **{**SMALL, **overrides}), str(out))
    assert not out.exists()


def test_genotype_of_another_search_space_is_refused(tmp_path):
    from keras_darts.architecture import Genotype
    from keras_darts.search_space import ReLUConvBN, register_op

    register_op("test_nor_conv_1x1", overwrite=True)(
        lambda c, s, a: ReLUConvBN(c, 1, s, 0, a))
    g = Genotype([("test_nor_conv_1x1", 0), ("test_nor_conv_1x1", 1)], [2],
                 [("test_nor_conv_1x1", 0), ("test_nor_conv_1x1", 1)], [2])
    with pytest.raises(ValueError, match="not in this search space"):
        run_training(TrainConfig.from_preset("small", genotype=g, **SMALL), str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_unknown_training_preset():
    with pytest.raises(ValueError, match="Unknown preset 'tiny'"):
        TrainConfig.from_preset("tiny")
