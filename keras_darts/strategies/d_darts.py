"""D-DARTS: every cell its own architecture and optimiser, the zero-one and ablation losses."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_darts.architecture.cell_genotype import NetworkGenotype
from keras_darts.derivation.fair import (
    check_min_node_inputs, check_parser, check_threshold, fallback_nodes, parse_fair_cell,
)
from keras_darts.optimizers import EpochCosineDecay
from keras_darts.search_space.cells import edge_endpoints
from keras_darts.search_space.ops import subsample
from keras_darts.strategies.base import (
    LEVELS, SearchModel, all_reduce_sum, check_level, fill_none_gradients, register_strategy,
)
from keras_darts.utils.config import MethodSettings, setting
from keras_darts.utils.distribute import num_replicas


def zero_one_loss(weights, mask=None):
    """FairDARTS's zero-one loss: `-mean((w - 0.5)^2)` over the (active) sigmoid weights.

    It is lowest when every weight is 0 or 1, pushing the sigmoid weights
    apart so that thresholding them is meaningful.

    Args:
        weights: sigmoid weights of one cell `(num_edges, num_ops)`.
        mask: optional boolean mask of active ops.

    Returns:
        A scalar tensor.

    Example:

    >>> float(zero_one_loss(keras.ops.convert_to_tensor([[1.0, 0.0, 0.5]])))  # -(0.25+0.25+0)/3
    -0.16666666666666666
    """
    sq = ops.square(weights - 0.5)
    if mask is None:
        return -ops.mean(sq)
    m = ops.cast(mask, sq.dtype)
    return -ops.sum(sq * m) / ops.sum(m)


def ablation_losses(total_loss, removed_losses):
    """D-DARTS's ablation losses `L_AB^i = (MC_i - mean(MC)) / mean(MC)` (0 if mean(MC) = 0).

    `MC_i = L(all cells) - L(cell i removed)` is cell i's marginal contribution.

    Args:
        total_loss: the loss with every cell.
        removed_losses: a sequence, the loss with each cell removed.

    Returns:
        `(ablation_losses, marginal_contributions)`, two `(n,)` tensors.

    Example:

    >>> l_ab, mc = ablation_losses(1.0, [1.5, 2.0, 1.0])  # MC = [-0.5, -1, 0], mean -0.5
    >>> [float(v) for v in l_ab]
    [0.0, 1.0, -1.0]
    """
    mc = total_loss - ops.stack([ops.convert_to_tensor(v, "float32") for v in removed_losses])
    mean = ops.mean(mc)
    safe = ops.where(mean == 0.0, ops.ones_like(mean), mean)
    l_ab = ops.where(mean == 0.0, ops.zeros_like(mc), (mc - mean) / safe)
    return l_ab, mc


def bypass(network, index, s1):
    """What a removed cell outputs in D-DARTS's ablation: its input, passed through.

    The previous cell's output is passed on unchanged where shapes allow; a
    reduction cell's stride is taken by subsampling (every second row and
    column), and a change of channel count by repeating the input's channels
    cyclically (`out[..., j] = in[..., j % C_in]`). Parameter-free, so a
    removed cell adds nothing untrained.

    Args:
        network: a `DartsSupernet`.
        index: the removed cell's index.
        s1: the previous cell's output (the removed cell's second input).

    Returns:
        A tensor of the cell's output shape.

    Example:

    >>> y = bypass(model.network, 2, s1)  # doctest: +SKIP
    """
    cell = network.cells[index]
    y = subsample(s1) if cell.reduction else s1
    c_in = s1.shape[-1]
    c_out = cell.multiplier * cell.channels
    if c_in != c_out:
        y = ops.take(y, [j % c_in for j in range(c_out)], axis=-1)
    return y


def _as_supernet_call(network, cell_weights, edge_weights):
    """The weights as the supernet's own call hands them to its cells: in its compute dtype.

    Under mixed precision Keras casts a layer's floating inputs once, when the
    layer is called; the passes here run the supernet's parts directly, so they
    cast once too. Every pass then shares one low-precision copy, and the
    gradients of all passes meet before the cast back, as in a call of the
    supernet (float32: nothing to cast).
    """
    dtype = network.compute_dtype

    def cast(tensors):
        if tensors is None:
            return None
        return [t if t.dtype.is_integer or t.dtype == dtype else ops.cast(t, dtype)
                for t in tensors]

    return cast(cell_weights), cast(edge_weights)


def removed_cell_logits(network, x, cell_weights, removed, training=None, edge_weights=None):
    """The supernet's logits with cell `removed` bypassed (`bypass`): one ablation pass.

    Args:
        network: a `DartsSupernet`.
        x: images.
        cell_weights: one mixing-weight tensor per cell.
        removed: the index of the cell to remove.
        training: training mode.
        edge_weights: one edge-weight tensor per cell, or None.

    Returns:
        Logits `(batch, num_classes)`.

    Example:

    >>> logits = removed_cell_logits(model.network, x, weights, 0, training=True)  # doctest: +SKIP
    """
    network.check_cell_weights(cell_weights)
    cell_weights, edge_weights = _as_supernet_call(network, cell_weights, edge_weights)
    s0, s1 = network.stem(x, training)
    for i in range(network.num_layers):
        if i == removed:
            s0, s1 = s1, bypass(network, i, s1)
        else:
            s0, s1 = network.cell_step(i, s0, s1, cell_weights, training, edge_weights)
    return network.head(s1)


def ablation_logits(network, x, cell_weights, training=None, edge_weights=None):
    """The full pass's logits and those with each cell removed in turn, sharing prefixes.

    The pass without cell `i` starts from the full pass's inputs of cell `i`:
    the cells before it are computed once, not once per pass (`n (n - 1) / 2`
    cell evaluations for the `n` passes instead of `n (n - 1)`), with the
    values of separate passes (`removed_cell_logits`). BatchNorm running
    statistics of the cells before a removed cell are updated by the full
    pass only; they enter no training-mode output.

    Args:
        network: a `DartsSupernet`.
        x: images.
        cell_weights: one mixing-weight tensor per cell.
        training: training mode.
        edge_weights: one edge-weight tensor per cell, or None.

    Returns:
        A list: the full pass's logits, then those with cell 0, 1, ... removed.

    Example:

    >>> full, *removed = ablation_logits(model.network, x, weights, training=True)  # doctest: +SKIP
    """
    network.check_cell_weights(cell_weights)
    cell_weights, edge_weights = _as_supernet_call(network, cell_weights, edge_weights)
    s0, s1 = network.stem(x, training)
    inputs = []  # (s0, s1) entering each cell in the full pass
    for i in range(network.num_layers):
        inputs.append((s0, s1))
        s0, s1 = network.cell_step(i, s0, s1, cell_weights, training, edge_weights)
    outputs = [s1]
    for r, (s0, s1) in enumerate(inputs):
        s0, s1 = s1, bypass(network, r, s1)
        for i in range(r + 1, network.num_layers):
            s0, s1 = network.cell_step(i, s0, s1, cell_weights, training, edge_weights)
        outputs.append(s1)
    return [network.head(f) for f in outputs]


@dataclasses.dataclass
class DistributedCellSettings(MethodSettings):
    """D-DARTS's own settings (`DistributedCellSearch`).

    Example:

    >>> DistributedCellSettings(w_abl=0.0).validate().parser
    'sparse'
    """

    level: str = setting("bilevel", "bi-level (alphas on the validation half) or single-level "
                                    "(both on one batch) updates", choices=LEVELS)
    w01: float = setting(8.0, "weight of the zero-one loss")
    w_abl: float = setting(0.5, "weight of the ablation loss (0: no removed-cell passes)")
    ablation_gradient: bool = setting(True, "the ablation loss carries gradient (off: a "
                                            "constant, as in the released code)")
    parser: str = setting("sparse", "per-cell derivation rule",
                          choices=("sparse", "edge", "darts"))
    threshold: float = setting(0.8, "sigmoid threshold of the derivation")
    min_node_inputs: int = setting(1, "1: a node with no op at the threshold keeps its strongest "
                                      "op; 0: the paper's rule (may empty a cell)")

    def validate(self, config=None):
        check_level(self.level)
        for name in ("w01", "w_abl"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{name} must be >= 0. Received: {name}={v!r}")
        check_parser(self.parser)
        check_threshold(self.threshold)
        check_min_node_inputs(self.min_node_inputs)
        return self


@keras.saving.register_keras_serializable(package="keras_darts")
@register_strategy("d-darts")
class DistributedCellSearch(SearchModel):
    """D-DARTS: a whole network of individually searched cells, each with its own optimiser.

    Every cell owns its alphas (`alpha_cell_i`, normal or reduction by
    position), mixed by a sigmoid (FairDARTS), and its own copy of the
    architecture optimiser and learning-rate schedule (`cell_optimizers`).
    Network weights are shared and step on the cross-entropy alone. Cell i's
    alphas step on its total loss (Eq. 9)

        L_T^i = L_CE + w01 * L_01^i + w_abl * L_AB^i

    with `L_01^i` the zero-one loss of cell i's sigmoid weights and
    `L_AB^i = (MC_i - mean(MC)) / mean(MC)` (0 when the mean is 0),
    `MC_i = L_CE(all cells) - L_CE(cell i removed)`. Each cell's alphas get the
    gradient of their own `L_T^i` only, computed exactly for every cell from
    three backward passes (of `L_CE`, of the summed removed-cell losses and of
    the zero-one losses) rather than one per cell; the n removed-cell forward
    passes and all of this run in one traced step. The pass without cell i
    starts from the full pass's input of cell i (the cells before it compute the
    same values in every pass), so the n passes evaluate n (n - 1) / 2 cells,
    not n (n - 1); BatchNorm statistics are updated by the full pass and, for
    the cells after the removed one, by each removed pass. A removed cell passes its
    input through (`DartsSupernet.bypass`: subsampled where the cell reduces,
    channels repeated where their count changes; parameter-free).
    `ablation_gradient=False` treats `L_AB` as a constant (as the authors'
    released code effectively does); the paper's formula, with gradient, is
    the default. `w_abl=0` is FairDARTS's loss and skips the extra passes.

    The genotype is a `NetworkGenotype` (one `CellGenotype` per cell) parsed by
    `parser` (`"darts"`, `"sparse"`, `"edge"`) at `threshold` (0.8). A node
    none of whose ops reaches the threshold (a search too short for the
    zero-one loss to push the weights to 0 or 1) keeps its strongest op
    (`min_node_inputs=1`, the default; `derivation_summary` counts them) or,
    with `min_node_inputs=0` (the paper's rule), none.

    Args:
        level: `"bilevel"` (alphas on the validation batch, then weights on the
            training batch) or `"single"` (both on one batch).
        w01: weight of the zero-one loss (8 in the paper's experiments).
        w_abl: weight of the ablation loss (0.5).
        ablation_gradient: let `L_AB` carry gradient to the alphas.
        parser: how each cell is derived (`"sparse"`, `"edge"`, `"darts"`).
        threshold: sigmoid threshold of the `sparse` / `edge` parsers.
        min_node_inputs: 1 (a node below the threshold keeps its strongest
            op) or 0 (the paper's rule; a cell left with no path to its
            output raises when the genotype is derived).
        activation: `"sigmoid"` (FairDARTS) by default.
        alpha_init_scale: std of the initial alphas (0: every weight 1/2).
        **kwargs: `SearchModel` arguments (a DARTS-family `space`).

    Raises:
        ValueError: for an unknown level or parser, a threshold outside
            (0, 1), `min_node_inputs` other than 0 or 1, negative loss
            weights, or a NAS-Bench-201 space.

    Example:

    >>> model = DistributedCellSearch(num_classes=10, input_shape=(28, 28, 1), layers=5,
    ...                               channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=78)
    >>> model.genotype().render()  # doctest: +SKIP
    """

    Settings = DistributedCellSettings
    # Shared edge traces cut D-DARTS's tracing (43 -> 25 s, small preset) but its steps ran
    # 13% slower and its first graph optimisation 11 s longer: its edges stay inline.
    shares_edge_traces = False

    def __init__(self, level="bilevel", w01=8.0, w_abl=0.5, ablation_gradient=True,
                 parser="sparse", threshold=0.8, min_node_inputs=1, activation="sigmoid",
                 alpha_init_scale=0.0, **kwargs):
        DistributedCellSettings(level, w01, w_abl, ablation_gradient, parser, threshold,
                                min_node_inputs).validate()
        kwargs.pop("per_cell_alphas", None)
        self.level = level
        self.data_mode = level
        self.w01, self.w_abl = float(w01), float(w_abl)
        self.ablation_gradient = bool(ablation_gradient)
        self.parser, self.threshold = parser, float(threshold)
        self.min_node_inputs = int(min_node_inputs)
        super().__init__(activation=activation, alpha_init_scale=alpha_init_scale, **kwargs)
        self.cell_optimizers = []

    def adapt_search_space(self, spec):
        """Every cell owns its alphas (and later its optimizer); DARTS-family cells only.

        Raises:
            ValueError: for a NAS-Bench-201-family space.
        """
        if spec.space.family != "darts":
            raise ValueError(f"D-DARTS searches DARTS-family cells (two inputs, normal and "
                             f"reduction kinds); search space {spec.space.name!r} has "
                             f"{spec.space.family} cells.")
        return spec.replace(per_cell_alphas=True)

    def build(self, input_shape):
        self.mc_tracker = keras.metrics.Mean(name="marginal_contribution")
        self.zero_one_tracker = keras.metrics.Mean(name="zero_one_loss")
        super().build(input_shape)

    @property
    def metrics(self):
        return [*super().metrics, self.mc_tracker, self.zero_one_tracker]

    @property
    def reports_arch_loss(self):
        return True

    # ------------------------------------------------------------------ optimisers
    def compile(self, optimizer=None, arch_optimizer=None, loss=None, epochs=None,
                steps_per_epoch=None, **kwargs):
        """Like `SearchModel.compile`; each cell then gets its own copy of `arch_optimizer`.

        With `epochs` and `steps_per_epoch`, a constant architecture learning
        rate becomes a per-cell cosine schedule from that rate to 0 (each cell
        its own schedule object and optimiser state).
        """
        super().compile(optimizer=optimizer, arch_optimizer=arch_optimizer, loss=loss,
                        epochs=epochs, steps_per_epoch=steps_per_epoch, **kwargs)
        base = self.arch_optimizer
        self.cell_optimizers = []
        for i, group in enumerate(self.cell_arch_groups()):
            cfg = base.get_config()
            if epochs is not None and not isinstance(cfg["learning_rate"], dict):
                cfg["learning_rate"] = EpochCosineDecay(float(cfg["learning_rate"]), epochs,
                                                        steps_per_epoch, 0.0)
            cfg["name"] = f"cell_{i}_{cfg.get('name', 'arch')}"
            opt = type(base).from_config(cfg)
            opt.build(group)
            self.cell_optimizers.append(opt)

    def arch_state_variables(self):
        """Every cell's alphas (and betas) and its own optimiser's state."""
        return list(self.arch_variables) + [v for opt in self.cell_optimizers
                                            for v in opt.variables]

    def cell_arch_groups(self):
        """Each cell's architecture variables: its alphas (and its edge betas, with edge
        normalisation), updated by that cell's optimiser only."""
        betas = self.architecture.betas
        return [[alpha] + ([betas[f"cell_{i}"]] if betas else [])
                for i, alpha in enumerate(self.architecture.alphas)]

    # ------------------------------------------------------------------ losses
    def cell_arch_gradients(self, x, y):
        """Each cell's gradient of its own total loss `L_T^i` with respect to its own alphas.

        Returns:
            `(grads, logs, ce, logits, weight_grads)`: per cell, the list of
            gradients of its variables (`cell_arch_groups`: alphas, then betas);
            `logs` holds the per-cell total losses, marginal contributions and
            zero-one losses; `weight_grads` are the cross-entropy gradients of
            the network weights (used by the single-level step). Gradients
            and losses are summed / averaged over replicas (global batch).
        """
        groups = self.cell_arch_groups()
        n = len(groups)
        # Each cell's variables, flattened; `owner[j]` is the cell of variable j.
        alphas = [v for g in groups for v in g]
        owner = [i for i, g in enumerate(groups) for _ in g]
        m = len(alphas)
        w_vars = self.weight_variables
        ablate = self.w_abl > 0
        with tf.GradientTape(persistent=True) as tape:
            weights = self.architecture.mixing_weights()
            if ablate:
                # The full pass and the n removed-cell passes in one call: each removed
                # pass starts from the full pass's input of its removed cell.
                logits, *removed = ablation_logits(self.network, x, weights, True,
                                                   self.architecture.edge_weights())
                ce, scaled = self.mean_search_loss(y, logits)
                removed = [self.mean_search_loss(y, r)[0] for r in removed]
                removed_sum = ops.sum(ops.stack(removed))
            else:
                ce, scaled, logits = self.compute_search_loss(x, y, weights=weights)
            l01 = [zero_one_loss(w, self.architecture.mask(kind))
                   for w, kind in zip(weights, self.network.cell_types)]
            l01_sum = ops.sum(ops.stack(l01))
        # Under tf.distribute the losses and gradients below are global (summed or averaged
        # over replicas) before they meet the non-linear ablation terms; the zero-one loss
        # depends on the alphas alone, the same on every replica.
        replicas = num_replicas()
        targets = alphas + (w_vars if self.level == "single" else [])
        g_ce = all_reduce_sum(fill_none_gradients(self.gradients(tape, scaled, targets), targets))
        weight_grads = g_ce[m:]
        g_ce = g_ce[:m]
        g01 = fill_none_gradients(self.gradients(tape, l01_sum, alphas), alphas)
        ce = all_reduce_sum([ce / replicas])[0]
        if ablate:
            removed = ops.unstack(all_reduce_sum([ops.stack(removed) / replicas])[0], num=n)
            l_ab, mc = ablation_losses(ce, removed)
            mean = ops.mean(mc)
        else:
            l_ab = mc = ops.zeros((n,))
            mean = ops.convert_to_tensor(0.0)
        grads = [g + self.w01 * g1 for g, g1 in zip(g_ce, g01)]
        if ablate and self.ablation_gradient:
            g_r = all_reduce_sum([g / replicas for g in fill_none_gradients(
                self.gradients(tape, removed_sum, alphas), alphas)])
            nonzero = ops.cast(mean != 0.0, "float32")
            safe = ops.where(mean == 0.0, ops.ones_like(mean), mean)
            # dL_AB^i/da_i = (1/m) dMC_i/da_i - MC_i/(n m^2) * d(sum_j MC_j)/da_i, where
            # dMC_i/da_i = dL_CE/da_i (the removed cell's alphas are unused) and
            # d(sum_j MC_j)/da_i = n dL_CE/da_i - d(sum_j L_removed_j)/da_i.
            grads = [
                g + self.w_abl * nonzero * (gc / safe - mc[owner[j]] / (n * safe * safe)
                                            * (n * gc - gr))
                for j, (g, gc, gr) in enumerate(zip(grads, g_ce, g_r))
            ]
        grads = [[grads[j] for j in range(m) if owner[j] == i] for i in range(n)]
        del tape
        totals = ce + self.w01 * ops.stack(l01) + self.w_abl * l_ab
        logs = {"total": totals, "mc": mc, "l01": ops.stack(l01), "mean_mc": mean}
        return grads, logs, ce, logits, weight_grads

    def arch_step(self, x, y):
        """Steps every cell's alphas with its own optimiser; returns `(ce, logits, weight_grads)`."""
        grads, logs, ce, logits, weight_grads = self.cell_arch_gradients(x, y)

        def update():
            for opt, g, group in zip(self.cell_optimizers, grads, self.cell_arch_groups()):
                self.apply_gradients(opt, g, group, reduced=True)
            return ops.mean(logs["total"])

        arch_loss = self.when_arch_enabled(update)
        self.mc_tracker.update_state(logs["mean_mc"])
        self.zero_one_tracker.update_state(ops.mean(logs["l01"]))
        return arch_loss, ce, logits, weight_grads

    def train_step(self, data):
        if not self.cell_optimizers:
            raise ValueError("Call compile() before fit(): it creates the per-cell optimisers.")
        if self.level == "single":
            x, y = self.unpack_single(data)
            arch_loss, loss, logits, weight_grads = self.arch_step(x, y)
            self.apply_gradients(self.optimizer, weight_grads, self.weight_variables,
                                 self.grad_clip, reduced=True)
            return self.update_metrics(loss, y, logits, arch_loss)
        x_t, y_t, x_v, y_v = self.unpack_bilevel(data)
        arch_loss, _, _, _ = self.arch_step(x_v, y_v)
        loss, logits = self.weight_step(x_t, y_t)
        return self.update_metrics(loss, y_t, logits, arch_loss)

    # ------------------------------------------------------------------ results
    def genotype(self):
        """The `NetworkGenotype`: every cell parsed from its own sigmoid weights."""
        weights = self.architecture.derivation_weights()
        net = self.network
        cells = []
        for i, kind in enumerate(net.cell_types):
            try:
                cells.append(parse_fair_cell(
                    weights[f"cell_{i}"], net.primitives, net.steps, net.multiplier,
                    self.parser, self.threshold, self.architecture.mask(kind),
                    reduction=kind == "reduce", min_node_inputs=self.min_node_inputs))
            except ValueError as e:
                raise ValueError(f"Cell {i}: {e}") from None
        return NetworkGenotype(tuple(cells))

    def derivation_summary(self):
        """How far the threshold parser held: per cell, the nodes none of whose ops reached it.

        Returns:
            `{"parser", "threshold", "min_node_inputs", "fallback_nodes": {cell: [nodes]},
            "fallback_share"}`: the nodes kept alive by their strongest op
            (`min_node_inputs=1`) or left empty (`0`), and their share of all
            intermediate nodes (0 for a converged search).
        """
        weights = self.architecture.derivation_weights()
        net = self.network
        nodes = {f"cell_{i}": fallback_nodes(weights[f"cell_{i}"], net.primitives, net.steps,
                                             self.parser, self.threshold,
                                             self.architecture.mask(kind))
                 for i, kind in enumerate(net.cell_types)}
        total = net.steps * len(nodes)
        return {"parser": self.parser, "threshold": self.threshold,
                "min_node_inputs": self.min_node_inputs, "fallback_nodes": nodes,
                "fallback_share": round(sum(map(len, nodes.values())) / total, 4)}

    def discrete_cell_weights(self, genotype):
        """Per-cell 0/1 weights selecting exactly the ops of a `NetworkGenotype`."""
        rows = {pair: e for e, pair in enumerate(edge_endpoints(self.network.steps))}
        out = []
        for cell in genotype.cells:
            w = np.zeros((self.network.num_edges, len(self.primitives)), "float32")
            for op, node, inp in cell.edges:
                w[rows[(node, inp)], self.primitives.index(op)] = 1.0
            out.append(w)
        return out

    def get_config(self):
        config = {**super().get_config(), "level": self.level, "w01": self.w01,
                  "w_abl": self.w_abl, "ablation_gradient": self.ablation_gradient,
                  "parser": self.parser, "threshold": self.threshold,
                  "min_node_inputs": self.min_node_inputs}
        config.pop("per_cell_alphas", None)
        return config
