"""Runs a few search steps of each given strategy on one device and on MirroredStrategy over 2
logical CPU devices (same global batch), and prints one JSON line per case (the max differences
of alphas and weights) as soon as the case finishes.

One process for every case: logical devices must be configured before TensorFlow starts, and
TensorFlow's import and start-up are paid once. The supernet is the tiny one of the other tests
with one node per cell and three candidate ops, `none`, `skip_connect` and `avg_pool_3x3`
(pooling followed by a BatchNorm without affine parameters, as in every search space here):
every distributed mechanism (synchronized BatchNorm, in the ops and the cells' preprocessing;
losses scaled to the global batch; gradients summed once, convolution kernels included; the
second-order virtual step's all-reduce; single-path edges) is in it. Tracing for two replicas
costs six to ten times the one-device trace per op, so the cheapest op that has a BatchNorm
stands for the others (a separable convolution traces eight layers).

Usage: python tests/mirrored_parity.py CASE [CASE ...]   (CASE: METHOD or METHOD:ORDER)
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from keras_darts.strategies import create_search_model, prune_supernet  # noqa: E402
from keras_darts.utils import set_seed  # noqa: E402
from keras_darts.utils.distribute import get_distribution_strategy  # noqa: E402

SIZES = dict(num_classes=10, input_shape=(12, 12, 1), layers=3, channels=4, steps=1,
             multiplier=1, stem_multiplier=1, space="darts",
             primitives=("none", "skip_connect", "avg_pool_3x3"), seed=0)
STEPS = 3


def run(strategy, method, order, x, y):
    set_seed(0)
    with strategy.scope():
        if method == "darts-pd":
            model = prune_supernet(create_search_model("darts", alpha_init_scale=1.0, **SIZES),
                                   k=2)
        else:
            extra = {"order": order} if method in ("darts", "sp-darts") else {}
            model = create_search_model(method, **SIZES, **extra)
        model.compile()
    initial = [v.numpy() for v in model.architecture.trainable_variables]
    item = (x, y) if model.data_mode in ("single", "split") else ((x, y), (x[::-1], y[::-1]))
    history = model.fit(tf.data.Dataset.from_tensors(item).repeat(STEPS), epochs=1, verbose=0)
    state = [v.numpy() for v in model.architecture.trainable_variables]
    moved = max(float(np.abs(a - b).max()) for a, b in zip(state, initial))
    return state, [v.numpy() for v in model.weight_variables], history.history["loss"][-1], moved


def batch_error():
    """The error a global batch that the 2 replicas cannot share gives."""
    from keras_darts.search import SearchConfig, distribution_strategy

    try:
        distribution_strategy(SearchConfig(distribute="mirrored", devices="/cpu:0,/cpu:1",
                                           batch_size=15))
    except ValueError as e:
        return str(e)
    return None


def case(method, order, x, y, mirrored):
    a1, w1, l1, moved = run(get_distribution_strategy("default"), method, order, x, y)
    a2, w2, l2, _ = run(mirrored, method, order, x, y)
    keras.backend.clear_session()  # the next case's graphs do not pile up on these
    return {
        "method": method, "order": order, "steps": STEPS, "replicas": 2,
        "alpha_max_diff": max(float(np.abs(a - b).max()) for a, b in zip(a1, a2)),
        "weight_max_diff": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2)),
        "alpha_moved": moved, "loss": [float(l1), float(l2)],
    }


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 10, 16)
    print(json.dumps({"batch_error": batch_error()}), flush=True)
    # One MirroredStrategy for every case: each new one would number its collective ops
    # from the start again, and the runtime would match them with the previous case's.
    mirrored = get_distribution_strategy("mirrored", ["/cpu:0", "/cpu:1"])
    for arg in sys.argv[1:]:
        method, _, order = arg.partition(":")
        print(json.dumps(case(method, int(order or 1), x, y, mirrored)), flush=True)


if __name__ == "__main__":
    main()
