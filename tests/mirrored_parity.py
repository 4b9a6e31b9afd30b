"""Runs a few search steps of one strategy on one device and on MirroredStrategy over 2 logical
CPU devices (same global batch), and prints the max differences of alphas and weights as JSON.

A separate process: logical devices must be configured before TensorFlow starts.

Usage: python tests/mirrored_parity.py METHOD [ORDER] [STEPS]
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

from keras_darts.strategies import create_search_model, prune_supernet  # noqa: E402
from keras_darts.utils import set_seed  # noqa: E402
from keras_darts.utils.distribute import get_distribution_strategy  # noqa: E402

SIZES = dict(num_classes=10, input_shape=(12, 12, 1), layers=3, channels=4, steps=2,
             multiplier=2, stem_multiplier=1, seed=0)


def run(strategy, method, order, steps, x, y):
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
    history = model.fit(tf.data.Dataset.from_tensors(item).repeat(steps), epochs=1, verbose=0)
    state = [v.numpy() for v in model.architecture.trainable_variables]
    moved = max(float(np.abs(a - b).max()) for a, b in zip(state, initial))
    return state, [v.numpy() for v in model.weight_variables], history.history["loss"][-1], moved


def main():
    method = sys.argv[1]
    order = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 12, 12, 1)).astype("float32")
    y = rng.integers(0, 10, 16)
    a1, w1, l1, moved = run(get_distribution_strategy("default"), method, order, steps, x, y)
    a2, w2, l2, _ = run(get_distribution_strategy("mirrored", ["/cpu:0", "/cpu:1"]), method, order,
                     steps, x, y)
    from keras_darts.search import SearchConfig, distribution_strategy

    try:
        distribution_strategy(SearchConfig(distribute="mirrored", devices="/cpu:0,/cpu:1",
                                           batch_size=15))
        batch_error = None
    except ValueError as e:
        batch_error = str(e)
    print(json.dumps({
        "batch_error": batch_error,
        "method": method, "order": order, "steps": steps, "replicas": 2,
        "alpha_max_diff": max(float(np.abs(a - b).max()) for a, b in zip(a1, a2)),
        "weight_max_diff": max(float(np.abs(a - b).max()) for a, b in zip(w1, w2)),
        "alpha_moved": moved, "loss": [float(l1), float(l2)],
    }))


if __name__ == "__main__":
    main()
