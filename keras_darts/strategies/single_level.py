"""Single-level DARTS: weights and alphas updated from the same batch."""

import keras
import tensorflow as tf

from keras_darts.strategies.base import SearchModel


@keras.saving.register_keras_serializable(package="keras_darts")
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
        if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], (tuple, list)):
            raise ValueError(
                "SingleLevelSearch expects batches (x, y); build them with "
                "keras_darts.data.search_data(..., mode='single')."
            )
        x, y = data[0], data[1]
        w_vars, a_vars = self.weight_variables, self.arch_variables
        with tf.GradientTape() as tape:
            loss, scaled, logits = self.compute_search_loss(x, y)
        grads = tape.gradient(scaled, w_vars + a_vars)
        w_grads, a_grads = grads[:len(w_vars)], grads[len(w_vars):]
        self.apply_gradients(self.optimizer, w_grads, w_vars, self.grad_clip)

        def arch_update():
            self.apply_gradients(self.arch_optimizer, a_grads, a_vars)
            return tf.constant(0.0)

        self.when_arch_enabled(arch_update)
        return self.update_metrics(loss, y, logits)
