"""tf.distribute: every registered strategy on MirroredStrategy equals the one-device run;
distribution options and TF_CONFIG are validated."""

import json
import os
import subprocess
import sys

import pytest

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
    return cases + [("darts", 2)]


@pytest.mark.slow
@pytest.mark.parametrize("method,order", _cases())
def test_mirrored_strategy_matches_one_device(method, order):
    """Per-replica losses scaled to the global batch, gradients summed once, synchronized BN,
    identical alphas and optimizer states on all replicas: the result equals one device."""
    root = os.path.dirname(HERE)
    paths = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    out = subprocess.run([sys.executable, os.path.join(HERE, "mirrored_parity.py"), method,
                          str(order)], capture_output=True, text=True, timeout=900, env=env,
                         cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    alpha_tol = SECOND_ORDER_ALPHA if order == 2 else TOLERANCE["alpha"]
    assert result["alpha_max_diff"] <= alpha_tol, result
    assert result["weight_max_diff"] <= TOLERANCE["weight"], result
    assert "must divide evenly over the 2 replicas" in result["batch_error"]
    if method != "darts-pd":  # DARTS-PD's alphas are frozen; the others moved far more
        margin = 10 if order == 2 else 100  # than the replicas disagree
        assert result["alpha_moved"] > margin * result["alpha_max_diff"], result


def test_distribute_options_are_validated(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown distribute option 'gpus'"):
        get_distribution_strategy("gpus")
    with pytest.raises(ValueError, match="distribute must be one of"):
        SearchConfig.from_preset("small", distribute="cluster").validate()
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
