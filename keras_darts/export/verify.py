"""Loading exported artifacts in their own runtimes and comparing them with Keras."""

import numpy as np

#: Per-format acceptance thresholds: the largest max-abs logit difference relative
#: to the largest |logit| of the Keras reference, and the smallest top-1 agreement.
THRESHOLDS = {
    "savedmodel": {"rel_max_abs_diff": 1e-4, "top1_agreement": 1.0},
    "onnx": {"rel_max_abs_diff": 1e-4, "top1_agreement": 0.99},
    "tflite": {"rel_max_abs_diff": 1e-4, "top1_agreement": 0.99},
    "tflite-float16": {"rel_max_abs_diff": 2e-2, "top1_agreement": 0.95},
    "tflite-dynamic": {"rel_max_abs_diff": 1e-1, "top1_agreement": 0.9},
    "tflite-int8": {"rel_max_abs_diff": 0.5, "top1_agreement": 0.8},
}


class ParityError(RuntimeError):
    """An exported artifact disagrees with the Keras model beyond its format's threshold.

    Raised by the export writers after removing the failed artifact.

    Example:

    >>> try:
    ...     export_onnx(model, "m.onnx", images)
    ... except ParityError as e:
    ...     print(e)  # doctest: +SKIP
    """


class SavedModelRunner:
    """Runs a SavedModel's serving signature with the TF SavedModel loader.

    Args:
        path: the SavedModel directory.

    Call arguments:
        x: a float32 batch of images.

    Returns:
        The logits as a numpy array.

    Example:

    >>> SavedModelRunner("out/model_savedmodel")(images).shape  # doctest: +SKIP
    (200, 10)
    """

    def __init__(self, path):
        import tensorflow as tf

        self._fn = tf.saved_model.load(path).signatures["serving_default"]
        self._key = list(self._fn.structured_input_signature[1])[0]

    def __call__(self, x):
        out = self._fn(**{self._key: x})
        return np.asarray(list(out.values())[0])


class OnnxRunner:
    """Runs an ONNX model with ONNX Runtime on the CPU.

    Args:
        path: the `.onnx` file.

    Call arguments:
        x: a float32 batch of images.

    Returns:
        The logits as a numpy array.

    Example:

    >>> OnnxRunner("out/model.onnx")(images).shape  # doctest: +SKIP
    (200, 10)
    """

    def __init__(self, path):
        import onnxruntime as ort

        self._sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        self._name = self._sess.get_inputs()[0].name

    def __call__(self, x):
        return self._sess.run(None, {self._name: np.asarray(x, np.float32)})[0]


class TFLiteRunner:
    """Runs a TFLite model with the LiteRT interpreter, one image at a time.

    Integer inputs are quantised with the model's scale and zero point and
    integer outputs dequantised, so a full-int8 model is compared in logits.

    Args:
        path: the `.tflite` file.

    Call arguments:
        x: a float32 batch of images (run one by one for a batch-1 model).

    Returns:
        The (dequantised) logits as a numpy array.

    Example:

    >>> TFLiteRunner("out/model_int8.tflite")(images).shape  # doctest: +SKIP
    (200, 10)
    """

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter

        self._interp = Interpreter(model_path=path)
        self._interp.allocate_tensors()
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]

    def _one(self, x):
        d = self._in
        if np.issubdtype(d["dtype"], np.integer):
            scale, zero = d["quantization"]
            info = np.iinfo(d["dtype"])
            x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(d["dtype"])
        self._interp.set_tensor(d["index"], x.astype(d["dtype"], copy=False))
        self._interp.invoke()
        y = self._interp.get_tensor(self._out["index"])
        if np.issubdtype(self._out["dtype"], np.integer):
            scale, zero = self._out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        batch = self._in["shape"][0]
        if batch == len(x):
            return self._one(x)
        return np.concatenate([self._one(x[i:i + 1]) for i in range(len(x))])


def compare(reference, outputs, fmt, thresholds=None):
    """Compares exported outputs with the Keras reference logits.

    Args:
        reference: Keras logits `(n, classes)`.
        outputs: the artifact's logits.
        fmt: a key of `THRESHOLDS` (e.g. `"onnx"`, `"tflite-int8"`).
        thresholds: overrides of that format's thresholds.

    Returns:
        A report dict: `max_abs_diff`, `rel_max_abs_diff`, `top1_agreement`,
        `num_images`, `thresholds` and `passed`.

    Example:

    >>> compare(np.eye(3), np.eye(3), "onnx")["passed"]
    True
    """
    reference = np.asarray(reference, np.float64)
    outputs = np.asarray(outputs, np.float64)
    if reference.shape != outputs.shape:
        raise ParityError(f"{fmt}: output shape {outputs.shape} differs from Keras's "
                          f"{reference.shape}.")
    limits = {**THRESHOLDS[fmt], **(thresholds or {})}
    max_abs = float(np.max(np.abs(reference - outputs)))
    scale = float(max(np.max(np.abs(reference)), 1e-6))
    top1 = float(np.mean(reference.argmax(-1) == outputs.argmax(-1)))
    report = {
        "format": fmt, "num_images": int(len(reference)), "max_abs_diff": max_abs,
        "rel_max_abs_diff": max_abs / scale, "top1_agreement": top1, "thresholds": limits,
    }
    report["passed"] = bool(report["rel_max_abs_diff"] <= limits["rel_max_abs_diff"]
                            and top1 >= limits["top1_agreement"])
    return report
