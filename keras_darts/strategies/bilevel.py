"""Bi-level DARTS: first order and second order (unrolled, finite-difference Hessian)."""

import dataclasses

import keras
import tensorflow as tf
from keras import ops

from keras_darts.optimizers import CoupledSGD
from keras_darts.strategies.base import (
    SearchModel, all_reduce_sum, fill_none_gradients, register_strategy,
)
from keras_darts.utils.config import MethodSettings, setting
from keras_darts.utils.distribute import num_replicas


@dataclasses.dataclass
class BilevelSettings(MethodSettings):
    """Bi-level DARTS's own settings (`BilevelSearch`).

    Example:

    >>> BilevelSettings(order=2, reuse_train_gradient=True).validate().order
    2
    """

    order: int = setting(1, "1: first-order DARTS; 2: second order (unrolled, finite-"
                            "difference Hessian-vector product)", choices=(1, 2))
    reuse_train_gradient: bool = setting(
        False, "second order only: the weight step reuses the virtual step's training "
               "gradient (4 passes a step instead of 5)")

    def validate(self, config=None):
        if self.order not in (1, 2) or isinstance(self.order, bool):
            raise ValueError(f"order must be 1 or 2. Received: order={self.order!r}")
        if self.reuse_train_gradient and self.order != 2:
            raise ValueError(
                "reuse_train_gradient=True reuses second order's virtual-step gradient; it "
                f"needs order=2. Received: order={self.order!r}")
        return self


@keras.saving.register_keras_serializable(package="keras_darts")
@register_strategy("darts")
class BilevelSearch(SearchModel):
    """Bi-level DARTS: an architecture step on a validation batch, then a weight step.

    Each iteration takes `((x_train, y_train), (x_val, y_val))`. First the
    alphas move along the gradient of the validation loss, then the weights
    along the gradient of the training loss (the reference's order).

    * `order=1`: the architecture gradient is `dL_val(w, a)/da`.
    * `order=2`: the unrolled gradient of DARTS,
      `dL_val(w', a)/da - xi * d2L_train(w, a)/(da dw) . dL_val(w', a)/dw'`
      with the virtual step `w' = w - xi * (mu * b + dL_train/dw + wd * w)`
      (xi the current weight learning rate, `b` the SGD momentum buffer, `wd`
      the coupled weight decay) and the Hessian-vector product by central
      finite differences at `w +- eps * dL_val(w')/dw'`,
      `eps = fd_scale / ||dL_val(w')/dw'||` (`fd_scale=0.01` in the reference).
      Weights are restored exactly from a copy afterwards. Needs the weight
      optimizer to be `CoupledSGD`.

    Second order runs five forward/backward passes where first order runs
    two: the training gradient at `w` (virtual step), the validation
    gradients at `w'`, the two finite-difference passes, and the weight
    step's training gradient. The weight step's gradient is the virtual
    step's, except that it is taken after the alphas moved. With
    `reuse_train_gradient=True` the weight step applies the virtual step's
    gradient (at the alphas before this iteration's architecture step): one
    pass fewer, 4 against 2 (measured on 2 CPU cores, paper supernet: 2.2x
    the time of a first-order step instead of 2.7x).
    Weights and alphas then both step from the same state (a simultaneous
    rather than an alternating update); the paper's Algorithm 1 and the
    reference alternate, which is the default.

    Args:
        order: 1 or 2.
        fd_scale: step of the finite-difference Hessian-vector product,
            relative to the norm of the direction (0.01 as in the reference).
        reuse_train_gradient: second order only: the weight step reuses the
            virtual step's training gradient (see above).
        **kwargs: `SearchModel` arguments.

    Raises:
        ValueError: for another order, a non-positive `fd_scale`, or
            `reuse_train_gradient` with `order=1`.

    Example:

    >>> model = BilevelSearch(order=2, num_classes=10, input_shape=(28, 28, 1), layers=5,
    ...                       channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=78)
    """

    data_mode = "bilevel"
    Settings = BilevelSettings

    def __init__(self, order=1, fd_scale=0.01, reuse_train_gradient=False, **kwargs):
        BilevelSettings(order, reuse_train_gradient).validate()
        if not fd_scale > 0:
            raise ValueError(f"fd_scale must be positive. Received: fd_scale={fd_scale!r}")
        self.order = order
        # Second order's passes are non-inlined functions, each traced once already; with
        # shared edges inside them its steps ran ~5% slower (small preset): inline there.
        self.shares_edge_traces = order == 1
        self.fd_scale = float(fd_scale)
        self.reuse_train_gradient = bool(reuse_train_gradient)
        super().__init__(**kwargs)

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        if self.order == 2 and not isinstance(self.optimizer, CoupledSGD):
            raise ValueError(
                "Second-order DARTS needs the weight optimizer to be keras_darts.optimizers."
                f"CoupledSGD (its virtual step uses PyTorch-style momentum buffers). Received: "
                f"{type(self.optimizer).__name__}"
            )

    def train_step(self, data):
        x_t, y_t, x_v, y_v = self.unpack_bilevel(data)
        loss, logits, arch_loss = self.bilevel_update(x_t, y_t, x_v, y_v)
        return self.update_metrics(loss, y_t, logits, arch_loss)

    def bilevel_update(self, x_t, y_t, x_v, y_v, temperature=None):
        """One bi-level iteration: the architecture step, then the weight step.

        Args:
            x_t, y_t: the weight (training) batch.
            x_v, y_v: the architecture (validation) batch.
            temperature: activation temperature of both steps (None: the
                architecture's temperature variable).

        Returns:
            `(loss, logits, arch_loss)`.
        """
        if self.order == 1:
            arch_loss = self.when_arch_enabled(
                lambda: self.first_order_arch_step(x_v, y_v, temperature))
            loss, logits = self.weight_step(x_t, y_t, temperature)
            return loss, logits, arch_loss
        if self.reuse_train_gradient:
            # One training pass at (w, alpha) serves the virtual step and the weight step.
            loss, logits, train_grads = self.train_gradient(x_t, y_t, temperature)
            arch_loss = self.when_arch_enabled(lambda: self.second_order_arch_step(
                x_t, y_t, x_v, y_v, temperature, train_grads=train_grads))
            with tf.control_dependencies([arch_loss]):
                train_grads = [tf.identity(g) for g in train_grads]
        else:
            arch_loss = self.when_arch_enabled(
                lambda: self.second_order_arch_step(x_t, y_t, x_v, y_v, temperature))
            loss, logits, train_grads = self.train_gradient(x_t, y_t, temperature)
        self.apply_gradients(self.optimizer, train_grads, self.weight_variables, self.grad_clip,
                             reduced=True)
        return loss, logits, arch_loss

    def pass_gradients(self, x, y, temperature=None, weights=True):
        """One forward/backward pass of second order, traced once and shared.

        The five passes of a second-order step compute the same function of
        the current variables (gradients of the search loss on a batch), so
        each kind is one non-inlined `tf.function` called several times:
        the step's graph holds two pass bodies instead of five (less tracing,
        graph optimisation and memory). Eagerly, or under several replicas
        (synchronized BatchNorm all-reduces, which may not sit in a nested
        `tf.function`), the pass is inlined.

        Args:
            x, y: the batch.
            temperature: activation temperature (None: the temperature variable).
            weights: also return the weights' gradients (else the alphas' only,
                which skips the filter gradients).

        Returns:
            `(loss, logits, arch_grads, weight_grads)` on this replica
            (`weight_grads` None when `weights=False`).
        """
        if tf.executing_eagerly() or num_replicas() > 1:
            return self._pass_gradients(x, y, temperature, weights)
        # Kept in __dict__, out of Keras's attribute tracking: traced functions, not state.
        fns = self.__dict__.setdefault("_shared_passes", {})
        if weights not in fns:
            fns[weights] = tf.function(
                lambda x, y, t: self._pass_gradients(x, y, t, weights), autograph=False,
                experimental_attributes={"_noinline": True})
        return fns[weights](x, y, temperature)

    def _pass_gradients(self, x, y, temperature, weights):
        a_vars = self.arch_variables
        variables = a_vars + (self.weight_variables if weights else [])
        with tf.GradientTape() as tape:
            loss, scaled, logits = self.compute_search_loss(x, y, temperature=temperature)
        grads = fill_none_gradients(self.gradients(tape, scaled, variables), variables)
        return (loss, logits, grads[:len(a_vars)],
                grads[len(a_vars):] if weights else None)

    def train_gradient(self, x_t, y_t, temperature=None):
        """The training loss's gradient at the current weights, summed over replicas.

        Returns:
            `(loss, logits, weight_grads)`.
        """
        loss, logits, _, grads = self.pass_gradients(x_t, y_t, temperature)
        return loss, logits, all_reduce_sum(grads)

    def first_order_arch_step(self, x_v, y_v, temperature=None):
        """Updates the alphas with `dL_val(w, a)/da`; returns the validation loss."""
        with tf.GradientTape() as tape:
            loss, scaled, _ = self.compute_search_loss(x_v, y_v, temperature=temperature)
        grads = self.gradients(tape, scaled, self.arch_variables)
        self.apply_gradients(self.arch_optimizer, grads, self.arch_variables)
        return loss

    def unrolled_arch_gradient(self, x_t, y_t, x_v, y_v, temperature=None, train_grads=None):
        """The second-order architecture gradient (summed over replicas).

        Args:
            x_t, y_t: the training batch (virtual step, Hessian-vector product).
            x_v, y_v: the validation batch.
            temperature: activation temperature (None: the temperature variable).
            train_grads: the training gradient at the current weights, summed
                over replicas, when the caller has it (None: computed here).

        Returns:
            `(arch_grads, val_loss)`; all weights are back to their exact
            values when it returns.
        """
        w_vars = self.weight_variables
        opt = self.optimizer
        xi = ops.cast(opt.learning_rate, "float32")
        backup = [tf.identity(v) for v in w_vars]

        # Virtual step w' = w - xi * (mu * b + g + wd * w), g on the training batch.
        g = train_grads
        if g is None:
            g = self.train_gradient(x_t, y_t, temperature)[2]
        for v, w0, gi in zip(w_vars, backup, g):
            d = gi + opt.coupled_weight_decay * w0 + opt.momentum * opt.buffer(v)
            v.assign(w0 - xi * d)

        # dL_val(w', a)/da and dL_val(w', a)/dw'.
        val_loss, _, d_alpha, d_w = self.pass_gradients(x_v, y_v, temperature)
        d_alpha, d_w = all_reduce_sum(d_alpha), all_reduce_sum(d_w)

        # Hessian-vector product by central differences around w.
        eps = self.fd_scale / tf.linalg.global_norm(d_w)

        def arch_grad_at(sign):
            for v, w0, dv in zip(w_vars, backup, d_w):
                v.assign(w0 + sign * eps * dv)
            return all_reduce_sum(self.pass_gradients(x_t, y_t, temperature, weights=False)[2])

        g_plus = arch_grad_at(1.0)
        g_minus = arch_grad_at(-1.0)
        for v, w0 in zip(w_vars, backup):
            v.assign(w0)
        arch_grads = [da - xi * (gp - gm) / (2.0 * eps)
                      for da, gp, gm in zip(d_alpha, g_plus, g_minus)]
        return arch_grads, val_loss

    def second_order_arch_step(self, x_t, y_t, x_v, y_v, temperature=None, train_grads=None):
        """Updates the alphas with the unrolled gradient; returns the validation loss at w'."""
        arch_grads, val_loss = self.unrolled_arch_gradient(x_t, y_t, x_v, y_v, temperature,
                                                           train_grads)
        self.apply_gradients(self.arch_optimizer, arch_grads, self.arch_variables, reduced=True)
        return val_loss

    def get_config(self):
        return {**super().get_config(), "order": self.order, "fd_scale": self.fd_scale,
                "reuse_train_gradient": self.reuse_train_gradient}

