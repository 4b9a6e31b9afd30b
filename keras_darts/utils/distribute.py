"""`tf.distribute` strategies by name: one device, several GPUs, several machines, TPUs."""

import contextlib
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


def all_reduce_sum(grads):
    """Sums tensors over replicas (identity on one replica or in cross-replica context).

    Args:
        grads: a list of tensors (per-replica gradients).

    Returns:
        The list of summed tensors.

    Example:

    >>> grads = all_reduce_sum(tape.gradient(loss, variables))  # doctest: +SKIP
    """
    import tensorflow as tf

    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return list(grads)
    return list(ctx.all_reduce(tf.distribute.ReduceOp.SUM, list(grads)))


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


_MULTI_WORKER = []


# Runs beside a process that joins a cluster: if the parent has not closed the pipe (joined)
# within the timeout, print the message and kill the parent. A separate process, because
# TensorFlow waits for the cluster in C++ without releasing Python's lock or heeding SIGTERM.
_WATCHDOG = """
import os, select, signal, sys
parent, timeout, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
ready, _, _ = select.select([sys.stdin], [], [], timeout)
if not ready:
    sys.stderr.write(message + "\\n")
    sys.stderr.flush()
    os.kill(parent, signal.SIGKILL)
"""


def _multi_worker_strategy(connect_timeout):
    """`MultiWorkerMirroredStrategy` from `TF_CONFIG`, failing if the cluster is not up in time."""
    import subprocess
    import sys

    import tensorflow as tf

    if _MULTI_WORKER:  # a process joins its cluster once (DARTS-PD's stages share it)
        return _MULTI_WORKER[0]
    config = check_tf_config(os.environ["TF_CONFIG"])
    task = f"{config['task']['type']} {config['task']['index']}"
    peers = [a for job in ("chief", "worker") for a in config["cluster"].get(job, [])]
    message = (f"keras_darts: multi-worker setup failed: {task} waited {connect_timeout:g} s for "
               f"the cluster {peers} to come up. Start every worker listed in TF_CONFIG (or "
               "raise --connect-timeout).")
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()),
                                 str(float(connect_timeout)), message], stdin=subprocess.PIPE)
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    finally:
        watchdog.stdin.close()
        watchdog.wait()
    _MULTI_WORKER.append(strategy)
    return strategy


@contextlib.contextmanager
def keras_multi_worker(model, sample_batch):
    """Lets Keras's `fit` / `evaluate` of `model` run under `MultiWorkerMirroredStrategy`.

    Keras 3 has two problems there, both worked around inside this block:
    before the first step it reduces a distributed batch across replicas to
    build the model symbolically (a nested batch cannot be all-reduced), so
    the model is built from a local batch instead and runs under the
    strategy's scope; and it averages the per-replica logs with
    `reduce(MEAN, axis=0)`, which fails on scalars, so the steps return each
    log as a 1-element vector. Under any other strategy the block does nothing.

    Args:
        model: a Keras model created under a strategy's scope.
        sample_batch: one local (undistributed) batch of what `fit` or
            `evaluate` will receive.

    Yields:
        None.

    Example:

    >>> with keras_multi_worker(model, next(iter(data.train))):
    ...     model.fit(data.train, epochs=1, steps_per_epoch=10)  # doctest: +SKIP
    """
    import tensorflow as tf

    # Private Keras APIs, where Keras 3 has no public route: the strategy a model was created
    # under is only stored as `_distribute_strategy` (`tf.distribute.get_strategy()` is the
    # caller's, not the model's); `_symbolic_build` is the one way to build a model's
    # metrics and optimizer variables from a given batch before `fit` builds them from a
    # distributed one; and `fit` reads `_distribute_strategy` again, which must be None for it
    # to take the strategy from the scope instead.
    strategy = getattr(model, "_distribute_strategy", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        yield
        return

    def vector_logs(step):
        def wrapped(data):
            return {k: tf.reshape(v, [1]) for k, v in step(data).items()}
        return wrapped

    with strategy.scope():
        model._symbolic_build(data_batch=sample_batch)
        model._distribute_strategy = None  # fit() now takes the strategy from the scope
        model.train_step = vector_logs(model.train_step)
        model.test_step = vector_logs(model.test_step)
        model.train_function = model.test_function = None
        try:
            yield
        finally:
            del model.train_step, model.test_step
            model.train_function = model.test_function = None
            model._distribute_strategy = strategy


def is_chief(strategy):
    """Whether this process writes a run's files (always true outside multi-worker).

    Under `MultiWorkerMirroredStrategy` the chief is the `chief` task or,
    without one, worker 0.

    Args:
        strategy: a `tf.distribute.Strategy`.

    Returns:
        A bool.

    Example:

    >>> is_chief(get_distribution_strategy("default"))
    True
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in \
        resolver.cluster_spec().as_dict()


def task_dir(out_dir, strategy):
    """The directory this process writes a run to: `out_dir` for the chief.

    Every worker of a multi-worker run trains the same model and runs the same
    callbacks; the chief writes to `out_dir`, any other worker to
    `out_dir/workers/<type>-<index>`, so no two processes write one file.

    Args:
        out_dir: the run directory.
        strategy: a `tf.distribute.Strategy`.

    Returns:
        A path.

    Example:

    >>> task_dir("runs/a", get_distribution_strategy("default"))
    'runs/a'
    """
    if is_chief(strategy):
        return out_dir
    resolver = strategy.cluster_resolver
    return os.path.join(out_dir, "workers", f"{resolver.task_type}-{resolver.task_id}")


def _make_cpu_devices(devices):
    """Splits the CPU into as many logical devices as `devices` names (`/cpu:0,/cpu:1`).

    Without them MirroredStrategy puts every replica on the one CPU device and
    its first cross-replica reduction waits forever. Logical devices can only
    be made before TensorFlow starts its runtime; after that, too few of them
    is an error instead of a hang.
    """
    import tensorflow as tf

    indices = []
    for d in devices:
        kind, _, index = d.lower().rpartition(":")
        if kind.endswith("cpu"):
            if not index.isdigit():
                raise ValueError(f"Malformed device {d!r}: expected /cpu:N or /gpu:N.")
            indices.append(int(index))
    if not indices:
        return
    need = max(indices) + 1
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) < need:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * need)
        except RuntimeError:  # the runtime has started: its devices are fixed
            pass
    have = len(tf.config.list_logical_devices("CPU"))
    if have < need:
        raise ValueError(f"devices name /cpu:{need - 1}, but TensorFlow started with {have} CPU "
                         f"device(s); logical CPU devices must be made before TensorFlow runs "
                         f"anything (a fresh process does so from --devices).")


def get_distribution_strategy(name="default", devices=None, connect_timeout=300.0):
    """Returns the `tf.distribute` strategy a search or a training runs under.

    - `"default"`: one device (TensorFlow's default strategy).
    - `"mirrored"`: `MirroredStrategy` over the local GPUs, or over `devices`
      (e.g. `["/cpu:0", "/cpu:1"]` with logical CPU devices).
    - `"multi-worker"`: `MultiWorkerMirroredStrategy` configured from the
      `TF_CONFIG` environment variable (validated first). If the other
      workers are not all up within `connect_timeout` seconds, a message
      naming the cluster is printed and the process is killed (TensorFlow
      itself would wait forever, deaf to SIGTERM).
    - `"tpu"`: `TPUStrategy` on the TPU the cluster resolver finds.

    Every strategy's `train_step` scales per-replica losses to the global
    batch, sums gradients over replicas once, synchronises the supernet's
    BatchNorm statistics, and keeps alphas and optimizer states identical on
    all replicas.

    Args:
        name: one of `DISTRIBUTE_NAMES`.
        devices: devices for `"mirrored"` (None: all local GPUs, else the CPU).
        connect_timeout: seconds a multi-worker process waits for its cluster.

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
        if devices:
            _make_cpu_devices(devices)
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("distribute='multi-worker' needs the TF_CONFIG environment variable "
                             "(the cluster's worker addresses and this task's index).")
        return _multi_worker_strategy(connect_timeout)
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise ValueError(f"distribute='tpu' found no TPU: {e}") from None
    return tf.distribute.TPUStrategy(resolver)
