"""`TimeBudget`: as many epochs as fit in a wall-time budget, decided after the first one."""

import time

import keras
import numpy as np


class TimeBudget(keras.callbacks.Callback):
    """Decides a training's number of epochs from its first epoch's wall time.

    The first epoch runs whatever the total is (a per-epoch cosine and the
    drop-path ramp do not depend on it during epoch 0). At its end, its
    training and validation steps at their median time (the first step
    traces, the first epoch fills the data caches) plus the time it spent
    outside steps from its first step on (validation set-up, callbacks)
    estimate every later epoch; the run then gets `1 + floor(remaining / estimate)`
    epochs, at least 1, `on_decided(epochs)` is called (to set the learning
    rate schedule's length, the drop-path ramp's, and record the choice), and
    training stops at the end of the last one. A run given the decided number
    as its epochs trains exactly the same network.

    Args:
        budget_s: seconds of training, from the start of `fit()` (tracing,
            validation and checkpoints included; building the network and the
            final test evaluation are not).
        on_decided: `fn(epochs)`, called once with the decision.

    Raises:
        ValueError: for a budget that is not a positive number.

    Attributes:
        epochs: the decided number of epochs (None before the first epoch ends).
        estimate_s: the estimated seconds per epoch after the first.

    Example:

    >>> budget = TimeBudget(120, on_decided=schedule.set_epochs)
    >>> model.fit(data.train, epochs=10_000, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[budget])  # doctest: +SKIP
    """

    def __init__(self, budget_s, on_decided=None):
        super().__init__()
        check_budget(budget_s)
        self.budget_s = float(budget_s)
        self.on_decided = on_decided
        self.epochs = None
        self.estimate_s = None
        self._start = None
        self._batch_start = None
        self._first_step = None
        self._times = {"train": [], "test": []}

    def on_train_begin(self, logs=None):
        if self._start is None:
            self._start = time.perf_counter()

    def _begin(self):
        self._batch_start = time.perf_counter()
        if self._first_step is None:
            self._first_step = self._batch_start

    def _end(self, kind):
        if self.epochs is None and self._batch_start is not None:
            self._times[kind].append(time.perf_counter() - self._batch_start)

    def on_train_batch_begin(self, batch, logs=None):
        self._begin()

    def on_train_batch_end(self, batch, logs=None):
        self._end("train")

    def on_test_batch_begin(self, batch, logs=None):
        self._begin()

    def on_test_batch_end(self, batch, logs=None):
        self._end("test")

    def on_epoch_end(self, epoch, logs=None):
        if self.epochs is None:
            now = time.perf_counter()
            elapsed = now - self._start
            # Steps at their median time (the first one traces, and the first epoch's others
            # fill the data caches), plus what the epoch spent outside steps from its first
            # step on (validation set-up, callbacks); what `fit()` does once before its first
            # step (callbacks' set-up, the data iterator) is not counted per epoch.
            steps = sum(len(t) * float(np.median(t[1:] if len(t) > 1 else t))
                        for t in self._times.values() if t)
            outside = (now - (self._first_step or self._start)
                       - sum(sum(t) for t in self._times.values()))
            self.estimate_s = max(steps + max(outside, 0.0), 1e-6)
            remaining = self.budget_s - elapsed
            self.epochs = epoch + 1 + max(int(remaining // self.estimate_s), 0)
            if self.on_decided is not None:
                self.on_decided(self.epochs)
        if epoch + 1 >= self.epochs:
            self.model.stop_training = True


def check_budget(budget_s):
    """Raises `ValueError` unless `budget_s` is a positive number of seconds.

    Example:

    >>> check_budget(60)
    """
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or not budget_s > 0:
        raise ValueError(f"budget_seconds must be a positive number of seconds. "
                         f"Received: {budget_s!r}")
