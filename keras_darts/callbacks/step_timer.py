"""`StepTimer`: wall time of every training step, kept across resumed sessions."""

import time

import keras
import numpy as np


class StepTimer(keras.callbacks.Callback):
    """Measures the wall time of each training batch, over every session of a run.

    The first batch includes tracing and graph optimisation; `summary()`
    reports it separately from the steady-state median. Under `RunCheckpoint`
    (`keras_darts.resume.fit_resumable`) the step times and the run's wall
    time so far are saved with each checkpoint, so a resumed run reports the
    whole run, not only its last session, and reopening a finished run keeps
    the times it was measured with.

    Attributes:
        times: seconds per batch, in order (earlier sessions' first).
        resumed_wall_s: wall time of the run's earlier sessions up to their
            last checkpoint (0 for a fresh run).

    Example:

    >>> timer = StepTimer()
    >>> model.fit(data.train, epochs=1, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[timer])  # doctest: +SKIP
    >>> timer.summary()["median_step_s"]  # doctest: +SKIP
    """

    def __init__(self):
        super().__init__()
        self.times = []
        self.resumed_wall_s = 0.0
        self._resumed_steps = 0
        self._start = None
        self._fit_start = None
        self._fit_wall = 0.0

    def on_train_begin(self, logs=None):
        self._fit_start = time.perf_counter()

    def on_train_end(self, logs=None):
        if self._fit_start is not None:
            self._fit_wall += time.perf_counter() - self._fit_start
            self._fit_start = None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    def training_wall_s(self):
        """Seconds spent in `fit()` over the run so far, earlier sessions included."""
        running = time.perf_counter() - self._fit_start if self._fit_start is not None else 0.0
        return self.resumed_wall_s + self._fit_wall + running

    def run_wall_s(self, elapsed):
        """The run's wall time, given `elapsed` seconds of this session around its `fit()`.

        Args:
            elapsed: this session's seconds (training plus whatever the caller
                counts around it: restoring, evaluation, saving).

        Returns:
            `resumed_wall_s + elapsed`; for a finished run reopened without a
            step trained, the earlier sessions' wall time alone.
        """
        if self.resumed_wall_s and len(self.times) == self._resumed_steps:
            return self.resumed_wall_s
        return self.resumed_wall_s + elapsed

    def get_resume_state(self):
        """Step times and wall time so far (saved by `RunCheckpoint`)."""
        return {"times": list(self.times),
                "wall_s": round(self.training_wall_s(), 3)}

    def set_resume_state(self, state):
        """Continues from a state saved by `RunCheckpoint`."""
        self.times = [float(t) for t in state.get("times", [])]
        self._resumed_steps = len(self.times)
        self.resumed_wall_s = float(state.get("wall_s", 0.0))

    def summary(self):
        """`{"first_step_s", "median_step_s", "steps"}` (None where not measured)."""
        rest = self.times[1:]
        return {
            "first_step_s": self.times[0] if self.times else None,
            "median_step_s": float(np.median(rest)) if rest else None,
            "steps": len(self.times),
        }
