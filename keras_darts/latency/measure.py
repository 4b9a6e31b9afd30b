"""Measuring latency tables with the TFLite interpreter (LiteRT), one unit at a time.

Every unit (`keras_darts.latency.Unit`) becomes a batch-1 Keras model of
the very layers the stand-alone network uses (`build_op`, `ReLUConvBN`,
`FactorizedReduce`, `ImageNetStem` ...), is converted to TFLite (float32, and
full-integer int8) and timed: `invoke()` only, after warm-up runs, at a fixed
thread count; the table keeps the median and the interquartile range.

A unit is timed (and calibrated) on what it reads inside a network: tensors
of that shape from a network of the layout (`reference_activations`), not on
random noise. Some kernels take time that depends on the values they read:
TFLite's int8 ReLU, which XNNPACK does not take, costs 1.5x as much on
average (up to 1.9x) on independent random values as on a network's
activations of the same shape, or on those activations shuffled: the order of
the values counts, most likely through the CPU's branch predictor
(`benchmarks/latency_inputs.py`).
"""

import os
import platform
import time
import warnings

import numpy as np

from keras_darts.latency.table import MARKS, PRECISIONS, LatencyTable, LatencyTableError
from keras_darts.latency.units import FIXED_UNITS, PAIR, Unit, is_free


def device_description(threads):
    """What a table was measured on: CPU model, cores, OS, library versions, threads.

    Args:
        threads: the interpreter's thread count.

    Returns:
        A JSON-serialisable dict.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import tensorflow as tf

    try:
        from importlib.metadata import version

        litert = version("ai-edge-litert")
    except Exception:  # not installed as a distribution
        litert = None
    return {"cpu": cpu, "cores": os.cpu_count(), "machine": platform.machine(),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "litert": litert, "runtime": "LiteRT interpreter (XNNPACK for float32)",
            "threads": threads}


def unit_model(unit):
    """A batch-1 Keras model of one unit, built from the network's own layers.

    Args:
        unit: a `Unit`.

    Returns:
        A `keras.Model` (in inference mode: BatchNorm uses its statistics).

    Raises:
        ValueError: for an unknown op (naming it).
    """
    import keras
    from keras import layers

    from keras_darts.search_space.nb201 import ResidualReduction
    from keras_darts.search_space.ops import FactorizedReduce, ReLUConvBN, batch_norm, build_op
    from keras_darts.search_space.supernet import ImageNetStem

    c = unit.channels
    inputs = [keras.Input(tuple(unit.input), batch_size=1, name=f"x{i}")
              for i in range(unit.inputs)]
    x = inputs[0]
    if unit.op == "add":
        out = layers.Add()(inputs)
    elif unit.op == "relu":
        out = layers.ReLU()(x)
    elif unit.op == "concat":
        out = layers.Concatenate()(inputs)
    elif unit.op == "stem_conv":
        out = batch_norm(True)(layers.Conv2D(c, 3, padding="same", use_bias=False)(x),
                               training=False)
    elif unit.op == "stem_imagenet":
        out = list(ImageNetStem(c)(x, training=False))
    elif unit.op == "preprocess_conv":
        out = ReLUConvBN(c, 1, 1, 0, True)(x, training=False)
    elif unit.op == "preprocess_reduce":
        out = FactorizedReduce(c, True)(x, training=False)
    elif unit.op == "head":
        out = layers.Dense(c)(layers.GlobalAveragePooling2D()(x))
    elif unit.op == "nb201_reduction":
        out = ResidualReduction(c)(x, training=False)
    elif unit.op == "nb201_head":
        x = layers.ReLU()(batch_norm(True)(x, training=False))
        out = layers.Dense(c)(layers.GlobalAveragePooling2D()(x))
    elif unit.op.endswith(PAIR):
        op = unit.op[:-len(PAIR)]
        out = [build_op(op, c, unit.stride, affine=True)(x, training=False) for _ in range(2)]
    else:
        out = build_op(unit.op, c, unit.stride, affine=True)(x, training=False)
    return keras.Model(inputs, out)


def convert_tflite(model, precision="float32", seed=0, calibration=8, samples=None):
    """Converts a batch-1 Keras model to TFLite bytes, as networks are exported.

    The model is written as a batch-1 SavedModel and converted by
    `keras_darts.export.writers.tflite_converter`, the converter of
    `export_tflite`: a unit is converted as the same layers inside a network
    are.

    Args:
        model: the model (one or more inputs and outputs).
        precision: `"float32"`, or `"int8"` (full integer, int8 inputs and
            outputs, calibrated on `samples`, or else on `calibration`
            random normal inputs).
        seed: seed of the random calibration inputs.
        calibration: random calibration samples (without `samples`).
        samples: calibration data: a list of samples, each a list of
            float32 arrays, one per input (batch 1); None for random ones.

    Returns:
        The flatbuffer as bytes.
    """
    import shutil
    import tempfile

    import tensorflow as tf

    from keras_darts.export.writers import tflite_converter

    if precision not in PRECISIONS:
        raise LatencyTableError(f"Unknown precision {precision!r}; known: {list(PRECISIONS)}.")
    shapes = [(1,) + tuple(t.shape[1:]) for t in model.inputs]
    rng = np.random.default_rng(seed)

    def representative():
        if samples is not None:
            for sample in samples:
                yield [np.asarray(x, "float32").reshape(s) for x, s in zip(sample, shapes)]
            return
        for _ in range(calibration):
            yield [rng.normal(size=s).astype("float32") for s in shapes]

    source = tempfile.mkdtemp(prefix="keras_darts_unit_")
    try:
        signature = [tf.TensorSpec(s, tf.float32) for s in shapes]
        model.export(source, format="tf_saved_model", verbose=False,
                     input_signature=[signature] if len(signature) > 1 else signature)
        if precision == "float32":
            return tflite_converter(source).convert()
        return tflite_converter(source, precision, representative).convert()
    finally:
        shutil.rmtree(source, ignore_errors=True)


def _interpreter(model, threads=1, **kwargs):
    """A LiteRT interpreter of TFLite bytes or a `.tflite` path, tensors allocated."""
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(model, (bytes, bytearray)):
        interp = Interpreter(model_content=bytes(model), num_threads=threads, **kwargs)
    else:
        interp = Interpreter(model_path=str(model), num_threads=threads, **kwargs)
    interp.allocate_tensors()
    return interp


def _input_value(detail, x, rng):
    """An input tensor's value: float `x` (quantized for an integer input), or random."""
    dtype = detail["dtype"]
    if x is None:
        if np.issubdtype(dtype, np.integer):
            return rng.integers(-100, 100, size=detail["shape"]).astype(dtype)
        return rng.normal(size=detail["shape"]).astype(dtype)
    x = np.asarray(x, "float32").reshape(detail["shape"])
    if not np.issubdtype(dtype, np.integer):
        return x.astype(dtype)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)


class TFLiteTimer:
    """A TFLite model loaded once and timed as often as asked: `invoke()` at batch 1.

    Inputs are set once, before timing: `inputs` (quantized to an int8
    input's scale), or random (seeded). Each `time` call is one pass: warm-up
    runs, then timed runs. A shared machine has slow spells of seconds to
    minutes; `best` keeps the pass with the lowest median, so that units and
    networks timed at different moments are compared in the machine's
    steady state (other load only adds time).

    Args:
        model: TFLite bytes or a `.tflite` path.
        threads: the interpreter's threads.
        seed: seed of the random input.
        inputs: float32 arrays, one per input (batch 1), or None for random ones.

    Example:

    >>> timer = TFLiteTimer("model.tflite")  # doctest: +SKIP
    >>> timer.best([timer.time(20, 100) for _ in range(3)])  # doctest: +SKIP
    {'ms': 0.2, 'spread_ms': 0.004, 'runs': 100, 'passes': 3}
    """

    def __init__(self, model, threads=1, seed=0, inputs=None):
        self.interp = _interpreter(model, threads)
        details = self.interp.get_input_details()
        if inputs is None:
            inputs = [None] * len(details)
        elif len(inputs) != len(details):
            raise ValueError(f"The model has {len(details)} inputs; got {len(inputs)} arrays.")
        rng = np.random.default_rng(seed)
        for d, x in zip(details, inputs):
            self.interp.set_tensor(d["index"], _input_value(d, x, rng))

    def time(self, warmup=20, runs=100):
        """One pass; returns `(median ms, interquartile range ms, runs)`."""
        for _ in range(warmup):
            self.interp.invoke()
        times = np.empty(runs)
        for i in range(runs):
            t = time.perf_counter()
            self.interp.invoke()
            times[i] = time.perf_counter() - t
        q1, med, q3 = np.percentile(times, [25, 50, 75]) * 1e3
        return float(med), float(q3 - q1), runs

    @staticmethod
    def best(passes):
        """The pass with the lowest median, as a table entry (`ms`, `spread_ms`, ...)."""
        med, spread, runs = min(passes)
        return {"ms": round(med, 5), "spread_ms": round(spread, 5), "runs": runs,
                "passes": len(passes)}


def time_tflite(model, threads=1, warmup=20, runs=100, seed=0, passes=1):
    """Times `invoke()` of a TFLite model at batch 1 (inputs set once, before).

    Args:
        model: TFLite bytes or a `.tflite` path.
        threads: the interpreter's threads.
        warmup: untimed runs first, in every pass.
        runs: timed runs per pass.
        seed: seed of the random input.
        passes: passes; the one with the lowest median is kept (`TFLiteTimer`).

    Returns:
        `{"ms": median, "spread_ms": interquartile range, "runs": runs, "passes": passes}`.

    Example:

    >>> time_tflite("runs/demo/export/model_float32.tflite")["ms"]  # doctest: +SKIP
    0.201
    """
    timer = TFLiteTimer(model, threads, seed)
    return timer.best([timer.time(warmup, runs) for _ in range(passes)])


FUSES_ACTIVATION = ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "FULLY_CONNECTED")
"""TFLite ops into which the converter fuses a following ReLU."""


def graph_ends(model):
    """How a unit's TFLite graph begins and ends, for what networks of units share.

    Args:
        model: TFLite bytes.

    Returns:
        `{"relu_first": the input is read by one op, a ReLU (ops reading one
        tensor share it; the op computing the tensor may fuse it), "fusable_output":
        the op computing the output fuses a following ReLU (`FUSES_ACTIVATION`)}`.
        A unit that also reads its input unrectified (NAS-Bench-201's residual
        reduction block: its shortcut) is not `relu_first`: the tensor must
        exist before the ReLU, so the ReLU cannot be fused into its producer.
    """
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=bytes(model))
    ops = interp._get_ops_details()
    inputs = {d["index"] for d in interp.get_input_details()}
    outputs = {d["index"] for d in interp.get_output_details()}
    last = [op for op in ops if set(op["outputs"]) & outputs]
    readers = [op for op in ops if set(op["inputs"]) & inputs]
    return {"relu_first": len(readers) == 1 and readers[0]["op_name"] == "RELU"
            and set(readers[0]["inputs"]) <= inputs,
            "fusable_output": bool(last) and all(op["op_name"] in FUSES_ACTIVATION
                                                 for op in last)}


def reference_activations(layout, space, seed=0):
    """What a network of `layout` computes, by tensor shape: the inputs units are timed on.

    A network of the layout (a random genotype of the space, weights
    initialized after seeding Python, NumPy and Keras with `seed`) is
    converted to float32 TFLite and run once on the random input that
    `TFLiteTimer` gives a network (as `measure_network` times it). Every
    4-D tensor it computes (and its input image) is kept under its shape
    `(height, width, channels)`, tensors that a ReLU reads first (what ops
    starting with a ReLU read), ReLU outputs left out (a ReLU's output has no
    negative values, unlike what a ReLU reads).

    Args:
        layout: a `NetworkLayout`.
        space: a search-space name or `SearchSpace` (of the layout's family).
        seed: seed of the genotype and of the input.

    Returns:
        `{shape: [float32 arrays of shape (1, *shape)]}`.

    Example:

    >>> acts = reference_activations(layout, "darts")  # doctest: +SKIP
    >>> acts[(28, 28, 8)][0].shape  # doctest: +SKIP
    (1, 28, 28, 8)
    """
    from ai_edge_litert.interpreter import OpResolverType

    from keras_darts.baseline import sample_genotypes
    from keras_darts.networks.builders import inference_model
    from keras_darts.utils.seed import set_seed

    extra = {} if layout.family == "nb201" else dict(steps=layout.steps,
                                                     multiplier=layout.multiplier)
    genotype = sample_genotypes(space, 1, seed=seed, **extra)[0]
    set_seed(seed, deterministic=False)  # the network's weights
    model = inference_model(layout.build(genotype))
    with warnings.catch_warnings():  # keeping every tensor is what this is for
        warnings.filterwarnings("ignore", "Warning: Enabling `experimental_preserve_all_tensors")
        interp = _interpreter(convert_tflite(model), experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=(
                                  OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    (image,) = interp.get_input_details()
    interp.set_tensor(image["index"], _input_value(image, None, np.random.default_rng(seed)))
    interp.invoke()
    ops = interp._get_ops_details()
    relu_in = {op["inputs"][0] for op in ops if op["op_name"] == "RELU"}
    relu_out = {t for op in ops if op["op_name"] == "RELU" for t in op["outputs"]}
    computed = {t for op in ops for t in op["outputs"]} - relu_out
    found = {}
    for t in interp.get_tensor_details():
        shape = tuple(int(d) for d in t["shape"])
        if (t["index"] in computed or t["index"] == image["index"]) and len(shape) == 4 \
                and shape[0] == 1:
            found.setdefault(shape[1:], []).append((t["index"] not in relu_in, t["index"]))
    return {shape: [interp.get_tensor(i).astype("float32") for _, i in sorted(tensors)]
            for shape, tensors in found.items()}


def unit_inputs(unit, activations):
    """The arrays a unit is timed on: tensors of its input shape (distinct ones for each
    input of a sum or a concatenation), or None where `activations` has none."""
    tensors = activations.get(tuple(unit.input))
    if not tensors:
        return None
    return [tensors[i % len(tensors)] for i in range(unit.inputs)]


def measure_network(model, precisions=PRECISIONS, threads=1, warmup=20, runs=100, passes=3,
                    seed=0):
    """Measured latency of a network as deployed: exported to TFLite, then timed as units are.

    The deployable network (auxiliary head excluded) goes through
    `keras_darts.export.export_tflite` (float32; int8 calibrated on random
    images, its parity not required) into temporary files, each timed by
    `time_tflite`.

    Args:
        model: a Keras network (e.g. from `build_network`).
        precisions: any of `"float32"`, `"int8"`.
        threads, warmup, runs, passes: as `time_tflite` (the precisions' passes
            alternate).
        seed: seed of the random images.

    Returns:
        `{precision: {"ms": ..., "spread_ms": ..., "runs": ...}}`.

    Example:

    >>> measure_network(layout.build(genotype))  # doctest: +SKIP
    {'float32': {'ms': 0.2, 'spread_ms': 0.004, 'runs': 100}, 'int8': {...}}
    """
    import tempfile

    from keras_darts.export import export_tflite
    from keras_darts.networks.builders import inference_model

    deploy = inference_model(model)
    shape = tuple(deploy.inputs[0].shape[1:])
    images = np.random.default_rng(seed).normal(size=(8,) + shape).astype("float32")
    timers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for p in precisions:
            path = os.path.join(tmp, f"model_{p}.tflite")
            if p == "int8":
                export_tflite(deploy, path, images, "int8", images,
                              thresholds={"rel_max_abs_diff": float("inf"),
                                          "top1_agreement": 0.0})
            elif p == "float32":
                export_tflite(deploy, path, images)
            else:
                raise ValueError(f"Unknown precision {p!r}; known: {list(PRECISIONS)}.")
            timers[p] = (TFLiteTimer(path, threads, seed), [])
        for _ in range(passes):
            for timer, results in timers.values():
                results.append(timer.time(warmup, runs))
    return {p: TFLiteTimer.best(results) for p, (_, results) in timers.items()}


INPUTS = ("activations: tensors of the unit's input shape computed by a network of the "
          "layout (a random genotype, seed 0) on a random image (reference_activations); "
          "random normal where the network has no tensor of that shape")
"""What a table's units are timed on (its `settings["inputs"]`)."""


def _settings(threads, warmup, runs, passes):
    return {"threads": threads, "warmup": warmup, "runs": runs, "passes": passes, "batch": 1,
            "timing": "invoke() only; median and interquartile range of the pass with the "
                      "lowest median",
            "int8": "full integer (int8 inputs and outputs), calibrated on the timed input",
            "inputs": INPUTS, "marks": MARKS}


def mark_units(table, progress=None):
    """Sets every entry's graph marks (`graph_ends`) from its unit's converted graph, in place.

    The marks (how a unit's TFLite graph begins and ends) are properties of
    the converted graph, not of the device: this gives them to a table
    imported from times taken elsewhere (`LatencyTable.from_csv`), and brings
    a table measured under older marks (`settings["marks"]` below `MARKS`) up
    to date without timing anything again. Each unit is converted, not timed.

    Args:
        table: a `LatencyTable` (changed in place; `settings["marks"]` set).
        progress: a callable `progress(done, total, key)`, or None.

    Returns:
        The table.

    Example:

    >>> mark_units(LatencyTable.load("old.json")).save("old.json")  # doctest: +SKIP
    """
    keys = sorted({key for units in table.entries.values() for key in units})
    for i, key in enumerate(keys):
        model = unit_model(Unit.from_key(key))
        for p, units in table.entries.items():
            if key in units:
                units[key].update(graph_ends(convert_tflite(model, p)))
        if progress:
            progress(i + 1, len(keys), key)
    table.settings["marks"] = MARKS
    return table


def measure_table(layout, space, primitives=None, precisions=PRECISIONS, threads=1, warmup=20,
                  runs=100, passes=3, path=None, progress=None):
    """Measures a latency table: every unit a network of `layout` over a space's ops can have.

    Each unit is calibrated and timed on tensors of its input shape from a
    network of the layout (`reference_activations`; `settings["inputs"]`).
    With `path`, the table is written after every unit (atomically), and a
    table already there for the same layout, space and settings is continued:
    units it holds are not measured again.

    Args:
        layout: a `NetworkLayout`.
        space: a search-space name or `SearchSpace` (its family must be the layout's).
        primitives: the candidate ops (default the space's).
        precisions: any of `"float32"`, `"int8"`.
        threads: interpreter threads (fixed for every unit).
        warmup: untimed runs per unit.
        runs: timed runs per unit and pass.
        passes: passes over every unit measured in this call, spread over the
            whole measurement (the first as each unit is converted, the others
            after all are); each unit keeps its pass with the lowest median,
            so that a slow spell of the machine does not stay in the table.
        path: where to write the table as it fills, or None.
        progress: a callable `progress(done, total, key)`, or None.

    Returns:
        The `LatencyTable`.

    Raises:
        ValueError: for a space of another family, an unknown op or precision.

    Example:

    >>> layout = NetworkLayout("nb201", (28, 28, 1), 10, channels=8, cells_per_stage=1)
    >>> table = measure_table(layout, "nb201", path="nb201_small.json")  # doctest: +SKIP
    """
    from keras_darts.search_space.spaces import SearchSpace, get_search_space

    if not isinstance(space, SearchSpace):
        space = get_search_space(space)
    if space.family != layout.family:
        raise ValueError(f"Space {space.name!r} has {space.family} cells; the layout is a "
                         f"{layout.family}-family network.")
    primitives = tuple(primitives or space.primitives)
    for p in precisions:
        if p not in PRECISIONS:
            raise ValueError(f"Unknown precision {p!r}; known: {list(PRECISIONS)}.")
    for name in ("threads", "runs", "passes"):
        v = locals()[name]
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")
    settings = _settings(threads, warmup, runs, passes)
    device = device_description(threads)
    table = LatencyTable(layout, space.name, primitives, {p: {} for p in precisions}, device,
                         settings)
    if path and os.path.exists(path):
        with warnings.catch_warnings():  # older marks are brought up to date below
            warnings.simplefilter("ignore", UserWarning)
            old = LatencyTable.load(path)
        same = {k: v for k, v in old.settings.items() if k != "marks"} == \
            {k: v for k, v in settings.items() if k != "marks"}
        if (old.layout == layout and old.space == space.name and same
                and old.primitives == primitives):
            if old.marks_outdated:  # the times stay good
                mark_units(old)
            for p in precisions:
                table.entries[p].update(old.entries.get(p, {}))
    units = layout.candidate_units(primitives)
    total = len(units) * len(precisions)
    done = 0
    timers = {}  # (precision, key): (timer, passes so far)
    activations = None
    for unit in units:
        todo = [p for p in precisions if unit.key not in table.entries[p]]
        done += len(precisions) - len(todo)
        if not todo:
            continue
        if activations is None:
            activations = reference_activations(layout, space)
        model = unit_model(unit)
        inputs = unit_inputs(unit, activations)
        for p in todo:
            flatbuffer = convert_tflite(model, p, samples=inputs and [inputs])
            timer = TFLiteTimer(flatbuffer, threads, inputs=inputs)
            timers[(p, unit.key)] = (timer, [timer.time(warmup, runs)])
            table.entries[p][unit.key] = {**TFLiteTimer.best(timers[(p, unit.key)][1]),
                                          **graph_ends(flatbuffer)}
            done += 1
            if path:
                table.save(path)
            if progress:
                progress(done, total, f"{unit.key} {p}")
    for i in range(1, passes if timers else 1):
        for (p, key), (timer, results) in timers.items():
            results.append(timer.time(warmup, runs))
            table.entries[p][key].update(TFLiteTimer.best(results))
        if path:
            table.save(path)
        if progress:
            progress(done, total, f"pass {i + 1} of {passes}")
    return table


def write_unit_models(layout, space, directory, precisions=PRECISIONS, primitives=None):
    """Writes every unit of a table as `<precision>/<unit key>.tflite`, to time elsewhere.

    Time them on the target device (e.g. TFLite's `benchmark_model` on a
    phone) and import the times with `LatencyTable.from_csv`.

    Args:
        layout: a `NetworkLayout`.
        space: a search-space name or `SearchSpace`.
        directory: where to write (created).
        precisions: any of `"float32"`, `"int8"`.
        primitives: the candidate ops (default the space's).

    Returns:
        The list of files written.
    """
    from keras_darts.search_space.spaces import SearchSpace, get_search_space
    from keras_darts.utils.io import atomic_path

    if not isinstance(space, SearchSpace):
        space = get_search_space(space)
    files = []
    for unit in layout.candidate_units(tuple(primitives or space.primitives)):
        model = unit_model(unit)
        for p in precisions:
            path = os.path.join(directory, p, unit.key + ".tflite")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    f.write(convert_tflite(model, p))
            files.append(path)
    return files


__all__ = ["FIXED_UNITS", "MARKS", "TFLiteTimer", "convert_tflite", "device_description",
           "is_free", "graph_ends", "mark_units", "measure_network", "measure_table",
           "reference_activations", "time_tflite", "unit_inputs", "unit_model",
           "write_unit_models"]
