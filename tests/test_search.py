"""Short searches end to end (the shared graph-mode searches run on digits)."""

import json
import os

import keras
import numpy as np
import pytest

from helpers import SEARCH_PARAMS, TINY
from keras_darts.architecture import get_genotype
from keras_darts.data import dataset_info
from keras_darts.search import SearchConfig, build_search_model, run_search
from keras_darts.search_space import DARTS_PRIMITIVES

TINY_SEARCH = dict(TINY, batch_size=16, max_train=128)


def _config(**kw):
    return SearchConfig.from_preset("small", **{**TINY_SEARCH, **kw})


#: Strategies whose training loss is that of a path sampled anew at every step.
SAMPLED_PATH_METHODS = ("gdas",)


@pytest.mark.slow
@pytest.mark.parametrize("method,order", SEARCH_PARAMS)
def test_graph_mode_search_moves_alphas_lowers_loss_and_writes_results(shared_search, method,
                                                                       order):
    """Every strategy, traced: 3 epochs move the alphas and lower the loss, and the run
    directory holds the genotype, the histories, the plots' sources, the resumable end state,
    TensorBoard logs and the summary."""
    run = shared_search(method, order)
    cfg, out, result = run.config, run.out_dir, run.result
    initial = build_search_model(cfg, dataset_info(cfg.dataset))  # same seed: same initial alphas
    assert len(initial.arch_variables) == len(result.model.arch_variables)
    for a0, a1 in zip(initial.arch_variables, result.model.arch_variables):
        assert np.abs(keras.ops.convert_to_numpy(a1) - keras.ops.convert_to_numpy(a0)).max() > 1e-3
    losses = result.history["loss"]
    # A method that trains a different sampled path at every step (GDAS) reports that path's
    # loss: over 12 steps its epoch means need not fall (test_gdas checks that it learns).
    if method not in SAMPLED_PATH_METHODS:
        assert losses[-1] < losses[0]
    g = get_genotype(os.path.join(out, "genotype.json"))
    assert g == result.genotype and g.validate(DARTS_PRIMITIVES) is g
    graphs = ([f"cell_{i}.dot" for i in range(cfg.layers)] if method == "d-darts"
              else ["normal.dot", "reduce.dot"])  # a graph per cell (D-DARTS) or cell kind
    for name in ("config.json", "genotype_history.json", "alpha_history.json",
                 "alpha_history.csv", "history.csv", "summary.json", *graphs):
        assert os.path.exists(os.path.join(out, name)), name
    with open(os.path.join(out, "checkpoints", "state.json")) as f:
        state = json.load(f)
    assert (state["epoch"], state["step"]) == (3, 0)  # the end of the run, resumable state
    assert os.path.exists(os.path.join(out, "checkpoints", state["weights"]))
    assert os.listdir(os.path.join(out, "logs"))
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert summary["median_step_s"] > 0 and "val_accuracy" in summary["final"]


@pytest.mark.parametrize("overrides,match", [
    ({"learning_rate": -0.1}, "learning_rate must be >= 0"),
    ({"steps": 0}, "steps must be a positive integer"),
    ({"layers": 1}, "too few cells"),
    ({"dataset": "cifar11"}, "Unknown dataset"),
    ({"method": "no-such-method"}, "Unknown search method"),
    ({"order": 3}, "order must be 1 or 2"),
    ({"multiplier": 3}, "multiplier"),
])
def test_bad_settings_fail_before_writing_anything(tmp_path, overrides, match):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=match):
        run_search(_config(**overrides), str(out), verbose=0)
    assert not out.exists()


def test_unavailable_dataset_leaves_no_run_directory(tmp_path):
    from keras_darts.data import DatasetNotAvailableError

    out = tmp_path / "run"
    with pytest.raises(DatasetNotAvailableError):
        run_search(_config(dataset="cifar10", data_dir=str(tmp_path / "tfds")), str(out))
    assert not out.exists()


def test_unknown_preset():
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        SearchConfig.from_preset("huge")
