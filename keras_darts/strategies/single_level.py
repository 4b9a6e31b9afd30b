"""Single-level DARTS: weights and alphas updated from the same batch."""

import keras

from keras_darts.strategies.base import SearchModel, register_strategy


@keras.saving.register_keras_serializable(package="keras_darts")
@register_strategy("single-level")
class SingleLevelSearch(SearchModel):
    """Single-level optimisation: one loss on one batch updates weights and alphas.

    Batches are `(x, y)` drawn from the whole training set (no split). The
    weight gradient is clipped by global norm as in the bi-level search; the
    architecture gradient is not.

    Args:
        **kwargs: `SearchModel` arguments.

    Example:

    >>> model = SingleLevelSearch(num_classes=10, input_shape=(28, 28, 1), layers=5,
    ...                           channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=156)
    """

    data_mode = "single"
    reports_arch_loss = False

    def train_step(self, data):
        x, y = self.unpack_single(data)
        loss, logits = self.single_level_update(x, y)
        return self.update_metrics(loss, y, logits)
