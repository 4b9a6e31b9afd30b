"""`--budget-seconds`: the epochs that fit a wall-time budget, decided once and reproducible."""

import json

import keras
import pytest

from keras_darts.cli import main
from keras_darts.training import TrainConfig, run_training

# plain-cnn on 512 images: ~0.5 s an epoch after a ~2 s first one on 2 cores.
FAST = dict(network="plain-cnn", max_train=512, batch_size=64)


class CrashAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def test_budget_decides_epochs_once_and_they_reproduce_the_run(tmp_path):
    cfg = TrainConfig.from_preset("nb201-small", budget_seconds=8.0, **FAST)
    out = tmp_path / "budget"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_training(cfg, str(out), verbose=0, callbacks=[CrashAt(2)])
    decided = json.loads((out / "config.json").read_text())["epochs"]
    assert decided > 2  # decided at the end of epoch 0 (8 s hold several 0.5 s epochs)
    _, summary = run_training(cfg, str(out), verbose=0)  # resumed: keeps the decision
    assert summary["epochs"] == decided == len(summary["history"]["loss"])
    assert summary["budget_seconds"] == 8.0
    assert json.loads((out / "config.json").read_text())["epochs"] == decided
    # The decided number as plain epochs trains the same network: the cosine's length and
    # everything else only differ from epoch 1 on, after the decision.
    fixed = TrainConfig.from_preset("nb201-small", epochs=decided, **FAST)
    _, again = run_training(fixed, str(tmp_path / "fixed"), verbose=0)
    assert again["history"]["loss"] == summary["history"]["loss"]
    assert again["test_accuracy"] == summary["test_accuracy"]
    # `--same-time-as RUN`: another network gets that run's training time as its budget (its
    # time in `fit()`, which a budget counts; the whole run adds the test and the saving).
    same = tmp_path / "same"
    assert main(["train", "--preset", "nb201-small", "--network", "plain-cnn", "--max-train",
                 "256", "--same-time-as", str(tmp_path / "fixed"), "--out", str(same),
                 "--verbose", "0"]) == 0
    assert 0 < again["fit_wall_s"] < again["wall_s"]
    assert json.loads((same / "summary.json").read_text())["budget_seconds"] == round(
        again["fit_wall_s"], 1)


@pytest.mark.parametrize("flags,match", [
    (["--budget-seconds", "0"], "budget_seconds must be a positive number of seconds"),
    (["--budget-seconds", "-5"], "budget_seconds must be a positive number of seconds"),
    (["--budget-seconds", "30", "--distribute", "multi-worker"],
     "budget_seconds cannot be used with distribute='multi-worker'"),
    (["--same-time-as", "no/such/run"], "'no/such/run' is not a finished training run"),
    (["--same-time-as", ".", "--budget-seconds", "30"],
     "Give --budget-seconds or --same-time-as, not both"),
])
def test_bad_budget_exits_2_and_writes_nothing(tmp_path, capsys, flags, match):
    out = tmp_path / "run"
    assert main(["train", "--preset", "nb201-small", "--network", "plain-cnn", "--out",
                 str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
