import json
import os

import keras
import numpy as np
import pytest

from keras_darts.data import load_arrays, normalize
from keras_darts.export import (
    ParityError, export_all, export_onnx, export_savedmodel, export_tflite,
)
from keras_darts.networks import build_network
from keras_darts.search_space import DARTS_PRIMITIVES, build_op


@pytest.fixture(scope="module")
def digits():
    (x, _), (xt, _), info = load_arrays("digits")
    return normalize(xt[:64], info).numpy(), normalize(x[:128], info).numpy()


def _all_ops_model():
    """Every DARTS op at stride 1 and 2, flattened and concatenated: one probe for all ops."""
    inputs = keras.Input((8, 8, 4))
    outs = []
    for name in DARTS_PRIMITIVES:
        if name == "none":
            continue
        for stride in (1, 2):
            y = build_op(name, 4, stride, affine=True)(inputs)
            outs.append(keras.layers.Flatten()(y))
    return keras.Model(inputs, keras.layers.Concatenate()(outs))


def test_every_op_at_both_strides_exports_with_parity(tmp_path):
    model = _all_ops_model()
    # Non-trivial BN statistics so that folding is exercised.
    for layer in model._flatten_layers():
        if hasattr(layer, "moving_variance"):
            layer.moving_mean.assign(np.linspace(-0.5, 0.5, 4).astype("float32"))
            layer.moving_variance.assign(np.linspace(0.5, 2.0, 4).astype("float32"))
    images = np.random.default_rng(0).normal(size=(4, 8, 8, 4)).astype("float32")
    onnx = export_onnx(model, str(tmp_path / "ops.onnx"), images)
    tfl = export_tflite(model, str(tmp_path / "ops.tflite"), images)
    for report in (onnx, tfl):
        assert report["passed"] and report["max_abs_diff"] < 1e-5, report
    assert onnx["opset"] >= 13


def test_export_all_writes_verified_artifacts_and_reports(tmp_path, digits):
    images, calib = digits
    model = build_network("DARTS_V2", num_classes=10, layers=3, channels=4,
                          input_shape=(8, 8, 1))
    reports = export_all(model, str(tmp_path), images, calib)
    assert set(reports) == {"savedmodel", "onnx", "tflite_float32", "tflite_float16",
                            "tflite_dynamic", "tflite_int8"}
    for key, report in reports.items():
        assert report["passed"], (key, report)
        assert os.path.exists(report["path"])
        with open(report["path"] + ".parity.json") as f:
            assert json.load(f)["top1_agreement"] == report["top1_agreement"]
    assert reports["savedmodel"]["max_abs_diff"] < 1e-5
    assert reports["tflite_int8"]["quantization"] == "int8"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=reports["tflite_int8"]["path"])
    detail = interp.get_input_details()[0]
    assert list(detail["shape"]) == [1, 8, 8, 1] and detail["dtype"] == np.int8


def test_failed_parity_leaves_nothing_under_the_final_name(tmp_path, digits):
    images, _ = digits
    model = build_network("DARTS_V2", num_classes=10, layers=3, channels=4,
                          input_shape=(8, 8, 1), auxiliary=False)
    impossible = {"rel_max_abs_diff": -1.0}
    with pytest.raises(ParityError, match="Nothing was written"):
        export_onnx(model, str(tmp_path / "m.onnx"), images, thresholds=impossible)
    with pytest.raises(ParityError):
        export_savedmodel(model, str(tmp_path / "sm"), images, thresholds=impossible)
    assert os.listdir(tmp_path) == []


def test_bad_export_requests(tmp_path, digits):
    images, _ = digits
    model = build_network("DARTS_V2", num_classes=10, layers=3, channels=4,
                          input_shape=(8, 8, 1), auxiliary=False)
    with pytest.raises(ValueError, match="Unknown quantization 'int4'"):
        export_tflite(model, str(tmp_path / "m.tflite"), images, quantization="int4")
    with pytest.raises(ValueError, match="needs representative_images"):
        export_tflite(model, str(tmp_path / "m.tflite"), images, quantization="int8")
    with pytest.raises(ValueError, match="Unknown export formats"):
        export_all(model, str(tmp_path), images, formats=("coreml",))
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PermissionError, match="Cannot write the export"):
        export_onnx(model, str(blocker / "m.onnx"), images)
    assert sorted(os.listdir(tmp_path)) == ["file"]
