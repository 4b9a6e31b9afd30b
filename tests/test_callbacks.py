import csv
import json
import os

import keras
import numpy as np
import pytest

from helpers import SEARCH_SPACE, search_group
from keras_darts.callbacks import (
    AlphaHistory, ArchitectureWarmup, GenotypeCheckpoint, StepTimer, WeightsCheckpoint,
)
from keras_darts.data import search_data
from keras_darts.strategies import BilevelSearch


@pytest.fixture(scope="module")
def data():
    return search_data("digits", batch_size=16, seed=0, max_train=96)


def _model(sizes):
    model = BilevelSearch(num_classes=10, input_shape=(8, 8, 1), seed=0, **sizes)
    model.compile(run_eagerly=True)
    return model


def _np(v):
    return keras.ops.convert_to_numpy(v).copy()


@pytest.fixture
def searched(shared_search):
    """The shared graph-mode darts search (its model traced), put back afterwards."""
    run = shared_search("darts", 1)
    run.reset()
    yield run.model
    run.reset()


@search_group("darts", 1)
def test_warmup_freezes_alphas_and_their_optimizer_then_releases(searched, data):
    model = searched  # traced: the warm-up switch is a variable the traced step reads
    a0 = [_np(v) for v in model.arch_variables]
    w0 = [_np(v) for v in model.weight_variables]
    arch_steps = int(model.arch_optimizer.iterations)
    model.fit(data.train, epochs=1, steps_per_epoch=data.steps_per_epoch, verbose=0,
              callbacks=[ArchitectureWarmup(1)])
    assert all(np.array_equal(a, _np(v)) for a, v in zip(a0, model.arch_variables))
    assert not all(np.array_equal(w, _np(v)) for w, v in zip(w0, model.weight_variables))
    assert int(model.arch_optimizer.iterations) == arch_steps
    model.fit(data.train, epochs=2, initial_epoch=1, steps_per_epoch=data.steps_per_epoch,
              verbose=0, callbacks=[ArchitectureWarmup(1)])
    assert not np.array_equal(a0[0], _np(model.arch_variables[0]))
    assert int(model.arch_optimizer.iterations) == arch_steps + data.steps_per_epoch


def test_warmup_rejects_negative_epochs():
    with pytest.raises(ValueError, match="non-negative"):
        ArchitectureWarmup(-1)


@search_group("darts", 1)
# The clone's default optimizer has a constant learning rate (one variable more than the search's
# scheduled one): Keras skips loading its slots; only the model's weights are compared.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_history_genotype_and_checkpoint_files(tmp_path, data, searched):
    model = searched
    hist = AlphaHistory(str(tmp_path / "alphas.json"), str(tmp_path / "alphas.csv"),
                        str(tmp_path / "logs"))
    timer = StepTimer()
    logs = model.fit(data.train, epochs=2, steps_per_epoch=data.steps_per_epoch, verbose=0,
                     callbacks=[hist, GenotypeCheckpoint(str(tmp_path), plot=False), timer,
                                WeightsCheckpoint(str(tmp_path / "ckpt" / "last.weights.h5"))]
                     ).history
    with open(tmp_path / "alphas.json") as f:
        record = json.load(f)
    assert [e["epoch"] for e in record["history"]] == [-1, 0, 1]
    edges, ops = 2, 3  # one node per cell (2 edges), space s3 (3 ops)
    assert np.array(record["history"][0]["alphas"]["normal"]).shape == (edges, ops)
    np.testing.assert_allclose(record["history"][-1]["alphas"]["reduce"],
                               _np(model.architecture.alpha_reduce), rtol=1e-6)
    with open(tmp_path / "alphas.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * 2 * edges * ops  # epochs -1, 0, 1; 2 cell kinds
    assert os.listdir(tmp_path / "logs" / "alphas")
    with open(tmp_path / "genotype.json") as f:
        saved = json.load(f)
    assert saved["epoch"] == 1 and saved["text"] == model.genotype().to_text()
    assert (tmp_path / "normal.dot").exists() and (tmp_path / "reduce.dot").exists()
    assert "alpha_entropy" in logs and logs["alpha_entropy"][-1] <= np.log(ops) + 1e-6
    assert timer.summary()["steps"] == 2 * data.steps_per_epoch
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]
    clone = _model(SEARCH_SPACE)
    clone.load_weights(str(tmp_path / "ckpt" / "last.weights.h5"))
    np.testing.assert_array_equal(_np(clone.architecture.alpha_normal),
                                  _np(model.architecture.alpha_normal))


def test_weights_checkpoint_needs_weights_suffix():
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        WeightsCheckpoint("ckpt.h5")
