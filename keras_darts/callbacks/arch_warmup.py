"""`ArchitectureWarmup`: freeze the alphas for the first epochs."""

import keras


class ArchitectureWarmup(keras.callbacks.Callback):
    """Keeps the architecture parameters frozen for the first `epochs` epochs.

    During warm-up only the network weights train (PC-DARTS freezes alphas
    for 15 epochs). The switch is a model variable read by the traced
    `train_step`, so no retracing happens; while off, the architecture
    optimizer's state does not change.

    Args:
        epochs: number of warm-up epochs (>= 0).

    Raises:
        ValueError: for a negative number of epochs.

    Example:

    >>> model.fit(data.train, epochs=50, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[ArchitectureWarmup(15)])  # doctest: +SKIP
    """

    def __init__(self, epochs):
        super().__init__()
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer. Received: epochs={epochs!r}")
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.arch_updates_enabled.assign(1.0 if epoch >= self.epochs else 0.0)

    def on_train_end(self, logs=None):
        self.model.arch_updates_enabled.assign(1.0)
