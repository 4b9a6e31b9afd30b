"""Benchmark: does the input pipeline keep up with the search step?

Times `search_data`'s bi-level stream (both halves: `2 * batch` images per step) alone, after
a warm-up, for in-memory arrays and for folders of JPEG files decoded and augmented on the fly
(the ImageNet transform at 224 px, and at 32 px as a CPU search on photos would run). The
images per second are set against what the paper supernet's step consumes:
`2 * 64 / median step` of `benchmarks/results/search_step_paper_2cpu.json` (DARTS first
order, 8 cells, 16 channels, batch 64, on the same machine). `cpu_share` is the part of the
machine's cores the pipeline would need to keep up (the consumption over the pipeline's rate,
measured with every core to itself). The `-cached` cases open the folder with `cache=True`
(`CachedSource`: every file read once into memory, decoded every epoch); `open_s` is the time
to open the source, the cache's first read included.

The JPEG folders are generated once under `--data` (default `/tmp/keras_darts_pipeline_bench`)
from the embedded Fashion-MNIST images, upscaled to ImageNet's typical sizes (about 500 x 375),
coloured and given a film-grain texture: 59 KB per file at quality 90, about half of an
ImageNet JPEG (about 110 KB); decoding costs mostly by the pixel, which these match. Each case
writes its result to `--out`
as it finishes; run again with the same `--out`, finished cases are skipped.

Usage:
    python benchmarks/input_pipeline.py --out benchmarks/results/input_pipeline_2cpu.json
    python benchmarks/input_pipeline.py --cases arrays-28 --batches 20   # one case, quick
"""

import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

STEP_RESULTS = os.path.join(ROOT, "benchmarks", "results", "search_step_paper_2cpu.json")
# case: (dataset kind, image size, batch per half)
CASES = {
    "arrays-28": ("embedded", None, 64),
    "folder-jpeg-224": ("jpeg", 224, 64),
    "folder-jpeg-32": ("jpeg", 32, 64),
    # The same folder with --cache: files read once into memory, decoded every epoch.
    "folder-jpeg-224-cached": ("jpeg-cached", 224, 64),
    "folder-jpeg-32-cached": ("jpeg-cached", 32, 64),
    # One of two input pipelines (workers) of a multi-worker run: it reads and decodes only
    # its half of every global batch; `global_images_per_s` is the global batches it keeps
    # up with.
    "folder-jpeg-224-pipeline-1of2": ("jpeg-shard2", 224, 64),
}


def make_jpegs(root, count, seed=0):
    """`count` JPEG files of about 500 x 375 px in 10 class folders (skipped if present)."""
    import numpy as np
    import tensorflow as tf

    from keras_darts.data import load_arrays

    marker = os.path.join(root, ".complete")
    if os.path.exists(marker):
        return
    (x, y), _, _ = load_arrays("embedded")
    rng = np.random.default_rng(seed)
    for k in range(count):
        c = int(y[k])
        folder = os.path.join(root, f"class_{c}")
        os.makedirs(folder, exist_ok=True)
        h, w = int(rng.integers(330, 420)), int(rng.integers(440, 560))
        base = tf.image.resize(tf.cast(x[k], tf.float32), (h, w)).numpy()
        tint = rng.uniform(0.4, 1.0, 3)
        image = base * tint + rng.normal(0, 12, (h, w, 3))
        image = np.clip(image, 0, 255).astype(np.uint8)
        with open(os.path.join(folder, f"{k:05d}.jpg"), "wb") as f:
            f.write(tf.io.encode_jpeg(image, quality=90).numpy())
    open(marker, "w").close()


def consumption():
    """Images per second the paper supernet's DARTS step takes in (both halves)."""
    with open(STEP_RESULTS) as f:
        result = next(r for r in json.load(f)["results"] if r["strategy"] == "darts-1")
    return 2 * result["batch"] / result["median_step_s"], result


def time_case(name, data_root, batches, warmup):
    from keras_darts.data import open_source, search_data

    kind, size, batch = CASES[name]
    start = time.perf_counter()
    source = open_source("embedded" if kind == "embedded" else data_root, image_size=size,
                         cache=kind == "jpeg-cached")
    open_s = time.perf_counter() - start
    data = search_data(source, batch_size=batch, seed=0)
    pipelines = 2 if kind == "jpeg-shard2" else 1
    # Pipeline 0 of `pipelines`, one replica each: what `train_from` gives each worker.
    stream = iter(data._stream(0, 0, None, shard=(0, pipelines, batch // pipelines)))
    for _ in range(warmup):
        next(stream)
    start = time.perf_counter()
    for _ in range(batches):
        next(stream)
    seconds = time.perf_counter() - start
    images = 2 * batch * batches // pipelines  # this pipeline's share of the batches
    result = {"case": name, "image_size": size or 28, "batch_per_half": batch,
              "open_s": round(open_s, 3), "batches_timed": batches, "seconds": round(seconds, 3),
              "images_per_s": round(images / seconds, 1)}
    if pipelines > 1:
        result.update(pipelines=pipelines,
                      global_images_per_s=round(2 * batch * batches / seconds, 1))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--batches", type=int, default=30, help="batches timed per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--images", type=int, default=2000, help="JPEG files generated")
    parser.add_argument("--data", default="/tmp/keras_darts_pipeline_bench")
    parser.add_argument("--out")
    args = parser.parse_args()

    import tensorflow as tf

    doc = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "tensorflow": tf.__version__}, "results": []}
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            doc = json.load(f)
    done = {r["case"] for r in doc["results"]}
    rate, step = consumption()
    doc["consumption"] = {"source": os.path.relpath(STEP_RESULTS, ROOT),
                          "images_per_s": round(rate, 1), "median_step_s": step["median_step_s"],
                          "batch_per_half": step["batch"]}
    if any(CASES[c][0].startswith("jpeg") for c in args.cases):
        make_jpegs(args.data, args.images)
        sizes = [os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.data)
                 for f in fs if f.endswith(".jpg")]
        doc["jpeg_files"] = {"count": len(sizes), "mean_kb": round(sum(sizes) / len(sizes) / 1e3)}
    for name in args.cases:
        if name in done:
            continue
        result = time_case(name, args.data, args.batches, args.warmup)
        supplied = result.get("global_images_per_s", result["images_per_s"])
        result["cpu_share"] = round(rate / supplied, 3)
        result["keeps_up"] = supplied > rate
        doc["results"].append(result)
        print(json.dumps(result), flush=True)
        if args.out:
            tmp = args.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump(doc, f, indent=2)
            os.replace(tmp, args.out)
    if not args.out:
        print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
