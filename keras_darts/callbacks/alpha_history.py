"""`AlphaHistory`: the architecture parameters and mixing weights after every epoch."""

import csv
import io
import os

import keras
from keras import ops

from keras_darts.utils.io import atomic_write_json, atomic_write_text


class AlphaHistory(keras.callbacks.Callback):
    """Records alphas, mixing weights and the IES per epoch to JSON, CSV and TensorBoard.

    The record starts with the initial values (epoch -1). Every entry holds
    the information entropy summation `ies` (SP-DARTS Eq. 21, see
    `ArchitectureParameters.ies`) at the model's `ies_temperature` (1;
    SP-DARTS: `t_sp`), which is also put into the epoch's logs (so
    `CSVLogger`, TensorBoard and `History` placed after this callback
    record it). Files are rewritten
    atomically at every epoch end, so a crash never leaves a truncated file.

    Args:
        json_path: JSON file with one entry per epoch (None: off).
        csv_path: CSV file with one row per (epoch, alpha, edge, op) (None: off).
        log_dir: TensorBoard directory for per-op weight scalars and per-alpha
            histograms (None: off).

    Attributes:
        history: list of `{"epoch", "alphas", "weights", "ies"}` dicts.

    Example:

    >>> model.fit(data.train, epochs=5, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[AlphaHistory("run/alpha_history.json")])  # doctest: +SKIP
    """

    def __init__(self, json_path=None, csv_path=None, log_dir=None):
        super().__init__()
        self.json_path = json_path
        self.csv_path = csv_path
        self.log_dir = log_dir
        self.history = []
        self._writer = None

    def _record(self, epoch):
        arch = self.model.architecture
        alphas = {k: ops.convert_to_numpy(v).tolist() for k, v in arch.variables_by_kind.items()}
        weights = {k: w.tolist() for k, w in arch.weights_by_kind().items()}
        entry = {"epoch": epoch, "alphas": alphas, "weights": weights,
                 "ies": float(ops.convert_to_numpy(
                     arch.ies(getattr(self.model, "ies_temperature", 1.0))))}
        self.history.append(entry)
        self._write(entry)
        return entry

    def _write(self, entry):
        primitives = list(self.model.primitives)
        if self.json_path:
            atomic_write_json(self.json_path, {"primitives": primitives, "history": self.history})
        if self.csv_path:
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["epoch", "alpha", "edge", "op", "alpha_value", "weight"])
            for e in self.history:
                for key, rows in e["alphas"].items():
                    for edge, row in enumerate(rows):
                        for k, op in enumerate(primitives):
                            w.writerow([e["epoch"], key, edge, op, row[k],
                                        e["weights"][key][edge][k]])
            atomic_write_text(self.csv_path, buf.getvalue())
        if self.log_dir:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "alphas"))
            step = entry["epoch"] + 1
            with self._writer.as_default():
                tf.summary.scalar("ies", entry["ies"], step=step)
                for key, rows in entry["weights"].items():
                    tf.summary.histogram(f"alpha/{key}", entry["alphas"][key], step=step)
                    for edge, row in enumerate(rows):
                        for k, op in enumerate(primitives):
                            tf.summary.scalar(f"weight_{key}/edge_{edge}/{op}", row[k], step=step)
            self._writer.flush()

    def get_resume_state(self):
        """The records so far (saved by `RunCheckpoint`)."""
        return self.history

    def set_resume_state(self, state):
        """Continues from records saved by `RunCheckpoint`; the files follow at the next epoch end."""
        self.history = list(state)

    def on_train_begin(self, logs=None):
        if not self.history:
            self._record(-1)

    def on_epoch_end(self, epoch, logs=None):
        entry = self._record(epoch)
        if logs is not None:
            logs["ies"] = entry["ies"]

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
