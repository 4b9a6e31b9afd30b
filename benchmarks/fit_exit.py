"""Benchmark: how long `fit()` takes to return after its last epoch, with and without tf.data's autotuner.

A stand-alone training (DARTS_V2 at the `small` training preset, the embedded dataset, a
few epochs of about 10 s on 2 cores) runs in a fresh process; the benchmark records the
seconds between the last `on_train_end` callback and `fit()` returning, when the training
stream's iterator is deleted. With the autotuner on (tf.data's default), deleting the
iterator waits for the autotuner's background thread to finish its current pass;
`keras_darts.data.pipeline.prefetched` turns it off. Each mode runs --repeats times, the
modes taking turns; every run's figure goes to --out as it finishes (resumable).

Usage:
    python benchmarks/fit_exit.py --out benchmarks/results/fit_exit_2cpu.json
    python benchmarks/fit_exit.py --repeats 2 --epochs 3 --out /tmp/fit_exit.json
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("autotune-off", "autotune-on")


def child(mode, epochs, seed):
    """One training in this process; prints its timings as one JSON line."""
    import keras
    import tensorflow as tf

    from keras_darts.architecture.genotype import get_genotype
    from keras_darts.data import pipeline, train_data
    from keras_darts.networks import build_network
    from keras_darts.optimizers import CoupledSGD
    from keras_darts.training import TrainConfig, SparseCrossentropy
    from keras_darts.utils import set_seed

    if mode == "autotune-on":  # tf.data's default: what `prefetched` did before
        pipeline.prefetched = lambda ds: ds.prefetch(tf.data.AUTOTUNE)
    cfg = TrainConfig.from_preset("small", genotype="DARTS_V2", seed=seed)
    set_seed(seed)
    data = train_data(cfg.dataset, cfg.batch_size, seed=seed, augmentation=cfg.augmentation,
                      max_train=cfg.max_train)
    model = build_network(get_genotype(cfg.genotype), num_classes=data.info.num_classes,
                          layers=cfg.layers, channels=cfg.channels,
                          input_shape=data.info.image_shape, stem=cfg.stem, auxiliary=False,
                          drop_path=False, seed=seed)
    model.compile(optimizer=CoupledSGD(cfg.learning_rate, momentum=cfg.momentum),
                  loss=SparseCrossentropy(), metrics=["accuracy"], jit_compile=False)
    marks = {}

    class Marks(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            marks["last_epoch_end"] = time.perf_counter()

        def on_train_end(self, logs=None):
            marks["train_end"] = time.perf_counter()

    start = time.perf_counter()
    model.fit(data.train_from(0, 0, epochs=epochs), epochs=epochs,
              steps_per_epoch=data.steps_per_epoch, validation_data=data.validation,
              callbacks=[Marks()], verbose=0)
    returned = time.perf_counter()
    print(json.dumps({"fit_s": round(returned - start, 2),
                      "exit_s": round(returned - marks["train_end"], 3),
                      "after_last_epoch_s": round(returned - marks["last_epoch_end"], 3)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.epochs, args.seed)
    result = {"benchmark": "fit_exit", "epochs": args.epochs,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "runs": []}
    if os.path.exists(args.out):
        with open(args.out) as f:
            result["runs"] = json.load(f).get("runs", [])
    for repeat in range(args.repeats):
        for mode in MODES:
            if any(r["mode"] == mode and r["repeat"] == repeat for r in result["runs"]):
                continue
            proc = subprocess.run([sys.executable, __file__, "--out", args.out, "--child", mode,
                                   "--epochs", str(args.epochs), "--seed", str(args.seed)],
                                  capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": ROOT,
                                       "TF_CPP_MIN_LOG_LEVEL": "2"})
            if proc.returncode:
                sys.exit(f"{mode} failed:\n{proc.stderr[-3000:]}")
            run = {"mode": mode, "repeat": repeat,
                   **json.loads(proc.stdout.strip().splitlines()[-1])}
            print(run, flush=True)
            result["runs"].append(run)
            tmp = args.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump(result, f, indent=1)
            os.replace(tmp, args.out)
    for mode in MODES:
        exits = sorted(r["exit_s"] for r in result["runs"] if r["mode"] == mode)
        if exits:
            print(f"{mode}: fit() returned {exits[len(exits) // 2]:.2f} s (median) after "
                  f"on_train_end, max {exits[-1]:.2f} s, over {len(exits)} runs")


if __name__ == "__main__":
    main()
