"""`SearchModel`: the supernet plus its architecture, the base of every search strategy."""

import keras
import tensorflow as tf
from keras import ops

from keras_darts.derivation import derive
from keras_darts.latency.objective import LatencyObjective
from keras_darts.optimizers import CoupledAdam, CoupledSGD, search_optimizers
from keras_darts.registry import Registry
from keras_darts.search_space.shared_calls import share_edge_traces
from keras_darts.search_space.spec import SupernetSpec
from keras_darts.utils.config import MethodSettings
from keras_darts.utils.distribute import all_reduce_sum, num_replicas
from keras_darts.utils.graph_options import quick_graph_optimization
from keras_darts.utils.precision import DynamicLossScale


LEVELS = ("bilevel", "single")
"""How a strategy with both optimisations updates (SP-DARTS's and D-DARTS's `level`):
`"bilevel"` (weights on the training half, alphas on the validation half) or `"single"`
(both from one batch)."""


def check_level(level):
    """Raises `ValueError` unless `level` is one of `LEVELS`.

    Example:

    >>> check_level("single")
    """
    if level not in LEVELS:
        raise ValueError(f"level must be 'bilevel' or 'single'. Received: level={level!r}")


def fill_none_gradients(grads, variables):
    """Replaces None gradients (variables the loss does not reach) by zeros.

    Args:
        grads: gradients, possibly with None entries.
        variables: the matching variables.

    Returns:
        A list of tensors.

    Example:

    >>> grads = fill_none_gradients(tape.gradient(loss, variables), variables)  # doctest: +SKIP
    """
    return [ops.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]


class SearchModel(keras.Model):
    """Base class of the search strategies: a DARTS supernet and its architecture parameters.

    A strategy is a subclass that overrides `train_step`; `fit()` stays the
    entry point. The model owns two clearly separated variable lists:
    `weight_variables` (the supernet's weights) and `arch_variables` (the
    alphas), two optimizers (`optimizer` and `arch_optimizer`), and derives its
    current genotype at any time with `genotype()`.

    The constructor's space and size arguments make a `SupernetSpec`; the
    strategy may change it in `adapt_search_space` (the adapted spec is
    `supernet_spec`), and `SupernetSpec.build` makes the supernet and the
    alphas. `from_spec` creates a strategy over a spec made elsewhere.

    Losses are computed per replica as a mean over the local batch divided by
    the number of replicas, so that gradients summed over replicas are the
    global-batch mean; reported metrics are unscaled.

    Args:
        num_classes: number of classes.
        input_shape: `(height, width, channels)` of the images.
        layers: cells in the supernet (8 in the paper).
        channels: initial channels (16).
        steps: intermediate nodes per cell (4).
        multiplier: nodes concatenated per cell (4).
        stem_multiplier: CIFAR stem channels factor (3).
        stem: `"cifar"` or `"imagenet"` (three stride-2 convs before the
            first cell: ImageNet at 224 is searched at 28 x 28, as PC-DARTS does).
        space: a search-space name (`"darts"`, `"darts7"`, `"nb201"`, `"s1"` ...
            `"s4"`, see `search_space_names()`) or a `SearchSpace`.
        op_subsets: per-edge op names per cell kind (dict or JSON path), for
            `s1` or to restrict another space.
        cells_per_stage: NAS-Bench-201 cells per stage (5; `layers` is unused
            there).
        primitives: candidate op names, overriding the space's.
        normal_active: per-edge active op indices of normal cells (None: the
            space's).
        reduce_active: per-edge active op indices of reduction cells.
        reductions: explicit reduction cell indices (None: layers//3, 2*layers//3).
        partial_channels: PC-DARTS's partial channel connections `K` (1: off;
            DARTS-family spaces).
        edge_normalization: PC-DARTS's edge normalisation: learned edge
            weights (betas, softmax over each node's incoming edges) scale
            the edges in the forward pass and in derivation.
        activation: how alphas become mixing weights (`"softmax"`, `"sigmoid"`, ...).
        temperature: initial temperature of the activation.
        per_cell_alphas: one alpha variable per cell instead of per cell kind.
        alpha_init_scale: std of the initial alphas (1e-3).
        alpha_init_value: constant added to the initial alphas, or `"uniform"`
            (a sigmoid starting at `1/k` on an edge with `k` ops).
        grad_clip: global-norm clipping of the weight gradients (5; None: off).
        seed: seed of the alpha initialisation.
        precision: `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`: the
            supernet's layers compute in that dtype with float32 variables;
            alphas, mixing weights, BatchNorm statistics and losses stay float32,
            and float16 gradients are loss-scaled (`keras_darts.utils.precision`).
        latency: a latency loss (`keras_darts.latency.LatencyObjective`, or its
            dict: `{"table": path, "weight": w, "target_ms": None, "precision":
            "float32"}`): the expected TFLite latency of the table's network
            under the current alphas, added to the architecture gradients of
            every strategy (`add_latency_gradients`) and logged as
            `latency_ms`. None: accuracy alone.
        recompute: keep only each supernet edge's input and output for the backward
            pass and recompute the rest there (`tf.recompute_grad` over the edges'
            shared traces, `share_edge_traces`): much less memory for one more
            forward pass of the edges. BatchNorm statistics are updated once. On one
            device (under a multi-replica strategy the edges are traced inline).
        **kwargs: `keras.Model` arguments (e.g. `name`).

    Raises:
        ValueError: for impossible configurations (see `SupernetSpec.create`,
            `DartsSupernet` and `ArchitectureParameters`), or a space the
            strategy cannot search (`adapt_search_space`).
        TypeError: if `adapt_search_space` returns no `SupernetSpec`.

    Example:

    >>> model = BilevelSearch(num_classes=10, input_shape=(28, 28, 1), layers=5, channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=78)
    >>> model.fit(search_ds, validation_data=test_ds, epochs=10)  # doctest: +SKIP
    >>> model.genotype()  # doctest: +SKIP
    """

    #: `"bilevel"`: batches are `((x_train, y_train), (x_val, y_val))`;
    #: `"single"`: batches are `(x, y)`.
    data_mode = "bilevel"
    #: whether the strategy has a separate architecture loss to report.
    reports_arch_loss = True
    #: the method's own settings (a `MethodSettings` dataclass): `SearchConfig` takes them
    #: besides the shared run settings, the command line makes a flag of each, and
    #: `Settings.strategy_kwargs()` are passed to the constructor.
    Settings = MethodSettings
    #: coupled weight decay of the alphas when the config leaves it unset.
    default_arch_weight_decay = 1e-3
    #: `fit` and `evaluate` optimise their graphs without Grappler's idle passes
    #: (`keras_darts.utils.graph_options.quick_graph_optimization`).
    quick_graph_optimization = True
    #: the supernet's edges of one signature are traced once per step graph (`SharedCalls`):
    #: half the tracing time; a strategy whose steps run slower that way says False.
    shares_edge_traces = True
    #: whether AutoGraph converts the strategy's `train_step` and `test_step` when `fit` and
    #: `evaluate` trace them. Search steps are plain graph code (control flow on tensors is
    #: an explicit `tf.cond`), traced as written: up to 15% less tracing (second order). A
    #: strategy whose steps branch on tensors with Python `if` / `for` says True.
    autograph = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.autograph:
            return
        for name in ("train_step", "test_step"):
            step = cls.__dict__.get(name)
            if step is not None:
                setattr(cls, name, tf.autograph.experimental.do_not_convert(step))

    def __init__(self, num_classes, input_shape, layers=8, channels=16, steps=4, multiplier=4,
                 stem_multiplier=3, stem="cifar", space="darts", op_subsets=None,
                 cells_per_stage=5, primitives=None, normal_active=None, reduce_active=None,
                 reductions=None, partial_channels=1, edge_normalization=False,
                 activation="softmax", temperature=1.0, per_cell_alphas=False,
                 alpha_init_scale=1e-3, alpha_init_value=0.0, grad_clip=5.0, seed=None,
                 precision="float32", recompute=False, latency=None, **kwargs):
        super().__init__(**kwargs)
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be positive or None. Received: grad_clip={grad_clip!r}")
        given = SupernetSpec.create(
            num_classes, input_shape, space=space, op_subsets=op_subsets, primitives=primitives,
            normal_active=normal_active, reduce_active=reduce_active, layers=layers,
            channels=channels, steps=steps, multiplier=multiplier,
            stem_multiplier=stem_multiplier, stem=stem, cells_per_stage=cells_per_stage,
            reductions=None if reductions is None else tuple(reductions),
            partial_channels=partial_channels, edge_normalization=bool(edge_normalization),
            activation=activation, temperature=temperature, per_cell_alphas=per_cell_alphas,
            alpha_init_scale=alpha_init_scale, alpha_init_value=alpha_init_value, seed=seed,
            precision=precision)
        # The config holds the spec as given: `from_config` adapts it again.
        self._config = {**given.arguments(), "grad_clip": grad_clip, "recompute": bool(recompute)}
        #: the `SupernetSpec` this model searches over (after `adapt_search_space`).
        self.supernet_spec = self.adapt_search_space(given)
        if not isinstance(self.supernet_spec, SupernetSpec):
            raise TypeError(f"{type(self).__name__}.adapt_search_space must return a "
                            f"SupernetSpec. Received: {self.supernet_spec!r}")
        self.space = self.supernet_spec.space
        self.recompute = bool(recompute)
        self.grad_clip = grad_clip
        self.precision = self.supernet_spec.precision
        self.network, self.architecture = self.supernet_spec.build()
        #: the latency loss (`keras_darts.latency.LatencyObjective`), or None.
        self.latency_objective = LatencyObjective.create(latency)
        if self.latency_objective is not None:
            self.latency_objective.bind(self.supernet_spec, self.architecture,
                                        self.network.cell_types)
            self._config["latency"] = self.latency_objective.get_config()
            self.latency_tracker = keras.metrics.Mean(name="latency_ms")
        #: float16's dynamic loss scale (None for float32 and bfloat16), made in `build`.
        self.loss_scale = None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.arch_loss_tracker = keras.metrics.Mean(name="arch_loss")
        self.entropy_tracker = keras.metrics.Mean(name="alpha_entropy")
        self.arch_optimizer = None
        self.build((None,) + self.supernet_spec.input_shape)

    # ------------------------------------------------------------------ structure
    def build(self, input_shape):
        self.network.build(input_shape)
        self.architecture.build()
        self.arch_updates_enabled = self.add_weight(
            name="arch_updates_enabled", shape=(), initializer="ones", trainable=False
        )
        if self.precision == "mixed_float16":
            self.loss_scale = DynamicLossScale(self)
        self.built = True

    def adapt_search_space(self, spec):
        """Adapts the search space this strategy is given, before anything is built.

        Override to change what the method searches over without editing cells
        or ops: D-DARTS gives every cell its own alphas, DARTS-PD's path-wise
        training keeps each edge's top-k ops. The constructor's arguments (and
        so `get_config`) stay as given; `supernet_spec` is the adapted spec.

        Args:
            spec: the `SupernetSpec` of the constructor's arguments.

        Returns:
            The `SupernetSpec` to build (by default `spec` unchanged).

        Raises:
            ValueError: if the strategy cannot search this space.

        Example:

        >>> class NoPooling(BilevelSearch):
        ...     def adapt_search_space(self, spec):
        ...         keep = [i for i, op in enumerate(spec.space.primitives) if "pool" not in op]
        ...         return spec.restrict(normal_active=[keep] * 14, reduce_active=[keep] * 14)
        """
        return spec

    @classmethod
    def from_spec(cls, spec, **kwargs):
        """Creates the strategy over a `SupernetSpec` (then adapted by `adapt_search_space`).

        Args:
            spec: a `SupernetSpec` (`SupernetSpec.create(...)`).
            **kwargs: the strategy's own arguments (`order`, `grad_clip` ...), and
                constructor arguments that replace the spec's (`seed` ...).

        Returns:
            The search model.

        Example:

        >>> spec = SupernetSpec.create(10, (28, 28, 1), layers=5, channels=8)
        >>> model = BilevelSearch.from_spec(spec, order=2)
        """
        return cls(**{**spec.arguments(), **kwargs})

    @property
    def weight_variables(self):
        """The supernet's trainable weights (updated by `optimizer`)."""
        return self.network.trainable_variables

    @property
    def arch_variables(self):
        """The architecture parameters (updated by `arch_optimizer`)."""
        return self.architecture.trainable_variables

    @property
    def primitives(self):
        """Candidate op names."""
        return self.network.primitives

    def call(self, x, training=None, temperature=None):
        return self.run_network(x, self.architecture.mixing_weights(temperature), training)

    def run_network(self, x, weights, training=None, **kwargs):
        """Calls the supernet with per-cell mixing weights (and the edge weights, if any).

        Args:
            x: images.
            weights: one mixing-weight tensor per cell.
            training: training mode.
            **kwargs: other supernet call arguments.

        Returns:
            Logits.
        """
        edge_weights = self.architecture.edge_weights()
        if edge_weights is not None:
            kwargs["edge_weights"] = edge_weights
        return self.network(x, weights, training=training, **kwargs)

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer=None, arch_optimizer=None, loss=None, epochs=None,
                steps_per_epoch=None, **kwargs):
        """Configures both optimizers and the loss, and builds the optimizers.

        With no optimizers given, the reference settings are used:
        `CoupledSGD` (momentum 0.9, coupled weight decay 3e-4) with a cosine
        schedule from 0.025 to 0.001 over `epochs` when `epochs` and
        `steps_per_epoch` are given (a constant 0.025 otherwise), and
        `CoupledAdam(3e-4, beta_1=0.5, coupled_weight_decay=1e-3)` for the alphas.

        Args:
            optimizer: the weight optimizer.
            arch_optimizer: the architecture optimizer.
            loss: a callable `loss(y_true, logits)`; default sparse categorical
                cross-entropy on logits.
            epochs: search epochs, for the default cosine schedule.
            steps_per_epoch: steps per epoch, for the default cosine schedule.
            **kwargs: other `keras.Model.compile` arguments (`steps_per_execution`,
                `run_eagerly`, ...). `jit_compile` defaults to False (XLA is
                slower for supernets on CPU).

        Raises:
            ValueError: if only one of `epochs` / `steps_per_epoch` is given.
        """
        if (epochs is None) != (steps_per_epoch is None):
            raise ValueError("Pass both epochs and steps_per_epoch for the cosine schedule, "
                             f"or neither. Received: epochs={epochs}, "
                             f"steps_per_epoch={steps_per_epoch}")
        if epochs is not None:
            default_w, default_a = search_optimizers(epochs, steps_per_epoch)
        else:
            default_w = CoupledSGD(0.025, momentum=0.9, coupled_weight_decay=3e-4)
            default_a = CoupledAdam(3e-4, beta_1=0.5, beta_2=0.999, coupled_weight_decay=1e-3,
                                    name="arch_adam")
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer or default_w, **kwargs)
        self.arch_optimizer = arch_optimizer or default_a
        self.search_loss = loss or keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=None)
        self.optimizer.build(self.weight_variables)
        self.arch_optimizer.build(self.arch_variables)
        # Recomputation runs through the shared traces (an edge as a function of its
        # variables' values), so it shares them even where a strategy would not.
        share_edge_traces(self.network, self.shares_edge_traces or self.recompute,
                          recompute=self.recompute)

    # ------------------------------------------------------------------ helpers
    def fit(self, x=None, y=None, *args, steps_per_epoch=None, **kwargs):
        """`keras.Model.fit`, refusing an endless dataset without `steps_per_epoch`.

        The step graphs are optimised without Grappler's passes that find
        nothing in them (`keras_darts.utils.graph_options`): the first step
        takes about half as long, and every number is the same. Set the
        model's `quick_graph_optimization` attribute to False for TensorFlow's
        default optimisation.

        `SearchData.train` goes on epoch after epoch (so a resumed run can
        start anywhere in it); `fit` needs `steps_per_epoch=data.steps_per_epoch`
        to know where an epoch ends.

        Raises:
            ValueError: for a `tf.data.Dataset` of unknown or infinite length
                without `steps_per_epoch`.
        """
        if steps_per_epoch is None and isinstance(x, tf.data.Dataset) and int(
                x.cardinality()) in (int(tf.data.INFINITE_CARDINALITY),
                                     int(tf.data.UNKNOWN_CARDINALITY)):
            raise ValueError("This dataset has no end (e.g. SearchData.train): pass "
                             "steps_per_epoch=data.steps_per_epoch to fit().")
        with quick_graph_optimization(self.quick_graph_optimization):
            return super().fit(x, y, *args, steps_per_epoch=steps_per_epoch, **kwargs)

    def evaluate(self, *args, **kwargs):
        """`keras.Model.evaluate` (its graph optimised as `fit`'s is)."""
        with quick_graph_optimization(self.quick_graph_optimization):
            return super().evaluate(*args, **kwargs)

    def compute_search_loss(self, x, y, training=True, temperature=None, weights=None):
        """Forward pass and loss.

        Args:
            x, y: the batch.
            training: training mode.
            temperature: activation temperature (None: the temperature variable).
            weights: per-cell mixing weights already computed in the caller's
                tape (None: computed from the alphas here).

        Returns:
            `(loss, scaled_loss, logits)`: `loss` is the local-batch mean,
            `scaled_loss` is divided by the number of replicas (differentiate
            this one).
        """
        if weights is None:
            logits = self(x, training=training, temperature=temperature)
        else:
            logits = self.run_network(x, weights, training)
        return (*self.mean_search_loss(y, logits), logits)

    def mean_search_loss(self, y, logits):
        """The search loss of `logits`, averaged over the local batch.

        Returns:
            `(loss, scaled_loss)`: `scaled_loss` is `loss` divided by the number of
            replicas (differentiate this one).
        """
        loss = ops.mean(self.search_loss(y, logits))
        return loss, loss / num_replicas()

    def apply_gradients(self, optimizer, grads, variables, clipnorm=None, reduced=False):
        """Sums gradients over replicas, clips by global norm, applies them.

        The global norm is taken of the summed (global-batch) gradient, as on
        one device. `optimizer.apply` sums gradients over replicas itself, so
        the summed gradient is handed to it divided by the replica count.

        Args:
            optimizer: the optimizer.
            grads: gradients (per replica, unless `reduced`).
            variables: the variables.
            clipnorm: global-norm clip value, or None.
            reduced: the gradients are already summed over replicas.
        """
        grads = fill_none_gradients(grads, variables)
        if not reduced:
            grads = all_reduce_sum(grads)
        if (self.latency_objective is not None and self.latency_objective.weight > 0
                and optimizer is not self.optimizer):
            grads = self.add_latency_gradients(grads, variables)

        def apply():
            clipped = grads
            if clipnorm:
                clipped, _ = tf.clip_by_global_norm(clipped, clipnorm)
            n = num_replicas()
            if n > 1:
                clipped = [g / n for g in clipped]
            optimizer.apply(clipped, variables)

        if self.loss_scale is None:
            apply()
        else:  # float16: skip an update with overflowed gradients, adjust the scale
            self.loss_scale.apply_if_finite(grads, apply)

    def add_latency_gradients(self, grads, variables):
        """Adds the latency loss's gradient to global architecture gradients.

        Every strategy steps its alphas through `apply_gradients`, so the
        latency term (`latency` in the constructor) reaches every method here,
        whatever its own losses: the loss depends on the alphas only, the same
        on every replica, and is added once to the gradients summed over
        replicas.

        Args:
            grads: gradients of `variables`, summed over replicas.
            variables: architecture variables (all, or one cell's for D-DARTS).

        Returns:
            The gradients with the latency loss's added (unchanged for
            variables that are not alphas).
        """
        arch = {id(v) for v in self.arch_variables}
        if not variables or not all(id(v) in arch for v in variables):
            return grads
        with tf.GradientTape() as tape:
            loss = self.latency_objective.loss(self.architecture)
        extra = fill_none_gradients(tape.gradient(loss, list(variables)), variables)
        return [g + ops.cast(e, g.dtype) for g, e in zip(grads, extra)]

    def gradients(self, tape, target, sources):
        """`tape.gradient(target, sources)`, loss-scaled under float16 mixed precision.

        Every gradient of a strategy's train step goes through here, so that
        `mixed_float16` scales the backward pass (`DynamicLossScale`); under float32
        and bfloat16 it is `tape.gradient` itself.

        Args:
            tape: the `tf.GradientTape` that recorded `target`.
            target: a scalar loss.
            sources: a list of variables or tensors.

        Returns:
            A list of gradients (None where a source does not affect the target).
        """
        if self.loss_scale is None:
            return tape.gradient(target, sources)
        return self.loss_scale.gradients(tape, target, sources)

    def weight_step(self, x, y, temperature=None):
        """One weight update on `(x, y)`; returns `(loss, logits)`."""
        with tf.GradientTape() as tape:
            loss, scaled, logits = self.compute_search_loss(x, y, temperature=temperature)
        grads = self.gradients(tape, scaled, self.weight_variables)
        self.apply_gradients(self.optimizer, grads, self.weight_variables, self.grad_clip)
        return loss, logits

    def single_level_update(self, x, y, temperature=None, x_arch=None, y_arch=None):
        """One single-level iteration: weights and alphas both step on the same loss.

        The gradients of the weights and of the alphas come from one forward
        and backward pass on `(x, y)`; the weight gradient is clipped, the
        architecture gradient is not. With `x_arch, y_arch` the alphas instead
        step on a second batch (both gradients at the same current weights).

        Args:
            x, y: the batch.
            temperature: activation temperature for this iteration (None: the
                architecture's temperature variable).
            x_arch, y_arch: an optional separate batch for the alphas.

        Returns:
            `(loss, logits)` of the weight batch.
        """
        w_vars, a_vars = self.weight_variables, self.arch_variables
        separate = x_arch is not None
        with tf.GradientTape(persistent=separate) as tape:
            loss, scaled, logits = self.compute_search_loss(x, y, temperature=temperature)
            if separate:
                _, arch_scaled, _ = self.compute_search_loss(x_arch, y_arch,
                                                             temperature=temperature)
        if separate:
            w_grads = self.gradients(tape, scaled, w_vars)
            a_grads = self.gradients(tape, arch_scaled, a_vars)
            del tape
        else:
            grads = self.gradients(tape, scaled, w_vars + a_vars)
            w_grads, a_grads = grads[:len(w_vars)], grads[len(w_vars):]
        self.apply_gradients(self.optimizer, w_grads, w_vars, self.grad_clip)

        def arch_update():
            self.apply_gradients(self.arch_optimizer, a_grads, a_vars)
            return tf.constant(0.0)

        self.when_arch_enabled(arch_update)
        return loss, logits

    def unpack_single(self, data):
        """Returns `(x, y)` of a single-level batch, with a clear error for bi-level batches."""
        if isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], (tuple, list)):
            raise ValueError(
                f"{type(self).__name__} expects batches (x, y); build them with "
                "keras_darts.data.search_data(..., mode='single')."
            )
        return data[0], data[1]

    def when_arch_enabled(self, fn):
        """Runs `fn()` (returning a scalar loss) only while architecture updates are enabled.

        `ArchitectureWarmup` switches them off for the first epochs; while off,
        the architecture optimizer's state does not change at all. On one
        device this is a `tf.cond`. Under a multi-replica `tf.distribute`
        strategy, gradient all-reduces may not sit inside control flow, so
        `fn()` always runs and, while updates are off, every variable of
        `arch_state_variables()` is put back to its value from before the step.
        """
        enabled = self.arch_updates_enabled > 0.5
        if num_replicas() == 1:
            return tf.cond(enabled, fn, lambda: tf.constant(0.0))
        state = self.arch_state_variables()
        before = [tf.identity(v) for v in state]
        with tf.control_dependencies(before):
            loss = fn()
        with tf.control_dependencies([loss]):
            for v, old in zip(state, before):
                v.assign(tf.where(enabled, v, old))
        return tf.where(enabled, loss, 0.0)

    def arch_state_variables(self):
        """What an architecture update changes: the alphas and the architecture optimizer's state."""
        return list(self.arch_variables) + list(self.arch_optimizer.variables)

    def update_metrics(self, loss, y, logits, arch_loss=None):
        """Updates the trackers and returns the logs dict."""
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(y, logits)
        if arch_loss is not None:
            self.arch_loss_tracker.update_state(arch_loss)
        self.entropy_tracker.update_state(self.architecture.entropy())
        if self.latency_objective is not None:
            self.latency_tracker.update_state(self.latency_objective.latency(self.architecture))
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        arch = [self.arch_loss_tracker] if self.reports_arch_loss else []
        latency = [self.latency_tracker] if self.latency_objective is not None else []
        return [self.loss_tracker, self.accuracy_tracker, *arch, self.entropy_tracker, *latency]

    def unpack_bilevel(self, data):
        """Splits a `((x_t, y_t), (x_v, y_v))` batch, with a clear error otherwise."""
        try:
            (x_t, y_t), (x_v, y_v) = data
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self).__name__} expects batches ((x_train, y_train), (x_val, y_val)); "
                f"build them with keras_darts.data.search_data(..., mode={self.data_mode!r})."
            ) from None
        return x_t, y_t, x_v, y_v

    def eval_temperature(self):
        """The temperature of evaluation (`test_step`); None: the temperature variable."""
        return None

    def eval_weights(self):
        """The cell weights of evaluation (`test_step`), or None: the alphas' mixing weights
        (GDAS: its argmax path)."""
        return None

    #: The softmax temperature at which the IES is logged (SP-DARTS: its sparse one).
    ies_temperature = 1.0

    def default_callbacks(self, epochs):
        """Callbacks the method needs in `fit()` (e.g. schedules); none by default.

        `run_search` adds them; call it yourself when using `fit()` directly.

        Args:
            epochs: the number of search epochs.

        Returns:
            A list of callbacks.

        Example:

        >>> model.fit(ds, epochs=10, callbacks=model.default_callbacks(10))  # doctest: +SKIP
        """
        return []

    @tf.autograph.experimental.do_not_convert  # see `autograph`
    def test_step(self, data):
        x, y = data[0], data[1]
        loss, _, logits = self.compute_search_loss(x, y, training=False,
                                                   temperature=self.eval_temperature(),
                                                   weights=self.eval_weights())
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(y, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    # ------------------------------------------------------------------ results
    def mixing_weights(self):
        """Current mixing weights as numpy arrays (`{"normal": ..., "reduce": ...}`)."""
        return self.architecture.weights_by_kind()

    def genotype(self):
        """The genotype the current alphas derive by the search space's rule.

        The rule is the space's cell family's (`keras_darts.derivation.derive`:
        the DARTS top-2 rule, NAS-Bench-201's argmax per edge), so a strategy
        never needs to know the space. With edge normalisation each edge's
        weights are scaled by its edge weight first.

        Returns:
            A `Genotype`.
        """
        masks = {k: self.architecture.mask(k) for k in self.space.kinds}
        return derive(self.space.family, self.network, self.architecture.derivation_weights(),
                      masks)

    def derivation_summary(self):
        """How the method's derivation rule met the final weights, for the run's summary.

        Returns:
            A JSON-serialisable dict, or `None` where the rule has nothing to
            report (the DARTS top-2 rule always derives a full cell).
            D-DARTS reports the nodes its threshold parser could not fill.
        """
        return None

    def discrete_cell_weights(self, genotype):
        """One-hot mixing weights (one array per cell) selecting exactly `genotype`.

        Args:
            genotype: a genotype of this model's space.

        Returns:
            A list of `(num_edges, num_ops)` float32 arrays, in cell order.
        """
        by_kind = self.network.discrete_weights(genotype)
        return [by_kind[k] for k in self.network.cell_types]

    def get_config(self):
        return {**super().get_config(), **self._config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_strategy(name, cls):
    if not (isinstance(cls, type) and issubclass(cls, SearchModel)):
        raise ValueError(f"Search strategy {name!r}: a strategy must subclass SearchModel. "
                         f"Received: {cls!r}")
    from keras_darts.pipelines.base import PIPELINES  # no cycle: it imports no strategy

    if name in PIPELINES.registered():  # `--method` names a strategy or a pipeline, never both
        raise ValueError(f"Search strategy {name!r}: {name!r} is already a pipeline's name.")


STRATEGIES = Registry("search strategy", group="keras_darts.strategies",
                      check=_check_strategy)
"""Search strategies by method name (`keras_darts.registry.Registry` of `SearchModel`
subclasses); third-party strategies register through the `keras_darts.strategies`
entry-point group, so that `keras-darts search --method theirs` finds them."""


def register_strategy(name, overwrite=False):
    """Registers a `SearchModel` subclass under `name` (a decorator).

    Args:
        name: the method's name (used by `--method` and `SearchConfig.method`).
        overwrite: allow replacing a registered strategy.

    Returns:
        A class decorator.

    Raises:
        ValueError: if the name is taken (and `overwrite` is False), is a
            pipeline's name, or the class is not a `SearchModel`.

    Example:

    >>> @register_strategy("my-method")
    ... class MySearch(SearchModel):
    ...     def train_step(self, data): ...
    """
    return STRATEGIES.register(name, overwrite=overwrite)
