"""Fault tolerance: a search or a training killed mid-epoch and started again with the same
command ends exactly as the uninterrupted run; checkpoints are atomic; bad resumes are named."""

import dataclasses
import json
import os
import shutil

import keras
import numpy as np
import pytest

import keras_darts.networks  # noqa: F401  (registers the layers load_model needs)
from helpers import (
    CLI_SEARCH, SEARCH, SEARCH_PARAMS, killed_and_restarted, max_diff, run_cli, same_worker,
    search_group, snapshot, state_variables,
)
from keras_darts.callbacks import AlphaHistory, ArchitectureWarmup, GenotypeCheckpoint
from keras_darts.data import search_data
from keras_darts.resume import (
    RunCheckpoint, check_same_run, fit_resumable, read_csv_history, truncate_csv,
)
from keras_darts.search import SearchConfig, run_search
from keras_darts.utils import determinism_enabled


class Interrupt(keras.callbacks.Callback):
    """Raises after the n-th training batch (the n-1 steps before it are checkpointed)."""

    def __init__(self, after):
        super().__init__()
        self.after, self.seen = after, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.after:
            raise KeyboardInterrupt("interrupted by the test")


def _callbacks(run, out):
    """The run's callbacks that carry state across a resumption (schedules, history records)."""
    cfg, model = run.config, run.model
    return [ArchitectureWarmup(cfg.warmup_epochs), *model.default_callbacks(cfg.epochs),
            AlphaHistory(str(out / "alpha_history.json"), str(out / "alpha_history.csv")),
            GenotypeCheckpoint(str(out), plot=False)]


def _changed(variables, a, b):
    return [v.path for v, x, y in zip(variables, a, b) if not np.array_equal(x, y)]


@pytest.mark.slow
@pytest.mark.parametrize("method,order", SEARCH_PARAMS)
def test_checkpoint_restores_every_strategy_bit_for_bit(shared_search, tmp_path, method, order):
    """Every strategy, on its traced shared model: a checkpoint after the first step of
    epoch 1, a crash one step later; every variable is then set to another state (as a fresh
    model would have), the checkpoint restored and the run continued: it ends on the
    uninterrupted run's weights, alphas, BN statistics, optimizers (D-DARTS' per-cell ones
    too), random-generator states, metrics, schedules and history records, bit for bit, from
    the same data position."""
    run = shared_search(method, order)
    model, data = run.model, run.data
    variables = state_variables(model)
    cut_at = data.steps_per_epoch + 1  # (epoch 1, step 1)

    def go(name, extra=()):
        out = tmp_path / name
        return fit_resumable(model, data, 2, str(out / "checkpoints"), str(out / "history.csv"),
                             [*_callbacks(run, out), *extra], validation_data=data.validation,
                             verbose=0, every_steps=cut_at)

    try:
        run.reset()
        whole_history = go("whole")
        whole = snapshot(model)
        run.reset()
        with pytest.raises(KeyboardInterrupt):
            go("cut", [Interrupt(cut_at + 1)])
        with open(tmp_path / "cut" / "checkpoints" / "state.json") as f:
            state = json.load(f)
        assert (state["epoch"], state["step"], state["global_step"]) == (1, 1, cut_at)
        run.reset()  # nothing of the interrupted run's state is left in the variables
        assert _changed(variables, whole, snapshot(model))
        assert go("cut") == whole_history
        assert not _changed(variables, whole, snapshot(model))
        for name in ("history.csv", "alpha_history.json", "genotype_history.json"):
            assert (tmp_path / "cut" / name).read_text() == (tmp_path / "whole" / name).read_text()
    finally:
        run.reset()


class _DeterminismSeen(keras.callbacks.Callback):
    """Records whether determinism is on while the run trains."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(determinism_enabled())


@pytest.mark.slow
def test_interrupted_search_resumes_to_the_same_state(tmp_path, determinism_off):
    """Same seed, same search, also across an interruption: `run_search` stopped in the
    middle of an epoch and run again with the same directory builds a fresh model, restores it
    and ends with the state (every variable), genotype, history and history files of an
    uninterrupted run of the same config and seed, bit for bit. Determinism is on while a
    run trains and off again when the run returns or raises.

    Both runs are made here, one after the other: two runs in one process agree bit for bit
    when nothing runs between them (a run made much earlier in the session, with other tests
    between, was seen to differ in the last float bits)."""
    cfg = SearchConfig.from_preset("small", method="darts", **SEARCH)
    seen = _DeterminismSeen()
    whole = run_search(cfg, str(tmp_path / "whole"), verbose=0, callbacks=[seen])
    assert seen.seen and all(seen.seen)
    assert not determinism_enabled()
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_search(cfg, str(cut), verbose=0, callbacks=[Interrupt(6)])
    assert not determinism_enabled()  # a run that raises ends it too
    with open(cut / "checkpoints" / "state.json") as f:
        state = json.load(f)
    assert state["global_step"] == 5 and state["step"] > 0  # in the middle of an epoch
    resumed = run_search(cfg, str(cut), verbose=0)
    assert resumed.genotype.to_text() == whole.genotype.to_text()
    variables = state_variables(resumed.model)
    assert not _changed(variables, snapshot(whole.model), snapshot(resumed.model))
    assert int(resumed.model.optimizer.iterations) == 3 * 4  # 3 epochs of 4 steps
    for name in ("history.csv", "alpha_history.json", "genotype_history.json"):
        assert (cut / name).read_text() == (tmp_path / "whole" / name).read_text()
    assert resumed.history == whole.history
    # The summary times the whole run: the steps up to the checkpoint (saved with it) and the
    # resumed session's; reopening the finished run keeps them instead of timing a restore.
    saved = state["callbacks"]["StepTimer"]
    assert len(saved["times"]) == 5 and saved["wall_s"] > 0
    assert resumed.summary["steps"] == 12 and resumed.summary["first_step_s"] == saved["times"][0]
    assert resumed.summary["wall_s"] > saved["wall_s"]
    reopened = run_search(cfg, str(cut), verbose=0)
    assert reopened.genotype.to_text() == whole.genotype.to_text()
    with open(cut / "checkpoints" / "state.json") as f:
        final = json.load(f)["callbacks"]["StepTimer"]
    assert saved["wall_s"] < final["wall_s"] <= resumed.summary["wall_s"]
    assert reopened.summary["wall_s"] == final["wall_s"]
    for key in ("steps", "first_step_s", "median_step_s"):
        assert reopened.summary[key] == resumed.summary[key], key


@pytest.mark.slow
@same_worker("darts-pd")
def test_interrupted_darts_pd_resumes_to_the_same_paths(tmp_path, darts_pd_run):
    """DARTS-PD interrupted in stage 2: stage 1 is not repeated, stage 2 goes on from its
    checkpoint with fair counters intact, and the path search finds the same paths.

    The interrupted run starts from the shared run's finished stage 1 (its directory copied):
    a finished stage is restored, not searched again, in the first run as in the resumed one."""
    cfg, whole = darts_pd_run
    shutil.copytree(os.path.join(whole.out_dir, "stage1"), tmp_path / "cut" / "stage1")
    with pytest.raises(KeyboardInterrupt):
        run_search(cfg, str(tmp_path / "cut"), verbose=0, callbacks=[Interrupt(4)])
    with open(tmp_path / "cut" / "stage2" / "checkpoints" / "state.json") as f:
        assert json.load(f)["global_step"] == 3  # in the middle of stage 2's first epoch
    stage1 = (tmp_path / "cut" / "stage1" / "checkpoints" / "state.json").read_text()
    resumed = run_search(cfg, str(tmp_path / "cut"), verbose=0)
    assert (tmp_path / "cut" / "stage1" / "checkpoints" / "state.json").read_text() == stage1
    assert resumed.summary["fairness"] == whole.summary["fairness"]
    assert resumed.summary["fairness"]["strict"]
    assert resumed.summary["pareto"] == whole.summary["pareto"]
    assert resumed.genotype.to_text() == whole.genotype.to_text()
    # Stage 1 was restored, not searched: the run reports the search's own wall time.
    stage1 = json.loads((tmp_path / "cut" / "stage1" / "summary.json").read_text())
    assert resumed.summary["timings_s"]["stage1_s"] == stage1["wall_s"] > 0


@pytest.mark.slow
@same_worker("cli-search")
def test_search_killed_mid_epoch_ends_with_the_uninterrupted_genotype(tmp_path, cli_search):
    whole, _ = cli_search
    cut = tmp_path / "cut"
    state = killed_and_restarted(["search", *CLI_SEARCH, "--out", str(cut)], str(cut), 5)
    assert 0 < state["step"] or state["epoch"] == 1  # 4 steps per epoch: killed in epoch 1
    for name in ("genotype.json", "genotype_history.json", "alpha_history.json",
                 "history.csv"):
        assert (cut / name).read_text() == (whole / name).read_text(), name


@pytest.mark.slow
def test_training_killed_mid_epoch_ends_with_the_uninterrupted_weights(tmp_path):
    """Stand-alone training with drop-path, cutout and the auxiliary head: weights, optimizer,
    cosine schedule, drop-path schedule and random states all resume."""
    args = ["train", "--preset", "small", "--genotype", "DARTS_V2", "--dataset", "digits",
            "--max-train", "256", "--batch-size", "16", "--epochs", "3", "--layers", "3",
            "--channels", "4", "--seed", "2", "--checkpoint-every", "5", "--verbose", "0",
            "--cutout", "8", "--drop-path", "0.1", "--auxiliary"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    run_cli(*args, "--out", str(whole))
    state = killed_and_restarted([*args, "--out", str(cut)], str(cut), 20)
    assert state["step"] > 0 or state["epoch"] > 1  # 16 steps per epoch: in epoch 1 or 2
    assert (cut / "history.csv").read_text() == (whole / "history.csv").read_text()
    a = keras.models.load_model(str(whole / "model.keras"), compile=False)
    b = keras.models.load_model(str(cut / "model.keras"), compile=False)
    assert max_diff(a.weights, b.weights) == 0
    for name in ("whole", "cut"):
        with open(tmp_path / name / "summary.json") as f:
            assert len(json.load(f)["history"]["loss"]) == 3


@search_group("darts", 1)
def test_resume_with_other_settings_is_refused(shared_search):
    run = shared_search("darts", 1)
    cfg, out = run.config, run.out_dir
    with pytest.raises(ValueError, match=r"other settings \(learning_rate: 0.1 -> 0.2\)"):
        run_search(SearchConfig(**{**cfg.to_dict(), "learning_rate": 0.2}), out, verbose=0)
    # the device setup may change between a run and its resumption
    check_same_run(out, {**cfg.to_dict(), "checkpoint_every": 7}, ignore=("checkpoint_every",))


def test_run_saved_before_a_setting_existed_resumes_under_its_default(tmp_path):
    from keras_darts.resume import STATE_FILE, config_defaults

    cfg = SearchConfig.from_preset("small", method="d-darts", seed=0)
    saved = cfg.to_dict()
    del saved["min_node_inputs"]  # as an older version wrote config.json
    (tmp_path / "config.json").write_text(json.dumps(saved))
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / STATE_FILE).write_text("{}")
    assert config_defaults(cfg)["min_node_inputs"] == 1
    check_same_run(str(tmp_path), cfg)
    other = dataclasses.replace(cfg, min_node_inputs=0)
    with pytest.raises(ValueError, match=r"other settings \(min_node_inputs: 1 -> 0\)"):
        check_same_run(str(tmp_path), other)
    # a bare settings dict has no defaults: the missing key is a difference
    with pytest.raises(ValueError, match=r"min_node_inputs: None -> 1"):
        check_same_run(str(tmp_path), cfg.to_dict())


def test_unreadable_or_dangling_checkpoint_is_named(tmp_path):
    ckpt = RunCheckpoint(str(tmp_path), steps_per_epoch=4)
    assert ckpt.read_state() is None
    (tmp_path / "state.json").write_text("{truncated")
    with pytest.raises(ValueError, match="is unreadable"):
        ckpt.read_state()
    (tmp_path / "state.json").write_text(json.dumps(
        {"epoch": 1, "step": 0, "global_step": 4, "weights": "step-000000004.weights.h5"}))
    with pytest.raises(ValueError, match="which is missing"):
        ckpt.read_state()
    with pytest.raises(ValueError, match="every_steps must be a positive integer"):
        RunCheckpoint(str(tmp_path), steps_per_epoch=4, every_steps=0)


class _Record(keras.callbacks.Callback):
    def __init__(self, value=None):
        super().__init__()
        self.value = value

    def get_resume_state(self):
        return {"value": self.value}

    def set_resume_state(self, state):
        self.value = state["value"]


class _Other(_Record):
    pass


def test_callback_records_are_matched_by_class_not_position(tmp_path):
    """A callback added before another (a newer version of the run) must not cost the
    other its record; checkpoints of older versions, keyed by position, still restore."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    ckpt = RunCheckpoint(str(tmp_path), 4,
                         callbacks=[_Record("a"), _Record("b"), keras.callbacks.History()])
    ckpt.set_model(model)
    ckpt.save(1, 0)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["callbacks"] == {"_Record": {"value": "a"}, "_Record#2": {"value": "b"}}
    now = [_Other(), _Record(), _Record()]  # a new stateful callback in front
    RunCheckpoint(str(tmp_path), 4, callbacks=now).restore(model)
    assert [cb.value for cb in now] == [None, "a", "b"]
    state["callbacks"] = {"0:_Record": {"value": "x"}, "1:_Other": {"value": "y"},
                          "2:_Record": {"value": "z"}}  # an older checkpoint's keys
    (tmp_path / "state.json").write_text(json.dumps(state))
    now = [_Record(), _Other(), _Record()]
    RunCheckpoint(str(tmp_path), 4, callbacks=now).restore(model)
    assert [cb.value for cb in now] == ["x", "y", "z"]


def test_checkpoint_options_are_validated():
    with pytest.raises(ValueError, match="checkpoint_every must be a positive integer"):
        SearchConfig(checkpoint_every=0).validate()
    with pytest.raises(ValueError, match="connect_timeout must be a positive"):
        SearchConfig(connect_timeout=-1).validate()


def test_history_csv_is_cut_back_to_the_checkpoint(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,2.5\n1,2.0\n2,1.5\n3,1.")
    truncate_csv(str(path), 2)
    assert path.read_text() == "epoch,loss\n0,2.5\n1,2.0\n"
    assert read_csv_history(str(path)) == {"loss": [2.5, 2.0]}


def test_data_stream_resumes_at_any_batch():
    data = search_data("digits", batch_size=8, seed=4, max_train=64)
    steps = data.steps_per_epoch
    whole = [b[0][0].numpy() for b in data.train.take(3 * steps)]
    resumed = [b[0][0].numpy() for b in data.train_from(1, 2).take(2 * steps - 2)]
    assert all(np.array_equal(a, b) for a, b in zip(whole[steps + 2:], resumed))
    assert not np.array_equal(whole[0], whole[steps])  # a new order every epoch
    with pytest.raises(ValueError, match="No batch 4 of epoch 0"):
        data.train_from(0, steps)
