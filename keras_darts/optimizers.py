"""Optimizers and schedules that match the reference implementations.

Keras's SGD keeps `m <- mu*m - lr*g` and decays weights decoupled; the DARTS
references use PyTorch's SGD (`b <- mu*b + g`, `w <- w - lr*b`) with coupled
L2 decay (`g <- g + wd*w`, added after gradient clipping). These classes do
exactly that, so the second-order virtual step can read PyTorch's momentum
buffer `b` and searches follow the reference's update rule.
"""

import math

import keras
import tensorflow as tf
from keras import ops


def _check_non_negative(**values):
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, (int, float)) and value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value!r}")


class _GlobalClipAcrossReplicas:
    """`global_clipnorm` on the gradient of the global batch, also under tf.distribute.

    Keras clips each replica's partial gradient before summing them; here every
    replica scales its part by the factor of the summed gradient's norm, so the
    sum equals the one-device clipped gradient.
    """

    def _clip_gradients(self, grads):
        from keras_darts.utils.distribute import all_reduce_sum, num_replicas

        if self.global_clipnorm is None or num_replicas() == 1:
            return super()._clip_gradients(grads)
        present = [g for g in grads if g is not None]
        norm = tf.linalg.global_norm(all_reduce_sum(present))
        scale = tf.minimum(1.0, self.global_clipnorm / tf.maximum(norm, 1e-12))
        return [None if g is None else g * ops.cast(scale, g.dtype) for g in grads]


@keras.saving.register_keras_serializable(package="keras_darts")
class CoupledSGD(_GlobalClipAcrossReplicas, keras.optimizers.Optimizer):
    """SGD with PyTorch-style momentum and coupled (L2) weight decay.

    Per variable: `g <- g + coupled_weight_decay * w`, `b <- momentum * b + g`,
    `w <- w - lr * b` (`b` starts at zero, so the first step sets `b = g`, as
    PyTorch does).

    Args:
        learning_rate: float or `LearningRateSchedule`.
        momentum: momentum factor in [0, 1).
        coupled_weight_decay: L2 coefficient added to the gradient.
        name: optimizer name.
        **kwargs: other `keras.optimizers.Optimizer` arguments.

    Raises:
        ValueError: for a negative learning rate or decay, or momentum outside [0, 1).

    Example:

    >>> opt = CoupledSGD(0.025, momentum=0.9, coupled_weight_decay=3e-4)
    """

    def __init__(self, learning_rate=0.025, momentum=0.9, coupled_weight_decay=0.0,
                 name="coupled_sgd", **kwargs):
        _check_non_negative(learning_rate=learning_rate if not callable(learning_rate) else None,
                            coupled_weight_decay=coupled_weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={momentum!r}")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = float(momentum)
        self.coupled_weight_decay = float(coupled_weight_decay)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentum_buffers = self.add_optimizer_variables(variables, "momentum_buffer")

    def buffer(self, variable):
        """PyTorch's momentum buffer `b` of `variable` (zeros before the first step)."""
        return self.momentum_buffers[self._get_variable_index(variable)]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        if self.coupled_weight_decay:
            g = g + self.coupled_weight_decay * variable
        b = self.buffer(variable)
        # b starts at zero, so the first step gives b = g, as in PyTorch.
        self.assign(b, self.momentum * b + g)
        self.assign_sub(variable, lr * b)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum,
                "coupled_weight_decay": self.coupled_weight_decay}


@keras.saving.register_keras_serializable(package="keras_darts")
class CoupledAdam(_GlobalClipAcrossReplicas, keras.optimizers.Adam):
    """Adam with coupled (L2) weight decay: `g <- g + coupled_weight_decay * w` first.

    The DARTS architecture optimizer is `CoupledAdam(3e-4, beta_1=0.5,
    beta_2=0.999, coupled_weight_decay=1e-3)`.

    Args:
        learning_rate: float or schedule.
        coupled_weight_decay: L2 coefficient added to the gradient.
        **kwargs: other `keras.optimizers.Adam` arguments.

    Example:

    >>> opt = CoupledAdam(3e-4, beta_1=0.5, coupled_weight_decay=1e-3)
    """

    def __init__(self, learning_rate=3e-4, coupled_weight_decay=0.0, name="coupled_adam",
                 **kwargs):
        _check_non_negative(learning_rate=learning_rate if not callable(learning_rate) else None,
                            coupled_weight_decay=coupled_weight_decay)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.coupled_weight_decay = float(coupled_weight_decay)

    def update_step(self, gradient, variable, learning_rate):
        if self.coupled_weight_decay:
            gradient = ops.cast(gradient, variable.dtype) + self.coupled_weight_decay * variable
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "coupled_weight_decay": self.coupled_weight_decay}


@keras.saving.register_keras_serializable(package="keras_darts")
class EpochCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine annealing stepped once per epoch, as the references' `CosineAnnealingLR`.

    `lr(epoch) = min_lr + (initial_lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2`
    with `epoch = step // steps_per_epoch`.

    Args:
        initial_learning_rate: learning rate of epoch 0.
        epochs: the schedule's length (T_max).
        steps_per_epoch: optimizer steps per epoch.
        min_learning_rate: the floor (eta_min).
        adjustable: keep the length in a variable, so that `set_epochs` can
            change it in a traced training step (a time budget decides it
            after the first epoch, whose rate does not depend on it).

    Raises:
        ValueError: for non-positive epochs or steps, or a negative rate.

    Example:

    >>> lr = EpochCosineDecay(0.025, epochs=50, steps_per_epoch=391, min_learning_rate=0.001)
    >>> round(float(lr(0)), 4)
    0.025
    """

    def __init__(self, initial_learning_rate, epochs, steps_per_epoch, min_learning_rate=0.0,
                 adjustable=False):
        for name, value in (("initial_learning_rate", initial_learning_rate),
                            ("min_learning_rate", min_learning_rate)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={value!r}")
        for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
            if int(value) < 1:
                raise ValueError(f"{name} must be >= 1. Received: {name}={value!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.epochs = int(epochs)
        self.steps_per_epoch = int(steps_per_epoch)
        self.min_learning_rate = float(min_learning_rate)
        self._epochs_variable = (keras.Variable(float(self.epochs), dtype="float32",
                                                trainable=False, name="schedule_epochs")
                                 if adjustable else None)

    def set_epochs(self, epochs):
        """Sets the schedule's length; traced steps see it (with `adjustable=True`).

        Args:
            epochs: the new length, a positive integer.

        Raises:
            ValueError: for a non-positive length, or a schedule built
                without `adjustable=True`.
        """
        if self._epochs_variable is None:
            raise ValueError("This schedule's length is fixed: build it with adjustable=True.")
        if int(epochs) < 1:
            raise ValueError(f"epochs must be >= 1. Received: epochs={epochs!r}")
        self.epochs = int(epochs)
        self._epochs_variable.assign(float(self.epochs))

    def __call__(self, step):
        total = self._epochs_variable if self._epochs_variable is not None else float(self.epochs)
        epoch = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        epoch = ops.minimum(epoch, total)
        cos = 0.5 * (1.0 + ops.cos(math.pi * epoch / total))
        return self.min_learning_rate + (self.initial_learning_rate - self.min_learning_rate) * cos

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "epochs": self.epochs,
                "steps_per_epoch": self.steps_per_epoch,
                "min_learning_rate": self.min_learning_rate}


def search_optimizers(epochs, steps_per_epoch, learning_rate=0.025, min_learning_rate=0.001,
                      momentum=0.9, weight_decay=3e-4, arch_learning_rate=3e-4,
                      arch_weight_decay=1e-3, arch_beta_1=0.5, arch_beta_2=0.999):
    """The DARTS search optimizers: weights SGD + per-epoch cosine, alphas Adam.

    Args:
        epochs: search epochs (the cosine's length).
        steps_per_epoch: steps per epoch.
        learning_rate: initial weight learning rate (0.025).
        min_learning_rate: final weight learning rate (0.001).
        momentum: SGD momentum (0.9).
        weight_decay: coupled weight decay of the network weights (3e-4).
        arch_learning_rate: Adam learning rate of the alphas (3e-4).
        arch_weight_decay: coupled weight decay of the alphas (1e-3).
        arch_beta_1: Adam beta_1 (0.5).
        arch_beta_2: Adam beta_2 (0.999).

    Returns:
        `(weight_optimizer, arch_optimizer)`.

    Raises:
        ValueError: for negative rates or decays, or non-positive epochs/steps.

    Example:

    >>> w_opt, a_opt = search_optimizers(epochs=50, steps_per_epoch=391)
    """
    _check_non_negative(learning_rate=learning_rate, arch_learning_rate=arch_learning_rate,
                        weight_decay=weight_decay, arch_weight_decay=arch_weight_decay)
    schedule = EpochCosineDecay(learning_rate, epochs, steps_per_epoch, min_learning_rate)
    weight_opt = CoupledSGD(schedule, momentum=momentum, coupled_weight_decay=weight_decay)
    arch_opt = CoupledAdam(arch_learning_rate, coupled_weight_decay=arch_weight_decay,
                           beta_1=arch_beta_1, beta_2=arch_beta_2, name="arch_adam")
    return weight_opt, arch_opt
