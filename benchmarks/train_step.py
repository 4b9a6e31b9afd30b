"""Benchmark: the stand-alone training step of derived networks against plain Conv2D networks.

Each network is built and compiled as `keras-darts train` builds it (`CoupledSGD`, our
cross-entropy, determinism on) and trained on one in-memory batch repeatedly: the median step
(after the traced first one), images/s and milliseconds per million multiply-adds (of one
image's forward pass) say what the network costs on this CPU, apart from the input pipeline.
Each derived network is paired with a plain Conv2D network of about the same multiply-adds
(three stages of two 3x3 conv-BN-ReLU at 1x, 2x, 4x a width, then pooling and a classifier).
Variants take the DARTS network apart (no auxiliary head, no drop-path, both) to say where its
time goes, and the input pipeline is timed alone (batches/s with and without augmentation).
Each case runs in a fresh process, --repeats times, the cases taking turns; the median of
each timing is reported. Results go to --out after every run (resumable).

Usage:
    python benchmarks/train_step.py --out benchmarks/results/train_step_2cpu.json
    python benchmarks/train_step.py --cases nb201-derived plain-matched-nb201 --steps 10
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NB201_CELL = ("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
              "nor_conv_3x3~2|")  # the demo's cell (Single-DARTS, nb201-small, seed 0)
INPUT = (28, 28, 1)
# name -> (kind, settings)
CASES = {
    # The demo's derived network: nb201-small sizes (C=8, one cell per stage).
    "nb201-derived": ("nb201", {}),
    # DARTS_V2 at the `small` training preset: 6 cells, C=8, auxiliary head, drop-path.
    "darts-small": ("darts", {"auxiliary": True, "drop_path": True}),
    "darts-small-no-aux": ("darts", {"auxiliary": False, "drop_path": True}),
    "darts-small-no-droppath": ("darts", {"auxiliary": True, "drop_path": False}),
    "darts-small-bare": ("darts", {"auxiliary": False, "drop_path": False}),
    # The same network at 2x and 4x the width (the DARTS paper's CIFAR network has C=36).
    "darts-c16-bare": ("darts", {"auxiliary": False, "drop_path": False, "channels": 16}),
    "darts-c32-bare": ("darts", {"auxiliary": False, "drop_path": False, "channels": 32}),
    "plain-cnn": ("reference", {"name": "plain-cnn"}),
    "resnet20": ("reference", {"name": "resnet20"}),
    # Plain Conv2D networks of the multiply-adds of a derived one.
    "plain-matched-nb201": ("plain", {"match": "nb201-derived"}),
    "plain-matched-darts-small": ("plain", {"match": "darts-small-bare"}),
    "plain-matched-darts-c16": ("plain", {"match": "darts-c16-bare"}),
    "plain-matched-darts-c32": ("plain", {"match": "darts-c32-bare"}),
    # ... and of the DARTS ops' kernels: depthwise-separable and dilated depthwise blocks.
    "plain-sep-matched-darts-small": ("plain", {"match": "darts-small-bare", "block": "sep"}),
    "plain-dilsep-matched-darts-small": ("plain", {"match": "darts-small-bare",
                                                   "block": "dilsep"}),
    # The input pipeline alone (`keras_darts.data.train_data`).
    "pipeline-augmented": ("pipeline", {"augmentation": True}),
    "pipeline-plain": ("pipeline", {"augmentation": False}),
}


def _plain(width, num_classes=10, block="conv"):
    """Three stages of two blocks at 1x, 2x, 4x `width`, then pooling and a classifier.

    `block`: "conv" (3x3 Conv2D-BN-ReLU), "sep" (ReLU, 3x3 depthwise, 1x1 pointwise, BN: the
    DARTS separable convolution's half) or "dilsep" (the same with a dilation of 2: DARTS's
    dilated convolution). Plain Keras layers only, nothing of ours.
    """
    import keras

    inputs = keras.Input(INPUT)
    x = inputs
    for stage, mult in enumerate((1, 2, 4)):
        for i in range(2):
            stride = 2 if stage and not i else 1
            if block == "conv":
                x = keras.layers.Conv2D(width * mult, 3, strides=stride, padding="same",
                                        use_bias=False)(x)
                x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
            else:
                dilation = 2 if block == "dilsep" else 1
                x = keras.layers.ReLU()(x)
                x = keras.layers.DepthwiseConv2D(3, strides=1 if dilation > 1 else stride,
                                                 dilation_rate=dilation, padding="same",
                                                 use_bias=False)(x)
                if dilation > 1 and stride > 1:  # Keras refuses dilation with stride
                    x = keras.layers.AveragePooling2D(stride, padding="same")(x)
                x = keras.layers.Conv2D(width * mult, 1, use_bias=False)(x)
                x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(x), name=f"plain_{block}_{width}")


def _build(kind, settings):
    from keras_darts.networks import build_network, build_reference_network
    from keras_darts.profiling import count_macs

    if kind == "nb201":
        return build_network(NB201_CELL, channels=8, cells_per_stage=1, input_shape=INPUT,
                             auxiliary=False, drop_path=False)
    if kind == "darts":
        return build_network("DARTS_V2", layers=6, input_shape=INPUT, seed=0,
                             **{"channels": 8, **settings})
    if kind == "reference":
        return build_reference_network(settings["name"], 10, INPUT)
    target = count_macs(_build(*CASES[settings["match"]]))
    block = settings.get("block", "conv")
    lo, hi = 1, 512  # multiply-adds grow with the width: bisect for the closest
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count_macs(_plain(mid, block=block)) < target else (lo, mid)
    return min((_plain(lo, block=block), _plain(hi, block=block)),
               key=lambda m: abs(count_macs(m) - target))


def _child(name, steps, batch):
    import numpy as np
    import tensorflow as tf

    from keras_darts.utils import set_seed

    set_seed(0, True)
    kind, settings = CASES[name]
    if kind == "pipeline":
        from keras_darts.data import train_data

        data = train_data("fashion_mnist_subset", batch, seed=0,
                          augmentation=settings["augmentation"], max_train=5000)
        it = iter(data.train)
        next(it)
        start = time.perf_counter()
        for _ in range(steps):
            next(it)
        dt = (time.perf_counter() - start) / steps
        return {"ms_per_batch": round(1e3 * dt, 2), "images_per_s": round(batch / dt, 1)}

    from keras_darts.optimizers import CoupledSGD
    from keras_darts.profiling import profile
    from keras_darts.training import SparseCrossentropy

    model = _build(kind, settings)
    from keras_darts.networks import DropPath

    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, DropPath):
            layer.rate.assign(0.1)  # the `small` preset's final rate
    aux = len(model.outputs) > 1
    loss = SparseCrossentropy()
    model.compile(optimizer=CoupledSGD(0.05, momentum=0.9, coupled_weight_decay=3e-4,
                                       global_clipnorm=5.0),
                  loss=[loss, loss] if aux else loss,
                  loss_weights=[1.0, 0.4] if aux else None, jit_compile=False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch,) + INPUT).astype("float32")
    y = rng.integers(0, 10, batch)
    targets = (y, y) if aux else y
    start = time.perf_counter()
    model.train_on_batch(x, targets)
    first = time.perf_counter() - start
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, targets)
        times.append(time.perf_counter() - start)
    step = float(np.median(times))
    p = profile(model)
    return {"model": model.name, "params_m": p["params_m"], "macs_m": p["macs_m"],
            "first_step_s": round(first, 2), "median_step_ms": round(1e3 * step, 2),
            "images_per_s": round(batch / step, 1),
            "ms_per_mmac": round(1e3 * step / p["macs_m"], 2),
            "tf": tf.__version__}


def _median_of(runs):
    """Each timing's median over the runs; sizes and labels from the first run."""
    import statistics

    timed = ("first_step_s", "median_step_ms", "images_per_s", "ms_per_mmac", "ms_per_batch")
    summary = {k: v for k, v in runs[0].items() if k not in timed}
    for key in timed:
        if key in runs[0]:
            summary[key] = round(statistics.median(r[key] for r in runs), 2)
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5,
                        help="fresh processes per case, taking turns; the median is reported")
    parser.add_argument("--out", help="JSON results file (resumable)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.steps, args.batch)))
        return 0
    doc = {"benchmark": "train_step", "batch": args.batch, "steps": args.steps,
           "repeats": args.repeats, "cases": {},
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    if args.out and os.path.isfile(args.out):
        with open(args.out, encoding="utf-8") as f:
            doc = json.load(f)
    # Cases take turns (A B C, A B C, ...), so a slow spell of a shared VM falls on all of
    # them; each case reports the median of its repeats, its runs kept beside it.
    for repeat in range(args.repeats):
        for name in args.cases:
            runs = doc["cases"].setdefault(name, {"runs": []})["runs"]
            if len(runs) > repeat:
                continue
            out = subprocess.run([sys.executable, __file__, "--child", name, "--steps",
                                  str(args.steps), "--batch", str(args.batch)],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                raise RuntimeError(f"{name}:\n{out.stderr[-3000:]}")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            doc["cases"][name].update(_median_of(runs))
            print(name, repeat, json.dumps(runs[-1]), flush=True)
            if args.out:
                with open(args.out + ".tmp", "w", encoding="utf-8") as f:
                    json.dump(doc, f, indent=1)
                os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
