"""`DiscretizedAccuracy`: the accuracy of the derived (argmax) architecture during the search."""

import keras
import numpy as np
import tensorflow as tf


class DiscretizedAccuracy(keras.callbacks.Callback):
    """Evaluates the supernet restricted to the currently derived genotype after every epoch.

    The genotype the alphas derive now (`model.genotype()`) is turned into
    one-hot mixing weights (`model.discrete_cell_weights`) and the supernet's
    current weights are evaluated with them, in inference mode, on `data`:
    the "discretized accuracy" of SP-DARTS (its Figure 3b). A supernet whose
    accuracy depends on the subordinate ops (information bypass leakage)
    scores far below its own accuracy here.

    The value is put into the epoch's logs as `discrete_accuracy` (so
    `CSVLogger` / `History` placed after this callback record it) and kept in
    `history`.

    Args:
        data: a dataset of `(x, y)` batches (e.g. `SearchData.validation`).
        max_batches: evaluate at most this many batches (None: all).

    Raises:
        ValueError: for a non-positive `max_batches`.

    Example:

    >>> cb = DiscretizedAccuracy(data.validation, max_batches=4)  # doctest: +SKIP
    >>> model.fit(data.train, epochs=5, steps_per_epoch=data.steps_per_epoch,
    ...           callbacks=[cb])  # doctest: +SKIP
    >>> cb.history  # [{"epoch": 0, "accuracy": ..., "genotype": ...}, ...]  # doctest: +SKIP
    """

    def __init__(self, data, max_batches=None):
        super().__init__()
        if max_batches is not None and (not isinstance(max_batches, int) or max_batches < 1):
            raise ValueError(f"max_batches must be a positive integer or None. "
                             f"Received: {max_batches!r}")
        self.data = data if max_batches is None else data.take(max_batches)
        self.history = []
        self._predict = None

    def evaluate(self, genotype=None):
        """The accuracy of `genotype` (default: the current one) with the supernet's weights.

        Returns:
            The accuracy as a float.
        """
        model = self.model
        genotype = model.genotype() if genotype is None else genotype
        cell_weights = [tf.constant(w) for w in model.discrete_cell_weights(genotype)]
        if self._predict is None:
            network = model.network

            @tf.function
            def predict(x, weights):
                return network(x, list(weights), training=False)

            self._predict = predict
        correct = total = 0
        for x, y in self.data:
            logits = self._predict(x, cell_weights)
            pred = np.argmax(logits.numpy(), axis=-1)
            correct += int(np.sum(pred == np.asarray(y).reshape(-1)))
            total += len(pred)
        return correct / max(total, 1)

    def on_epoch_end(self, epoch, logs=None):
        genotype = self.model.genotype()
        acc = self.evaluate(genotype)
        self.history.append({"epoch": epoch, "accuracy": acc, "genotype": genotype.to_text()})
        if logs is not None:
            logs["discrete_accuracy"] = acc
