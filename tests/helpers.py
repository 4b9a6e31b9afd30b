"""What several test modules share: tiny sizes, the searches built once per session, the whole
training state of a model (to compare bit for bit and to reset shared models), child processes.

`tests/` is on `sys.path` under pytest (it has no `__init__.py`), so modules import this as
`helpers`.
"""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_darts.strategies import registered_strategies

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A supernet small enough for 2 CPU cores: 3 cells (reductions at 1 and 2),
# 2 nodes per cell, 4 channels.
TINY = dict(layers=3, channels=4, steps=2, multiplier=2, stem_multiplier=1)

# The shared graph-mode searches: the `small` preset's settings on sklearn's digits, 4 steps per
# epoch, 3 epochs, learning rates high enough that 12 steps visibly move the alphas; a
# mid-epoch checkpoint every 5 steps (so a run can be cut inside epoch 1). The supernet is the
# tiny one in the reduced space s3 (`none`, `skip_connect`, `sep_conv_3x3`) with one node per
# cell: these searches are about the strategies' train steps, checkpoints and files, and they
# run in a quarter of the time (darts: 9.7 s instead of 37.5 s, most of it tracing). The whole
# DARTS space is traced in a search by the D-DARTS end-to-end test and DARTS-PD's first stage.
SEARCH_SPACE = dict(TINY, space="s3", steps=1, multiplier=1)
SEARCH = dict(SEARCH_SPACE, dataset="digits", batch_size=16, max_train=128, epochs=3,
              learning_rate=0.1, arch_learning_rate=0.01, checkpoint_every=5)
# Every registered strategy (DARTS-PD is a pipeline over these), and second order: a new
# strategy module is searched, resumed and checked by the shared tests without being listed.
SEARCH_CASES = [(m, 1) for m in registered_strategies()] + [("darts", 2)]


def same_worker(name):
    """The mark that keeps the tests sharing an expensive fixture on one pytest-xdist worker.

    `make test` runs `-n 2 --dist loadgroup`: session and module fixtures are built once per
    worker, so tests of one shared search, the shared CLI run, the DARTS-PD run or the
    parity subprocess would each pay for it again on the other worker.
    """
    return pytest.mark.xdist_group(name)


def search_group(method, order):
    """`same_worker` for the tests of `shared_search(method, order)`."""
    return same_worker(f"search-{method}-{order}")


#: `SEARCH_CASES` as `pytest.param`s (`method,order`), each on its shared search's worker.
SEARCH_PARAMS = [pytest.param(m, o, id=f"{m}-{o}", marks=search_group(m, o))
                 for m, o in SEARCH_CASES]
# The shared DARTS-PD run (every stage at CPU size, PC-DARTS options on): 1 search epoch,
# 8 path-wise steps per epoch for 2 epochs, 12 paths scored; a checkpoint every 3 steps.
DARTS_PD = dict(TINY, method="darts-pd", epochs=1, max_train=256, batch_size=16,
                partial_channels=2, edge_normalization=True, pd_epochs=2, es_trials=12,
                es_population=4, es_tournament=2, es_calibration_batches=2, eval_layers=3,
                eval_channels=4, checkpoint_every=3)

# The CLI search shared by the console-entry-point, SIGKILL-resume and multi-worker tests:
# digits, 4 steps per epoch, 2 epochs, a checkpoint after every step.
# The reduced space s3 (`none`, `skip_connect`, `sep_conv_3x3`) and one node per cell keep the
# multi-worker run's collective ops (synchronized BatchNorm) few enough for two worker processes
# on 2 cores; these tests are about processes, checkpoints and clusters, not the cell.
CLI_SEARCH = ["--dataset", "digits", "--space", "s3", "--max-train", "64", "--batch-size", "8",
              "--epochs", "2", "--layers", "3", "--channels", "4", "--steps", "1",
              "--multiplier", "1", "--stem-multiplier", "1", "--seed", "3",
              "--checkpoint-every", "1", "--verbose", "0"]

# `keras-darts train` flags of a stand-alone network of CLI_SEARCH's cells at test size: the
# `small` preset on digits, 3 cells of 4 channels, 1 epoch of 8 steps.
TINY_TRAIN = ["--preset", "small", "--dataset", "digits", "--layers", "3", "--channels", "4",
              "--epochs", "1", "--max-train", "128", "--batch-size", "16", "--seed", "3",
              "--verbose", "0"]


def to_numpy(v):
    """A copy of a variable's or tensor's value as a numpy array."""
    return np.array(keras.ops.convert_to_numpy(v))


def max_diff(a, b):
    """The largest absolute difference between two equally long lists of arrays/variables."""
    assert len(a) == len(b), (len(a), len(b))
    return max((float(np.abs(to_numpy(x) - to_numpy(y)).max()) for x, y in zip(a, b)),
               default=0.0)


def state_variables(model):
    """Every variable a training step reads or writes, found without the checkpoint code.

    Network weights, alphas (and betas), BatchNorm statistics, random-generator states and
    schedule variables (all in `model.variables`), the variables of every optimizer (weights,
    alphas, D-DARTS' per-cell ones) and the metrics' running sums, each once.
    """
    optimizers = [getattr(model, "optimizer", None), getattr(model, "arch_optimizer", None),
                  *getattr(model, "cell_optimizers", ())]
    found, seen = [], set()
    for v in [*model.variables, *[v for o in optimizers if o is not None for v in o.variables],
              *model.metrics_variables]:
        if id(v) not in seen:
            seen.add(id(v))
            found.append(v)
    return found


def snapshot(model):
    """The values of `state_variables(model)`."""
    return [to_numpy(v) for v in state_variables(model)]


def restore(model, values):
    """Assigns a `snapshot` back."""
    variables = state_variables(model)
    assert len(variables) == len(values), "the model's variables changed since the snapshot"
    for v, value in zip(variables, values):
        v.assign(value)


class SharedSearch:
    """A finished graph-mode `run_search` of one strategy, built once and shared by the tests.

    Its model's traced train, test and predict functions are reused by the tests that go on
    training it; `reset()` puts every variable back to the state at the end of the search.

    Args:
        config: the `SearchConfig`.
        out_dir: the run directory.
    """

    def __init__(self, config, out_dir):
        from keras_darts.search import config_search_data, run_search

        self.config, self.out_dir = config, out_dir
        self.result = run_search(config, out_dir, verbose=0)
        self.model = self.result.model
        self.data = config_search_data(config, self.model.data_mode)
        self.final = snapshot(self.model)

    def reset(self):
        """Every variable back to its value at the end of the search."""
        restore(self.model, self.final)


def free_ports(n):
    """`n` TCP ports free on 127.0.0.1 right now."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def cli(*args):
    """The command line of `keras-darts ARGS` run from this checkout."""
    return [sys.executable, "-m", "keras_darts.cli", *args]


def child_env(**extra):
    """The environment of a child process: this checkout importable, no inherited TF_CONFIG."""
    paths = [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), **extra)
    if "TF_CONFIG" not in extra:
        env.pop("TF_CONFIG", None)
    return env


def run_cli(*args, timeout=900, check=True):
    """Runs `keras-darts ARGS` in a child process; returns the completed process (rc 0 if
    `check`)."""
    out = subprocess.run(cli(*args), capture_output=True, text=True, timeout=timeout,
                         env=child_env(), cwd=ROOT)
    assert not check or out.returncode == 0, out.stderr[-3000:]
    return out


def kill_when(proc, state_path, global_step, timeout=600):
    """SIGKILLs `proc` as soon as its checkpoint reaches `global_step`; returns that state."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the run ended before the test could kill it"
        try:
            with open(state_path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = None
        if state and state["global_step"] >= global_step:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            return state
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no checkpoint of step {global_step} within {timeout} s")


def killed_and_restarted(args, out_dir, global_step):
    """Runs `keras-darts ARGS`, SIGKILLs it at checkpoint `global_step`, runs it again to the end.

    Returns:
        The checkpoint state (`state.json`) the run was killed at.
    """
    cmd = cli(*args)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=child_env(), cwd=ROOT)
    state = kill_when(proc, os.path.join(out_dir, "checkpoints", "state.json"), global_step)
    assert proc.returncode == -signal.SIGKILL
    run_cli(*args)  # the same command again
    assert not glob.glob(os.path.join(out_dir, "checkpoints", ".tmp-*"))
    return state
