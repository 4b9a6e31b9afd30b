"""Profiling: parameters, multiply-adds and measured inference latency."""

import time

import numpy as np


def count_macs(model, input_shape=None):
    """Multiply-adds (millions) of one image's forward pass, as the papers' tables count them.

    The inference graph is traced at batch 1 and every convolution,
    depthwise convolution and matrix product is counted at its output
    resolution (`H_out * W_out * k_h * k_w * C_in * C_out` for a convolution,
    `... * C_in * multiplier` for a depthwise one, `K * N` for a dense layer).
    BN (folded at deployment), activations, pooling and additions are not
    counted.

    Args:
        model: a Keras model (use `inference_model()` to exclude an auxiliary head).
        input_shape: `(height, width, channels)`; default the model's.

    Returns:
        Multiply-adds in millions.

    Example:

    >>> round(count_macs(inference_model(build_network("DARTS_V2"))))  # doctest: +SKIP
    528
    """
    import tensorflow as tf

    shape = tuple(input_shape or model.inputs[0].shape[1:])
    fn = tf.function(lambda x: model(x, training=False))
    graph = fn.get_concrete_function(tf.TensorSpec((1,) + shape, tf.float32)).graph
    macs = 0
    for op in graph.get_operations():
        if op.type in ("Conv2D", "DepthwiseConv2dNative"):
            # Traced at batch 1, so the batch dimension is 1 except where TF runs a dilated
            # depthwise convolution on a SpaceToBatch view (rate**2 smaller images).
            out = op.outputs[0].shape.as_list()
            kh, kw, cin, cout = op.inputs[1].shape.as_list()
            macs += out[0] * out[1] * out[2] * kh * kw * cin * cout
        elif op.type in ("MatMul", "BatchMatMulV2"):
            a, b = op.inputs[0].shape.as_list(), op.inputs[1].shape.as_list()
            k = a[-2] if op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x") else a[-1]
            n = b[-2] if op.get_attr("transpose_b" if op.type == "MatMul" else "adj_y") else b[-1]
            m = int(np.prod(op.outputs[0].shape.as_list()[:-1]))
            macs += m * k * n
    return macs / 1e6


def profile(model, input_shape=None):
    """Parameters (M, trainable, as the papers count) and multiply-adds (M) of a model.

    Args:
        model: a Keras model; an auxiliary head is excluded automatically for
            networks from `build_network`.
        input_shape: `(height, width, channels)`; default the model's.

    Returns:
        `{"params_m": float, "macs_m": float, "input_shape": list}`.

    Example:

    >>> profile(build_network("DARTS_V2"))["params_m"]  # doctest: +SKIP
    3.349
    """
    from keras_darts.networks.builders import count_params, inference_model

    deploy = inference_model(model)
    shape = tuple(input_shape or deploy.inputs[0].shape[1:])
    return {"params_m": round(count_params(deploy), 4), "macs_m": round(count_macs(deploy, shape), 2),
            "input_shape": list(shape)}


def _time(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def measure_latency(model=None, onnx_path=None, tflite_paths=(), input_shape=None, runs=30,
                    warmup=5, seed=0):
    """Measured per-image inference latency (ms, median of `runs`) at batch 1 on this CPU.

    Args:
        model: a Keras model (timed as a traced `tf.function`), or None.
        onnx_path: an ONNX file to time with ONNX Runtime, or None.
        tflite_paths: `{label: path}` (or a list of paths) of TFLite files to
            time with the LiteRT interpreter (int8 inputs are quantised first).
        input_shape: `(height, width, channels)`.
        runs: timed runs.
        warmup: untimed runs first.
        seed: seed of the random input.

    Returns:
        `{"keras_ms": ..., "onnxruntime_ms": ..., "tflite_<label>_ms": ...}` for
        what was given.

    Example:

    >>> measure_latency(deploy, onnx_path="model.onnx")  # doctest: +SKIP
    """
    out = {}
    rng = np.random.default_rng(seed)
    if input_shape is None and model is not None:
        input_shape = tuple(model.inputs[0].shape[1:])
    x = rng.normal(size=(1,) + tuple(input_shape)).astype("float32")
    if model is not None:
        import tensorflow as tf

        fn = tf.function(lambda t: model(t, training=False))
        xt = tf.constant(x)
        out["keras_ms"] = round(_time(lambda: fn(xt).numpy(), warmup, runs), 3)
    if onnx_path:
        import onnxruntime as ort

        sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        out["onnxruntime_ms"] = round(_time(lambda: sess.run(None, {name: x}), warmup, runs), 3)
    if not isinstance(tflite_paths, dict):
        tflite_paths = {str(i): p for i, p in enumerate(tflite_paths)}
    for label, path in tflite_paths.items():
        from keras_darts.export.verify import TFLiteRunner

        runner = TFLiteRunner(path)
        out[f"tflite_{label}_ms"] = round(_time(lambda: runner(x), warmup, runs), 3)
    return out


RUNTIMES = ("keras", "onnxruntime", "tflite_float32", "tflite_int8")


def export_latency(model, runtimes=("tflite_float32",), runs=50, warmup=10):
    """Per-image latency (ms, median) of a model as deployed, batch 1, this CPU.

    The deployable network (auxiliary head excluded) is exported to
    temporary files for the runtimes that need one (ONNX; TFLite float32 or
    int8, checked against Keras as `export_tflite` checks; int8 calibrated on
    random images, so its parity is not required), then timed
    (`measure_latency`).

    Args:
        model: a Keras model.
        runtimes: any of `"keras"` (a traced `tf.function`), `"onnxruntime"`,
            `"tflite_float32"`, `"tflite_int8"`.
        runs: timed runs.
        warmup: untimed runs first.

    Returns:
        `{"<runtime>_ms": milliseconds per image}` for each runtime asked for.

    Raises:
        ValueError: for an unknown runtime.

    Example:

    >>> export_latency(keras.models.load_model("runs/demo/train/model.keras"))  # doctest: +SKIP
    {'tflite_float32_ms': 0.41}
    """
    import os
    import tempfile

    from keras_darts.export import export_onnx, export_tflite
    from keras_darts.networks.builders import inference_model

    unknown = [r for r in runtimes if r not in RUNTIMES]
    if unknown:
        raise ValueError(f"Unknown runtime {unknown[0]!r}; expected one of {list(RUNTIMES)}.")
    deploy = inference_model(model)
    shape = tuple(deploy.inputs[0].shape[1:])
    images = np.random.default_rng(0).normal(size=(8,) + shape).astype("float32")
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, tflite = None, {}
        if "onnxruntime" in runtimes:
            onnx_path = os.path.join(tmp, "model.onnx")
            export_onnx(deploy, onnx_path, images)
        for runtime in runtimes:
            if runtime.startswith("tflite_"):
                kind = runtime[len("tflite_"):]
                path = os.path.join(tmp, f"model_{kind}.tflite")
                if kind == "int8":
                    export_tflite(deploy, path, images, "int8", images,
                                  thresholds={"rel_max_abs_diff": 1.0, "top1_agreement": 0.0})
                else:
                    export_tflite(deploy, path, images)
                tflite[kind] = path
        return measure_latency(deploy if "keras" in runtimes else None, onnx_path, tflite,
                               shape, runs=runs, warmup=warmup)

