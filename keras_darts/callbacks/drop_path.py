"""`DropPathSchedule`: the drop-path probability ramped linearly over training."""

import keras


class DropPathSchedule(keras.callbacks.Callback):
    """Sets every `DropPath` layer's rate to `max_rate * epoch / epochs` at each epoch start.

    As in the reference implementation, the probability grows linearly from
    0 in the first epoch towards `max_rate`.

    Args:
        max_rate: the final drop probability (0.2 for CIFAR).
        epochs: the total number of training epochs.

    Raises:
        ValueError: for a rate outside [0, 1) or non-positive epochs.

    Example:

    >>> model.fit(data.train, epochs=600, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[DropPathSchedule(0.2, epochs=600)])  # doctest: +SKIP
    """

    def __init__(self, max_rate, epochs):
        super().__init__()
        if not 0 <= max_rate < 1:
            raise ValueError(f"max_rate must be in [0, 1). Received: max_rate={max_rate!r}")
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
        self.max_rate = float(max_rate)
        self.epochs = epochs

    def rate(self, epoch):
        """The drop probability used during `epoch` (0-based)."""
        return self.max_rate * epoch / self.epochs

    def on_epoch_begin(self, epoch, logs=None):
        from keras_darts.networks.layers import DropPath

        rate = self.rate(epoch)
        # Private Keras API, where Keras 3 has no public route: `_flatten_layers` is the only
        # walk over nested sublayers (`Model.layers` lists the top level only).
        for layer in self.model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, DropPath):
                layer.rate.assign(rate)
