"""`tf.distribute` strategies by name: one device, several GPUs, several machines, TPUs."""

import json
import os

DISTRIBUTE_NAMES = ("default", "mirrored", "multi-worker", "tpu")


def num_replicas():
    """Replicas in sync in the current replica context (1 outside tf.distribute).

    Losses are divided by it, and synchronized BatchNorm and single-path edges switch
    to their cross-replica forms when it exceeds 1.

    Returns:
        An int.

    Example:

    >>> num_replicas()
    1
    """
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def check_tf_config(text):
    """Parses and validates a `TF_CONFIG` value for multi-worker training.

    Args:
        text: the JSON text of `TF_CONFIG`.

    Returns:
        The parsed dict.

    Raises:
        ValueError: naming the problem: not JSON, no `cluster` with a non-empty
            `worker` list of `host:port` addresses, or a `task` whose type or
            index is not in the cluster.

    Example:

    >>> check_tf_config('{"cluster": {"worker": ["127.0.0.1:2222"]}, '
    ...                 '"task": {"type": "worker", "index": 0}}')["task"]["index"]
    0
    """
    try:
        config = json.loads(text)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"TF_CONFIG is not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object. Received: {text!r}")
    cluster = config.get("cluster")
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError("TF_CONFIG has no 'cluster' (a map from job names to address lists).")
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses:
            raise ValueError(f"TF_CONFIG cluster[{job!r}] must be a non-empty list of "
                             f"'host:port' addresses. Received: {addresses!r}")
        for address in addresses:
            host, _, port = str(address).rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"TF_CONFIG cluster[{job!r}] has a bad address {address!r}; "
                                 "expected 'host:port'.")
    if "worker" not in cluster and "chief" not in cluster:
        raise ValueError("TF_CONFIG cluster lists no 'worker' (or 'chief') job.")
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError("TF_CONFIG has no 'task' with a 'type' and an 'index'.")
    if task["type"] not in cluster:
        raise ValueError(f"TF_CONFIG task type {task['type']!r} is not a job of the cluster "
                         f"({sorted(cluster)}).")
    index = task["index"]
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise ValueError(f"TF_CONFIG task index {index!r} is out of range for the "
                         f"{len(cluster[task['type']])} {task['type']!r} addresses.")
    return config


def get_distribution_strategy(name="default", devices=None):
    """Returns the `tf.distribute` strategy a search or a training runs under.

    - `"default"`: one device (TensorFlow's default strategy).
    - `"mirrored"`: `MirroredStrategy` over the local GPUs, or over `devices`
      (e.g. `["/cpu:0", "/cpu:1"]` with logical CPU devices).
    - `"multi-worker"`: `MultiWorkerMirroredStrategy` configured from the
      `TF_CONFIG` environment variable (validated first).
    - `"tpu"`: `TPUStrategy` on the TPU the cluster resolver finds.

    Every strategy's `train_step` scales per-replica losses to the global
    batch, sums gradients over replicas once, synchronises the supernet's
    BatchNorm statistics, and keeps alphas and optimizer states identical on
    all replicas.

    Args:
        name: one of `DISTRIBUTE_NAMES`.
        devices: devices for `"mirrored"` (None: all local GPUs, else the CPU).

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        ValueError: for an unknown name, a missing or malformed `TF_CONFIG`,
            or no TPU.

    Example:

    >>> strategy = get_distribution_strategy("mirrored")
    >>> with strategy.scope():
    ...     model = create_search_model("darts", num_classes=10, input_shape=(32, 32, 3))
    """
    import tensorflow as tf

    if name not in DISTRIBUTE_NAMES:
        raise ValueError(f"Unknown distribute option {name!r}. Known: {list(DISTRIBUTE_NAMES)}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("distribute='multi-worker' needs the TF_CONFIG environment variable "
                             "(the cluster's worker addresses and this task's index).")
        check_tf_config(os.environ["TF_CONFIG"])
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise ValueError(f"distribute='tpu' found no TPU: {e}") from None
    return tf.distribute.TPUStrategy(resolver)
