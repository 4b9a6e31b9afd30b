"""Exporting networks to SavedModel, ONNX and TFLite, each verified as soon as it is written.

Every writer builds the artifact under a temporary name beside the target,
loads it in its own runtime, runs it on real images, compares the outputs
with Keras, writes the parity report as JSON, and only then moves the
artifact to its final name. A failed check raises `ParityError` and leaves
nothing under the final name.
"""

import json
import os
import shutil
import tempfile

import numpy as np

from keras_darts.export.verify import (
    OnnxRunner, ParityError, SavedModelRunner, TFLiteRunner, compare,
)
from keras_darts.utils.io import atomic_write_json

FORMATS = ("savedmodel", "onnx", "tflite")
QUANTIZATIONS = (None, "float16", "dynamic", "int8")


def _check_writable(path):
    directory = os.path.dirname(os.path.abspath(path)) or "."
    try:
        os.makedirs(directory, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".tmp-probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise PermissionError(f"Cannot write the export to {path!r}: {e}") from None
    return directory


def _deployable(model):
    from keras_darts.networks.builders import inference_model
    from keras_darts.utils.precision import float32_model

    # A mixed-precision network (float32 weights) is exported as its float32 copy.
    return inference_model(float32_model(model))


def _reference(model, images):
    return np.asarray(model(images, training=False))


def _finish(tmp, path, report, report_path):
    """Moves a verified artifact into place and writes its report (or fails cleanly)."""
    if not report["passed"]:
        _remove(tmp)
        raise ParityError(
            f"{report['format']} export failed its parity check: max abs diff "
            f"{report['max_abs_diff']:.3g} (relative {report['rel_max_abs_diff']:.3g}), top-1 "
            f"agreement {report['top1_agreement']:.3f}; thresholds {report['thresholds']}. "
            f"Nothing was written to {path}."
        )
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.replace(tmp, path)
    report["path"] = os.path.abspath(path)
    atomic_write_json(report_path or path + ".parity.json", report)
    return report


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


def _input_spec(model, batch):
    import tensorflow as tf

    return [tf.TensorSpec((batch,) + tuple(model.inputs[0].shape[1:]), tf.float32, name="image")]


def export_savedmodel(model, path, images, report_path=None, thresholds=None):
    """Exports a SavedModel (dynamic batch, `serve` endpoint) and verifies it.

    Args:
        model: a Keras network (an auxiliary head is dropped).
        path: the SavedModel directory.
        images: real, preprocessed images `(n, H, W, C)` for the parity check.
        report_path: where to write the JSON report (default `path + ".parity.json"`).
        thresholds: overrides of the format's parity thresholds.

    Returns:
        The parity report.

    Raises:
        ParityError: if the loaded SavedModel disagrees with Keras.
        PermissionError: if the directory is not writable.

    Example:

    >>> export_savedmodel(net, "out/model_savedmodel", images)  # doctest: +SKIP
    """
    deploy = _deployable(model)
    parent = _check_writable(path)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-savedmodel-")
    try:
        deploy.export(tmp, format="tf_saved_model", verbose=False,
                      input_signature=_input_spec(deploy, None))
        report = compare(_reference(deploy, images), SavedModelRunner(tmp)(images), "savedmodel",
                         thresholds)
    except BaseException:
        _remove(tmp)
        raise
    return _finish(tmp, path, report, report_path)


def export_onnx(model, path, images, opset=None, report_path=None, thresholds=None):
    """Exports ONNX (dynamic batch) with tf2onnx and verifies it with ONNX Runtime.

    Args:
        model: a Keras network.
        path: the `.onnx` file.
        images: real, preprocessed images for the parity check.
        opset: ONNX opset (default: tf2onnx's); the one used is recorded.
        report_path: report location (default `path + ".parity.json"`).
        thresholds: overrides of the format's parity thresholds.

    Returns:
        The parity report, with `opset`.

    Raises:
        ParityError: if ONNX Runtime disagrees with Keras.

    Example:

    >>> export_onnx(net, "out/model.onnx", images, opset=17)  # doctest: +SKIP
    """
    import onnx

    deploy = _deployable(model)
    parent = _check_writable(path)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    try:
        kwargs = {} if opset is None else {"opset_version": int(opset)}
        deploy.export(tmp, format="onnx", verbose=False,
                      input_signature=_input_spec(deploy, None), **kwargs)
        proto = onnx.load(tmp)
        onnx.checker.check_model(proto)
        used = max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
        report = compare(_reference(deploy, images), OnnxRunner(tmp)(images), "onnx", thresholds)
        report["opset"] = int(used)
    except BaseException:
        _remove(tmp)
        raise
    return _finish(tmp, path, report, report_path)


def export_tflite(model, path, images, quantization=None, representative_images=None,
                  report_path=None, thresholds=None, saved_model=None):
    """Exports TFLite with a static batch of 1 (for mobile) and verifies it with LiteRT.

    Args:
        model: a Keras network.
        path: the `.tflite` file.
        images: real, preprocessed images for the parity check.
        quantization: None (float32), `"float16"`, `"dynamic"` (dynamic-range
            int8 weights) or `"int8"` (full integer, int8 input and output,
            calibrated on `representative_images`).
        representative_images: calibration images for `"int8"` (e.g. a few
            hundred training images from `keras_darts.data`).
        report_path: report location (default `path + ".parity.json"`).
        thresholds: overrides of the format's parity thresholds.
        saved_model: a batch-1 SavedModel of `model` already written by
            `write_tflite_source` (`export_all` writes one and converts every
            quantization from it); None writes one to a temporary directory.

    Returns:
        The parity report, with `quantization` and the file size.

    Raises:
        ValueError: for an unknown quantization, or `"int8"` without
            representative images.
        ParityError: if the interpreter disagrees with Keras beyond the
            quantization's threshold.

    Example:

    >>> export_tflite(net, "out/model_int8.tflite", images, "int8", calib)  # doctest: +SKIP
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantization!r}. Supported: "
                         f"{[q for q in QUANTIZATIONS if q]} or None (float32).")
    if quantization == "int8" and representative_images is None:
        raise ValueError("quantization='int8' needs representative_images for calibration.")
    deploy = _deployable(model)
    parent = _check_writable(path)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-", suffix=".tflite")
    os.close(fd)
    saved = None
    try:
        if saved_model is None:
            saved = saved_model = tempfile.mkdtemp(prefix="keras_darts_tflite_")
            write_tflite_source(deploy, saved)
        def representative():
            calib = np.asarray(representative_images, np.float32)
            for i in range(len(calib)):
                yield [calib[i:i + 1]]

        calibration = representative if quantization == "int8" else None
        with open(tmp, "wb") as f:
            f.write(tflite_converter(saved_model, quantization, calibration).convert())
        fmt = "tflite" if quantization is None else f"tflite-{quantization}"
        report = compare(_reference(deploy, images), TFLiteRunner(tmp)(images), fmt, thresholds)
        report["quantization"] = quantization or "float32"
        report["size_mb"] = round(os.path.getsize(tmp) / 2**20, 3)
    except BaseException:
        _remove(tmp)
        raise
    finally:
        if saved is not None:
            shutil.rmtree(saved, ignore_errors=True)
    return _finish(tmp, path, report, report_path)


def tflite_converter(saved_model, quantization=None, representative=None):
    """The TFLite converter of a batch-1 SavedModel, set up for a quantization.

    Every TFLite file of the library is converted by it (`export_tflite`, and
    the units of latency tables), so they share fusions and quantization.

    Args:
        saved_model: a SavedModel directory (`write_tflite_source`).
        quantization: None (float32), `"float16"`, `"dynamic"` or `"int8"`
            (full integer, int8 inputs and outputs).
        representative: for `"int8"`, a callable yielding lists of batch-1
            float32 inputs (the calibration data).

    Returns:
        A `tf.lite.TFLiteConverter`; call `convert()` for the flatbuffer.

    Raises:
        ValueError: for an unknown quantization, or `"int8"` without
            calibration data.
    """
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantization!r}. Supported: "
                         f"{[q for q in QUANTIZATIONS if q]} or None (float32).")
    if quantization == "int8" and representative is None:
        raise ValueError("quantization='int8' needs calibration data (representative).")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if quantization:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter


def write_tflite_source(model, directory):
    """Writes the batch-1 SavedModel that the TFLite converter reads.

    Writing it (tracing the network for serving) costs about as much as one
    conversion, so `export_all` writes it once for all four quantizations.

    Args:
        model: a Keras network (its deployable part is written).
        directory: an empty or absent directory.

    Returns:
        `directory`.

    Example:

    >>> src = write_tflite_source(net, "/tmp/src")  # doctest: +SKIP
    >>> export_tflite(net, "m_fp16.tflite", images, "float16", saved_model=src)  # doctest: +SKIP
    """
    deploy = _deployable(model)
    deploy.export(directory, format="tf_saved_model", verbose=False,
                  input_signature=_input_spec(deploy, 1))
    return directory


def export_all(model, out_dir, images, representative_images=None, formats=FORMATS,
               quantizations=QUANTIZATIONS, opset=None, name="model"):
    """Exports to every format (and TFLite quantization) with parity reports.

    Files: `<name>_savedmodel/`, `<name>.onnx`, `<name>_float32.tflite`,
    `<name>_float16.tflite`, `<name>_dynamic.tflite`, `<name>_int8.tflite`,
    each with a `.parity.json` report beside it, and `export_report.json`
    summarising them.

    Args:
        model: a Keras network (a mixed-precision one is exported in float32).
        out_dir: output directory.
        images: real, preprocessed images for the parity checks.
        representative_images: calibration images for int8.
        formats: subset of `("savedmodel", "onnx", "tflite")`.
        quantizations: TFLite variants (None = float32).
        opset: ONNX opset.
        name: file name stem.

    Returns:
        `{artifact: report}`.

    Raises:
        ValueError: for an unknown format or quantization.
        ParityError: at the first artifact that fails its check.

    Example:

    >>> export_all(net, "out", images, calib)  # doctest: +SKIP
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown export formats {unknown}. Supported: {list(FORMATS)}.")
    bad_q = [q for q in quantizations if q not in QUANTIZATIONS]
    if bad_q:
        raise ValueError(f"Unknown quantizations {bad_q}. Supported: {list(QUANTIZATIONS)}.")
    os.makedirs(out_dir, exist_ok=True)
    reports = {}
    model = _deployable(model)  # once for every writer
    if "savedmodel" in formats:
        reports["savedmodel"] = export_savedmodel(
            model, os.path.join(out_dir, f"{name}_savedmodel"), images)
    if "onnx" in formats:
        reports["onnx"] = export_onnx(model, os.path.join(out_dir, f"{name}.onnx"), images, opset)
    if "tflite" in formats and quantizations:
        source = tempfile.mkdtemp(prefix="keras_darts_tflite_")
        try:
            write_tflite_source(model, source)
            for q in quantizations:
                label = q or "float32"
                reports[f"tflite_{label}"] = export_tflite(
                    model, os.path.join(out_dir, f"{name}_{label}.tflite"), images, q,
                    representative_images, saved_model=source)
        finally:
            shutil.rmtree(source, ignore_errors=True)
    atomic_write_json(os.path.join(out_dir, "export_report.json"), reports)
    return reports


def load_report(path):
    """Reads a parity report JSON.

    Args:
        path: a `.parity.json` or `export_report.json` file.

    Returns:
        The report dict.

    Example:

    >>> load_report("out/model.onnx.parity.json")["top1_agreement"]  # doctest: +SKIP
    1.0
    """
    with open(path, encoding="utf-8") as f:
        return json.load(f)
