"""Build the embedded Fashion-MNIST subset shipped with keras_darts.

The subset is stratified: the same number of images per class, drawn with a
fixed seed from the original Fashion-MNIST files. The source files come from
Debian's ``dataset-fashion-mnist`` package
(``apt-get install dataset-fashion-mnist``), which installs the four original
idx files under ``/usr/share/datasets/fashion-mnist/``.

Usage:
    python scripts/make_embedded_dataset.py [--source DIR] [--train 5000] [--test 1000]

The result is written atomically to
``keras_darts/data/embedded/fashion_mnist_subset.npz``.
"""

import argparse
import gzip
import os
import tempfile

import numpy as np

DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(
    os.path.dirname(__file__), "..", "keras_darts", "data", "embedded",
    "fashion_mnist_subset.npz",
)


def _read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def _load(source, split):
    prefix = "train" if split == "train" else "t10k"
    x = _read_idx(os.path.join(source, f"{prefix}-images-idx3-ubyte.gz"), 16)
    y = _read_idx(os.path.join(source, f"{prefix}-labels-idx1-ubyte.gz"), 8)
    return x.reshape(-1, 28, 28), y


def _stratified(x, y, total, rng):
    classes = np.unique(y)
    if total % len(classes):
        raise ValueError(f"total={total} is not a multiple of {len(classes)} classes.")
    per_class = total // len(classes)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes]
    )
    rng.shuffle(idx)
    return x[idx], y[idx]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    x_train, y_train = _stratified(*_load(args.source, "train"), args.train, rng)
    x_test, y_test = _stratified(*_load(args.source, "test"), args.test, rng)
    out = os.path.abspath(OUT)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(out), suffix=".npz")
    os.close(fd)
    np.savez_compressed(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    os.replace(tmp, out)
    print(f"wrote {out}: train {x_train.shape}, test {x_test.shape}")


if __name__ == "__main__":
    main()
