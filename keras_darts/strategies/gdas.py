"""GDAS (Dong and Yang, CVPR 2019): one path per edge sampled by the Gumbel-softmax.

Searching for A Robust Neural Architecture in Four GPU Hours. Each step samples, for every
edge of every cell kind, one op from the Gumbel-softmax of the alphas; the supernet computes
only the sampled ops (a sampled path, `keras_darts.search_space.mixed_op.edge_output`), with
hard one-hot weights in the forward pass and the softmax's gradient in the backward pass
(straight-through). The temperature of the Gumbel-softmax is annealed linearly from `tau_max`
(10) at the first epoch to `tau_min` (0.1) at the last.
"""

import dataclasses

import keras
import tensorflow as tf
from keras import ops

from keras_darts.strategies.base import SearchModel, register_strategy
from keras_darts.utils.config import MethodSettings, setting


@dataclasses.dataclass
class GdasSettings(MethodSettings):
    """GDAS's own settings (`GdasSearch`).

    Example:

    >>> GdasSettings(tau_max=5.0).validate().tau_min
    0.1
    """

    tau_max: float = setting(10.0, "Gumbel-softmax temperature of the first epoch")
    tau_min: float = setting(0.1, "Gumbel-softmax temperature of the last epoch (linear decay)")

    def validate(self, config=None):
        for name in ("tau_max", "tau_min"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name} must be a positive temperature. Received: {name}={v!r}")
        if self.tau_min > self.tau_max:
            raise ValueError(f"tau_min ({self.tau_min}) must not exceed tau_max ({self.tau_max}).")
        return self


def gumbel_temperature(epoch, epochs, tau_max, tau_min):
    """GDAS's temperature at `epoch` (0-based): linear from `tau_max` to `tau_min`.

    Example:

    >>> [round(gumbel_temperature(e, 3, 10.0, 0.1), 2) for e in range(3)]
    [10.0, 5.05, 0.1]
    """
    if epochs <= 1:
        return float(tau_max)
    return float(tau_max - (tau_max - tau_min) * min(epoch, epochs - 1) / (epochs - 1))


def masked_alpha(alpha, mask=None):
    """`alpha` with the ops outside `mask` (a boolean array; None: none) at -1e9: never drawn,
    never the argmax, and without gradient."""
    return alpha if mask is None else ops.where(mask, alpha, -1e9)


def hard_gumbel_softmax(alpha, tau, seed, mask=None):
    """One op per row drawn from the Gumbel-softmax of `alpha`, with straight-through weights.

    Args:
        alpha: `(num_edges, num_ops)` logits.
        tau: the temperature.
        seed: a stateless seed, an int `(2,)` tensor (the same seed, the same draw).
        mask: optional boolean `(num_edges, num_ops)` array of the ops an edge may
            draw (False: never drawn).

    Returns:
        `(index, weights)`: the drawn op of each row (int32 `(num_edges,)`), and
        weights whose value is its one-hot and whose gradient is that of the
        Gumbel-softmax probabilities.

    Example:

    >>> index, weights = hard_gumbel_softmax(alpha, 1.0, tf.constant([0, 1]))  # doctest: +SKIP
    """
    logits = ops.log_softmax(masked_alpha(alpha, mask), axis=-1)
    u = tf.random.stateless_uniform(ops.shape(alpha), seed=seed, minval=1e-10, maxval=1.0)
    probs = ops.softmax((logits - ops.log(-ops.log(u))) / tau, axis=-1)
    index = ops.cast(ops.argmax(probs, axis=-1), "int32")
    hard = ops.one_hot(index, ops.shape(alpha)[-1], dtype=probs.dtype)
    return index, hard - ops.stop_gradient(probs) + probs


class GumbelTemperatureSchedule(keras.callbacks.Callback):
    """Sets GDAS's Gumbel-softmax temperature at the start of every epoch (`gumbel_temperature`).

    Args:
        tau_max, tau_min: the temperatures of the first and the last epoch.
        epochs: the search's epochs.

    Example:

    >>> model.fit(ds, epochs=50, callbacks=[GumbelTemperatureSchedule(10, 0.1, 50)])  # doctest: +SKIP
    """

    def __init__(self, tau_max, tau_min, epochs):
        super().__init__()
        self.tau_max, self.tau_min, self.epochs = float(tau_max), float(tau_min), int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.tau.assign(gumbel_temperature(epoch, self.epochs, self.tau_max, self.tau_min))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["tau"] = float(self.model.tau.numpy())


@keras.saving.register_keras_serializable(package="keras_darts")
@register_strategy("gdas")
class GdasSearch(SearchModel):
    """GDAS: bi-level search over one Gumbel-sampled path per edge and step.

    Each iteration (first order, as the paper): the weights step on the
    training batch through one sampled path, then the alphas step on the
    validation batch through another. A path draws one op per edge and cell
    kind (`hard_gumbel_softmax`, shared by the cells of a kind, as in the
    paper); only the drawn ops run. The draws are a function of the seed and
    the step, so a resumed or repeated run draws the same paths. Evaluation
    (`test_step`) runs the current argmax path; the genotype is derived from
    the softmax of the alphas by the space's rule (DARTS: top-2 edges per node).

    Args:
        tau_max, tau_min: temperatures of the first and the last epoch
            (`default_callbacks` anneals between them; 10 and 0.1 in the paper).
        **kwargs: `SearchModel` arguments.

    Raises:
        ValueError: for non-positive temperatures or `tau_min > tau_max`.

    Example:

    >>> model = GdasSearch(num_classes=10, input_shape=(28, 28, 1), layers=5, channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=78)
    >>> model.fit(ds, epochs=10, callbacks=model.default_callbacks(10))  # doctest: +SKIP
    """

    data_mode = "bilevel"
    Settings = GdasSettings

    def __init__(self, tau_max=10.0, tau_min=0.1, **kwargs):
        GdasSettings(tau_max, tau_min).validate()
        self.tau_max, self.tau_min = float(tau_max), float(tau_min)
        self.gumbel_seed = int(kwargs.get("seed") or 0)
        super().__init__(**kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        self.tau = self.add_weight(name="tau", shape=(), trainable=False,
                                   initializer=keras.initializers.Constant(self.tau_max))

    def default_callbacks(self, epochs):
        """`[GumbelTemperatureSchedule(tau_max, tau_min, epochs)]`."""
        return [GumbelTemperatureSchedule(self.tau_max, self.tau_min, epochs)]

    def sampled_path(self, draw):
        """One sampled path per cell (cells of a kind share it), for draw `draw` of this step.

        Args:
            draw: 0 for the weight step's path, 1 for the architecture step's.

        Returns:
            A list of `(index, weights)` pairs, one per cell.
        """
        step = ops.cast(self.optimizer.iterations, "int64")
        paths = {}
        for k, (kind, alpha) in enumerate(sorted(self.architecture.variables_by_kind.items())):
            seed = ops.stack([ops.cast(self.gumbel_seed, "int64"), step * 4 + 2 * draw + k])
            paths[kind] = hard_gumbel_softmax(alpha, self.tau, seed, self._mask(kind))
        return [paths[kind] for kind in self.network.cell_types]

    def argmax_path(self):
        """The current most likely op of every edge, per cell (a single path)."""
        by_kind = {kind: ops.cast(ops.argmax(masked_alpha(alpha, self._mask(kind)), axis=-1),
                                  "int32")
                   for kind, alpha in self.architecture.variables_by_kind.items()}
        return [by_kind[kind] for kind in self.network.cell_types]

    def _mask(self, kind):
        """The op mask of `kind`'s cells, or None when every op is active."""
        mask = self.architecture.mask(kind)
        return None if mask.all() else mask

    def train_step(self, data):
        x_t, y_t, x_v, y_v = self.unpack_bilevel(data)
        with tf.GradientTape() as tape:
            loss, scaled, logits = self.compute_search_loss(x_t, y_t,
                                                            weights=self.sampled_path(0))
        grads = self.gradients(tape, scaled, self.weight_variables)
        self.apply_gradients(self.optimizer, grads, self.weight_variables, self.grad_clip)

        def arch_update():
            with tf.GradientTape() as arch_tape:
                arch_loss, arch_scaled, _ = self.compute_search_loss(
                    x_v, y_v, weights=self.sampled_path(1))
            arch_grads = self.gradients(arch_tape, arch_scaled, self.arch_variables)
            self.apply_gradients(self.arch_optimizer, arch_grads, self.arch_variables)
            return arch_loss

        arch_loss = self.when_arch_enabled(arch_update)
        return self.update_metrics(loss, y_t, logits, arch_loss)

    def eval_weights(self):
        """Evaluation runs the current argmax path (`argmax_path`)."""
        return self.argmax_path()

    def get_config(self):
        return {**super().get_config(), "tau_max": self.tau_max, "tau_min": self.tau_min}
