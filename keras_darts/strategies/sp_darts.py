"""SP-DARTS: batch-mixed sparse training with a sparse and a smooth softmax temperature."""

import dataclasses

import keras
import tensorflow as tf

from keras_darts.strategies.base import LEVELS, check_level, register_strategy
from keras_darts.strategies.bilevel import BilevelSearch, BilevelSettings
from keras_darts.utils.config import setting


def sparse_draw(probability, seed, step):
    """The Bernoulli(p) draw of one SP-DARTS iteration: True picks the sparse temperature.

    The draw is a stateless function of `(seed, step)`, so it is the same on
    every replica under `tf.distribute`, reproducible, and resumes exactly
    after a restart (the step is the weight optimizer's iteration count).

    Args:
        probability: p, the probability of the sparse temperature.
        seed: an integer seed.
        step: the iteration number (an integer tensor or int).

    Returns:
        A boolean scalar tensor.

    Example:

    >>> bool(sparse_draw(1.0, seed=0, step=3))
    True
    """
    u = tf.random.stateless_uniform((), seed=tf.stack([tf.cast(seed, tf.int64),
                                                       tf.cast(step, tf.int64)]))
    return u < tf.cast(probability, tf.float32)


def mixing_probability(epoch, epochs, p_low, p_up, warmup_epochs):
    """The SP-DARTS schedule of p (Eq. 20) at a 0-based epoch.

    `p = 0` for `epoch < warmup_epochs`, then
    `p = p_low + (p_up - p_low) * (epoch + 1 - warmup_epochs) / (epochs - warmup_epochs)`:
    linear steps that reach `p_up` at the last epoch (`epochs - 1`), as in the
    authors' released NAS-Bench-201 code (epoch `e` there mixes with
    `p = (e + 1 - i_wp) / (I - i_wp)`). Eq. 20 read with 0-based epochs would
    stop one step short of `p_up`, which at a CPU budget of a few epochs
    leaves most of the search smooth (3 epochs: p = 0, 0, 0.5 instead of
    0, 0.5, 1).

    Args:
        epoch: the 0-based epoch.
        epochs: the total number of epochs I.
        p_low, p_up: the bounds (0 <= p_low <= p_up <= 1).
        warmup_epochs: i_wp, the epochs at p = 0.

    Returns:
        p as a float.

    Raises:
        ValueError: for bounds outside [0, 1], `p_low > p_up`, or a warm-up
            that leaves no epoch.

    Example:

    >>> [round(mixing_probability(i, 5, 0.0, 1.0, 1), 2) for i in range(5)]
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    check_mixing_schedule(epochs, p_low, p_up, warmup_epochs)
    if epoch < warmup_epochs:
        return 0.0
    return float(p_low + (p_up - p_low) * (epoch + 1 - warmup_epochs) / (epochs - warmup_epochs))


def check_temperatures(t_sp, t_sm=None):
    """Validates SP-DARTS's temperatures; returns `(t_sp, t_sm)` with `t_sm` defaulted to `10 * t_sp`.

    Raises:
        ValueError: for `t_sp <= 0` or `t_sm <= t_sp`.

    Example:

    >>> check_temperatures(1e-3)
    (0.001, 0.01)
    """
    if isinstance(t_sp, bool) or not isinstance(t_sp, (int, float)) or not t_sp > 0:
        raise ValueError(f"t_sp must be a positive temperature. Received: t_sp={t_sp!r}")
    t_sm = 10.0 * t_sp if t_sm is None else t_sm
    if isinstance(t_sm, bool) or not isinstance(t_sm, (int, float)) or not t_sm > t_sp:
        raise ValueError(f"t_sm must be a temperature larger than t_sp ({t_sp}). "
                         f"Received: t_sm={t_sm!r}")
    return float(t_sp), float(t_sm)


def check_mixing_schedule(epochs, p_low, p_up, warmup_epochs):
    """Validates the p schedule's settings (see `mixing_probability`).

    Raises:
        ValueError: naming the bad setting.
    """
    for name, v in (("p_low", p_low), ("p_up", p_up)):
        if not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a probability in [0, 1]. Received: {name}={v!r}")
    if p_low > p_up:
        raise ValueError(f"p_low ({p_low}) must not exceed p_up ({p_up}).")
    if not isinstance(warmup_epochs, int) or warmup_epochs < 0:
        raise ValueError(f"The p warm-up must be a non-negative integer of epochs. "
                         f"Received: {warmup_epochs!r}")
    if epochs is not None and warmup_epochs >= epochs:
        raise ValueError(f"The p warm-up ({warmup_epochs} epochs) leaves no epoch of sparse "
                         f"training in {epochs} epochs; lower it or add epochs.")


class MixingProbabilitySchedule(keras.callbacks.Callback):
    """Sets SP-DARTS's mixing probability p at the start of every epoch (Eq. 20).

    p is assigned to the model's `mix_probability` variable, which the traced
    `train_step` reads, so no retracing happens.

    Args:
        p_low, p_up: the bounds of the linear ramp.
        warmup_epochs: epochs at p = 0 (smooth temperature only).
        epochs: the total number of epochs.

    Raises:
        ValueError: see `check_mixing_schedule`.

    Example:

    >>> schedule = MixingProbabilitySchedule(0.0, 1.0, warmup_epochs=1, epochs=50)
    >>> schedule.value(1)
    0.0
    """

    def __init__(self, p_low, p_up, warmup_epochs, epochs):
        super().__init__()
        check_mixing_schedule(epochs, p_low, p_up, warmup_epochs)
        self.p_low, self.p_up = float(p_low), float(p_up)
        self.warmup_epochs, self.epochs = warmup_epochs, epochs
        self.history = []

    def value(self, epoch):
        """p at `epoch` (0-based)."""
        return mixing_probability(epoch, self.epochs, self.p_low, self.p_up, self.warmup_epochs)

    def on_epoch_begin(self, epoch, logs=None):
        p = self.value(epoch)
        self.model.mix_probability.assign(p)
        self.history.append(p)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["mix_p"] = float(self.history[-1])


@dataclasses.dataclass
class SparseMixSettings(BilevelSettings):
    """SP-DARTS's own settings (`SparseMixSearch`), besides bi-level DARTS's.

    Example:

    >>> SparseMixSettings(t_sp=2e-3, level="single").validate().t_sp
    0.002
    """

    t_sp: float = setting(1e-3, "the sparse softmax temperature")
    t_sm: float = setting(None, "the smooth softmax temperature (None: 10 * t_sp)")
    level: str = setting("bilevel", "bi-level updates (first or second order) or single-level "
                                    "ones on one batch", choices=LEVELS)
    p_low: float = setting(0.0, "the mixing probability's value after its warm-up")
    p_up: float = setting(1.0, "the mixing probability's value at the last epoch")
    p_warmup_epochs: int = setting(1, "epochs at mixing probability 0 (smooth temperature only)")

    def validate(self, config=None):
        super().validate(config)
        check_temperatures(self.t_sp, self.t_sm)
        check_level(self.level)
        check_mixing_schedule(None if config is None else config.epochs, self.p_low, self.p_up,
                              self.p_warmup_epochs)
        return self


@keras.saving.register_keras_serializable(package="keras_darts")
@register_strategy("sp-darts")
class SparseMixSearch(BilevelSearch):
    """SP-DARTS: each iteration trains with a sparse or a smooth softmax, by a Bernoulli(p) draw.

    The sparse softmax `softmax(A / t_sp)` (tiny `t_sp`) approximates the
    discrete architecture and removes the information bypass leakage of
    subordinate ops; the smooth one `softmax(A / t_sm)` keeps gradients
    flowing. Each iteration draws `phi ~ Bernoulli(p)` and uses `t_sp` if
    `phi` else `t_sm` for that iteration's architecture step and weight step
    (Algorithm 1). p is scheduled per epoch by `MixingProbabilitySchedule`
    (`default_callbacks(epochs)`): 0 during `p_warmup_epochs`, then linear
    in steps that reach `p_up` at the last epoch (see `mixing_probability`).

    Optimisation is bi-level (`level="bilevel"`, first or second order via
    `order`) or single-level (`level="single"`, batches `(x, y)`).

    The genotype and the entropies are taken of `softmax(A)` at the
    architecture's own temperature variable (`temperature`, 1 by default),
    so derivation does not see the saturation of the sparse softmax; ties
    go to the lower op / edge index. The IES is logged at `t_sp`, as the
    paper plots it (at temperature 1 the small alpha steps that the sparse
    softmax amplifies would leave it at its maximum). Evaluation (`test_step`) uses `t_sp`
    when `p >= 0.5`, else `t_sm`.

    Logged metrics add `sparse_share` (share of this epoch's iterations that
    used `t_sp`) and `mix_p`.

    Args:
        t_sp: the sparse temperature (> 0; 1e-3 in the paper's DARTS space,
            1.1e-3 / 1.3e-3 on NAS-Bench-201 CIFAR-10 / 100).
        t_sm: the smooth temperature (None: `10 * t_sp`); must exceed `t_sp`.
        level: `"bilevel"` or `"single"`.
        p_low, p_up: bounds of the p schedule (0 and 1 in the paper).
        p_warmup_epochs: epochs at p = 0 (1 in the paper).
        mix_seed: seed of the Bernoulli draws (None: `seed`, or 0).
        **kwargs: `BilevelSearch` / `SearchModel` arguments.

    Raises:
        ValueError: for `t_sp <= 0`, `t_sm <= t_sp`, p bounds outside
            [0, 1], `p_low > p_up`, or an unknown level.

    Example:

    >>> model = SparseMixSearch(t_sp=1.1e-3, num_classes=10, input_shape=(28, 28, 1),
    ...                         space="nb201", cells_per_stage=1, channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=78)
    >>> model.fit(ds, epochs=10, callbacks=model.default_callbacks(10))  # doctest: +SKIP
    """

    Settings = SparseMixSettings
    default_arch_weight_decay = 0.0

    def __init__(self, t_sp=1e-3, t_sm=None, level="bilevel", p_low=0.0, p_up=1.0,
                 p_warmup_epochs=1, mix_seed=None, **kwargs):
        SparseMixSettings(kwargs.get("order", 1), kwargs.get("reuse_train_gradient", False),
                          t_sp, t_sm, level, p_low, p_up, p_warmup_epochs).validate()
        t_sp, t_sm = check_temperatures(t_sp, t_sm)
        self.t_sp, self.t_sm = float(t_sp), float(t_sm)
        self.level = level
        self.data_mode = level
        self.p_low, self.p_up, self.p_warmup_epochs = float(p_low), float(p_up), p_warmup_epochs
        seed = kwargs.get("seed")
        self.mix_seed = int(mix_seed if mix_seed is not None else (seed or 0))
        super().__init__(**kwargs)

    @property
    def reports_arch_loss(self):
        return self.level == "bilevel"

    def build(self, input_shape):
        self.sparse_tracker = keras.metrics.Mean(name="sparse_share")
        super().build(input_shape)
        self.mix_probability = self.add_weight(name="mix_probability", shape=(),
                                               initializer="zeros", trainable=False)

    @property
    def metrics(self):
        return [*super().metrics, self.sparse_tracker]

    def default_callbacks(self, epochs):
        """`[MixingProbabilitySchedule(p_low, p_up, p_warmup_epochs, epochs)]`."""
        return [MixingProbabilitySchedule(self.p_low, self.p_up, self.p_warmup_epochs, epochs)]

    def iteration_temperature(self):
        """Draws this iteration's temperature; returns `(temperature, used_sparse)`."""
        phi = sparse_draw(self.mix_probability, self.mix_seed, self.optimizer.iterations)
        return tf.where(phi, self.t_sp, self.t_sm), phi

    def eval_temperature(self):
        return tf.where(self.mix_probability >= 0.5, self.t_sp, self.t_sm)

    @property
    def ies_temperature(self):
        """`t_sp`: the paper's IES (Fig. 3a) and its released code take `softmax(A / t_sp)`."""
        return self.t_sp

    def train_step(self, data):
        t, phi = self.iteration_temperature()
        self.sparse_tracker.update_state(tf.cast(phi, "float32"))
        if self.level == "single":
            x, y = self.unpack_single(data)
            loss, logits = self.single_level_update(x, y, temperature=t)
            return self.update_metrics(loss, y, logits)
        x_t, y_t, x_v, y_v = self.unpack_bilevel(data)
        loss, logits, arch_loss = self.bilevel_update(x_t, y_t, x_v, y_v, temperature=t)
        return self.update_metrics(loss, y_t, logits, arch_loss)

    def get_config(self):
        return {**super().get_config(), "t_sp": self.t_sp, "t_sm": self.t_sm,
                "level": self.level, "p_low": self.p_low, "p_up": self.p_up,
                "p_warmup_epochs": self.p_warmup_epochs, "mix_seed": self.mix_seed}
