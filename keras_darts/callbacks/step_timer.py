"""`StepTimer`: wall time of every training step."""

import time

import keras
import numpy as np


class StepTimer(keras.callbacks.Callback):
    """Measures the wall time of each training batch.

    The first batch includes tracing and graph optimisation; `summary()`
    reports it separately from the steady-state median.

    Attributes:
        times: seconds per batch, in order.

    Example:

    >>> timer = StepTimer()
    >>> model.fit(data.train, epochs=1, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[timer])  # doctest: +SKIP
    >>> timer.summary()["median_step_s"]  # doctest: +SKIP
    """

    def __init__(self):
        super().__init__()
        self.times = []
        self._start = None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    def summary(self):
        """`{"first_step_s", "median_step_s", "steps"}` (None where not measured)."""
        rest = self.times[1:]
        return {
            "first_step_s": self.times[0] if self.times else None,
            "median_step_s": float(np.median(rest)) if rest else None,
            "steps": len(self.times),
        }
