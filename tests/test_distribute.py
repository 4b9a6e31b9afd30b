"""tf.distribute: every registered strategy on MirroredStrategy equals the one-device run;
two worker processes on localhost derive the one-process genotype; distribution options,
TF_CONFIG and a cluster that never comes up fail with clear errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from helpers import CLI_SEARCH, ROOT, child_env, cli, free_ports, same_worker
from keras_darts.search import SearchConfig, run_search
from keras_darts.strategies import registered_strategies
from keras_darts.utils.distribute import check_tf_config, get_distribution_strategy

HERE = os.path.dirname(os.path.abspath(__file__))

# Max differences after 3 steps on 2 replicas against one device with the same global batch
# (float32 summation order only). Second order's finite-difference Hessian-vector product
# divides by 2 * eps = 0.02 / ||dw||, which multiplies rounding differences in the alphas.
TOLERANCE = {"alpha": 1e-5, "weight": 1e-5}
SECOND_ORDER_ALPHA = 2e-4


def _cases():
    cases = [(m, 1) for m in registered_strategies()]
    # DARTS-PD's stage-2 model (the pruned supernet), and second order.
    return cases + [("darts-pd", 1), ("darts", 2)]


def _tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


@pytest.fixture(scope="module")
def parity():
    """`mirrored_parity.py` run once, in one process, for every case: {(method, order): its
    result}, plus "batch_error" and the tail of its stderr."""
    cases = _cases()
    out = subprocess.run([sys.executable, os.path.join(HERE, "mirrored_parity.py"),
                          *[f"{m}:{o}" for m, o in cases]], capture_output=True, text=True,
                         timeout=1800, env=child_env(), cwd=ROOT)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    results = {(r["method"], r["order"]): r for r in lines if "method" in r}
    results["batch_error"] = next((r["batch_error"] for r in lines if "batch_error" in r), None)
    results["stderr"] = out.stderr[-3000:]
    return results


@pytest.mark.slow
@same_worker("mirrored-parity")
@pytest.mark.parametrize("method,order", _cases())
def test_mirrored_strategy_matches_one_device(parity, method, order):
    """Per-replica losses scaled to the global batch, gradients summed once, synchronized BN,
    identical alphas and optimizer states on all replicas: the result equals one device."""
    assert (method, order) in parity, parity["stderr"]
    result = parity[method, order]
    alpha_tol = SECOND_ORDER_ALPHA if order == 2 else TOLERANCE["alpha"]
    assert result["alpha_max_diff"] <= alpha_tol, result
    assert result["weight_max_diff"] <= TOLERANCE["weight"], result
    assert "must divide evenly over the 2 replicas" in parity["batch_error"]
    if method != "darts-pd":  # DARTS-PD's alphas are frozen; the others moved far more
        margin = 10 if order == 2 else 100  # than the replicas disagree
        assert result["alpha_moved"] > margin * result["alpha_max_diff"], result


def test_distribute_options_are_validated(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown distribute option 'gpus'"):
        get_distribution_strategy("gpus")
    with pytest.raises(ValueError, match="distribute must be one of"):
        SearchConfig.from_preset("small", distribute="cluster").validate()
    # This process's runtime has started, so it cannot make the logical CPU devices a fresh
    # `keras-darts --distribute mirrored --devices /cpu:0,/cpu:1` makes (before, every replica
    # went to the one CPU device and the first cross-replica reduction waited forever).
    tf.config.list_logical_devices("CPU")  # starts the runtime if no test has yet
    with pytest.raises(ValueError, match=r"devices name /cpu:7, but TensorFlow started with"):
        get_distribution_strategy("mirrored", ["/cpu:0", "/cpu:7"])
    with pytest.raises(ValueError, match="Malformed device '/cpu:x'"):
        get_distribution_strategy("mirrored", ["/cpu:x"])
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs the TF_CONFIG environment variable"):
        get_distribution_strategy("multi-worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    config = SearchConfig.from_preset("small", distribute="multi-worker", epochs=1)
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        run_search(config, str(tmp_path / "run"), verbose=0)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("text,match", [
    ('[]', "must be a JSON object"),
    ('{"task": {"type": "worker", "index": 0}}', "no 'cluster'"),
    ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "non-empty list"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
     "bad address 'localhost'"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "no 'task'"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "ps", "index": 0}}',
     "task type 'ps' is not a job"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 1}}',
     "index 1 is out of range"),
])
def test_malformed_tf_config_is_named(text, match):
    with pytest.raises(ValueError, match=match):
        check_tf_config(text)


@pytest.mark.slow
@same_worker("cli-search")
def test_two_workers_on_localhost_derive_the_one_process_genotype(tmp_path, cli_search):
    """MultiWorkerMirroredStrategy over 2 worker processes (TF_CONFIG on 127.0.0.1): both derive
    the genotype of the same search in one process (the shared CLI run); the chief writes the
    run directory and the other worker its own sub-directory."""
    ports = free_ports(2)
    out = tmp_path / "two"
    start = time.time()
    procs = [subprocess.Popen(cli("search", *CLI_SEARCH, "--distribute", "multi-worker",
                                  "--connect-timeout", "300", "--out", str(out)),
                              env=child_env(TF_CONFIG=_tf_config(ports, i)), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=900)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    two_workers_s = time.time() - start
    assert [p.returncode for p in procs] == [0, 0], "\n".join(log[-3000:] for log in logs)
    one, _ = cli_search

    def genotype(d):
        with open(d / "genotype.json") as f:
            record = json.load(f)
        return record["genotype"]

    reference = genotype(one)
    assert genotype(out) == reference
    assert genotype(out / "workers" / "worker-1") == reference
    with open(out / "summary.json") as f:
        summary = json.load(f)
    print(json.dumps({"two_workers_localhost_s": round(two_workers_s, 1),
                      "median_step_s": summary["median_step_s"]}))


@pytest.mark.slow
def test_a_worker_that_never_comes_up_fails_in_bounded_time(tmp_path):
    ports = free_ports(2)
    start = time.time()
    run = subprocess.run(cli("search", *CLI_SEARCH, "--distribute", "multi-worker",
                             "--connect-timeout", "3", "--out", str(tmp_path / "run")),
                         env=child_env(TF_CONFIG=_tf_config(ports, 0)), cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == -signal.SIGKILL, run.stderr[-3000:]
    assert "multi-worker setup failed" in run.stderr
    assert f"127.0.0.1:{ports[1]}" in run.stderr
    assert time.time() - start < 240
    assert not (tmp_path / "run").exists()
