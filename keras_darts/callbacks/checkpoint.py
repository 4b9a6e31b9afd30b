"""`WeightsCheckpoint`: model weights (network and alphas) saved atomically every epoch."""

import os

import keras

from keras_darts.utils.io import atomic_path


class WeightsCheckpoint(keras.callbacks.Callback):
    """Saves all model variables (network weights, alphas, switches) after every epoch.

    The file is written under a temporary name and renamed, so a kill during
    the write leaves the previous checkpoint intact.

    Args:
        filepath: a `.weights.h5` path.

    Raises:
        ValueError: if `filepath` does not end in `.weights.h5`.

    Example:

    >>> cb = WeightsCheckpoint("run/checkpoints/last.weights.h5")
    """

    def __init__(self, filepath):
        super().__init__()
        if not filepath.endswith(".weights.h5"):
            raise ValueError(f"filepath must end in '.weights.h5'. Received: {filepath!r}")
        self.filepath = filepath

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(os.path.dirname(os.path.abspath(self.filepath)), exist_ok=True)
        with atomic_path(self.filepath, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp, overwrite=True)
