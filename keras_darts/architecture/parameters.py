"""Architecture parameters: the one owner of the alphas."""

import keras
import numpy as np
from keras import layers, ops

from keras_darts.architecture.activations import get_activation
from keras_darts.search_space.mixed_op import validate_active


def active_to_mask(active, num_edges, num_ops):
    """Turns per-edge active op index lists into a boolean `(num_edges, num_ops)` array.

    Args:
        active: a list with one index list per edge, or None (all active).
        num_edges: number of edges.
        num_ops: number of candidate ops.

    Returns:
        A numpy boolean array.

    Raises:
        ValueError: if the list has the wrong length or bad indices.

    Example:

    >>> active_to_mask([[0, 1], [1]], 2, 3).astype(int).tolist()
    [[1, 1, 0], [0, 1, 0]]
    """
    mask = np.ones((num_edges, num_ops), dtype=bool)
    if active is None:
        return mask
    if len(active) != num_edges:
        raise ValueError(
            f"The op mask must list the active ops of each of the {num_edges} edges. "
            f"Received {len(active)} entries."
        )
    mask[:] = False
    for e, edge in enumerate(active):
        mask[e, list(validate_active(edge, num_ops, where=f"edge {e}"))] = True
    return mask


def _edge_entropy(w):
    """Entropy (nats) of each edge's weights, renormalised over the edge."""
    p = w / ops.maximum(ops.sum(w, axis=-1, keepdims=True), 1e-12)
    return -ops.sum(p * ops.log(ops.maximum(p, 1e-12)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_darts")
class ArchitectureParameters(layers.Layer):
    """Owns the architecture parameters (alphas) and turns them into mixing weights.

    By default there are two variables shared by all cells of a kind,
    `alpha_normal` and `alpha_reduce`, each `(num_edges, num_ops)`, initialised
    as in the reference: `init_scale * N(0, 1)`. With `per_cell=True` every
    cell owns its own variable `alpha_cell_{i}` (D-DARTS). A temperature is a
    non-trainable variable so that callbacks can anneal it inside a traced
    step; the activation (softmax, sigmoid, ...) is looked up by name.

    Args:
        num_edges: edges per cell.
        primitives: candidate op names (the columns).
        cell_types: `"normal"` or `"reduce"` for each cell of the supernet.
        activation: name of a registered mixing function.
        temperature: initial temperature (> 0).
        per_cell: one alpha variable per cell instead of one per cell kind.
        init_scale: standard deviation of the initial alphas; 0 gives zeros.
        init_value: constant added to the initial alphas, or `"uniform"`: per
            edge `-ln(k - 1)` for an edge with `k` active ops, so that a sigmoid
            starts at the uniform share `1/k` (-ln(7), i.e. 1/8, for the 8 DARTS
            ops; 0 for a single-op edge), as Single-DARTS initialises them.
        normal_active: per-edge active op indices for normal cells (None: all).
        reduce_active: per-edge active op indices for reduction cells.
        seed: seed of the initializer.
        kinds: the cell kinds that own alphas (`("normal", "reduce")`;
            `("normal",)` for NAS-Bench-201, whose cells are all alike).
        edge_nodes: PC-DARTS's edge normalisation: the target node of each
            edge. Then every alpha variable has a companion `beta_*` of one
            value per edge (same initialisation), and `edge_weights()` is a
            softmax of the betas over each node's incoming edges. None: off.

    Raises:
        ValueError: for an unknown activation, a non-positive temperature,
            a negative init scale, a bad init value, cell types without
            alphas, or malformed masks.

    Example:

    >>> arch = ArchitectureParameters(14, DARTS_PRIMITIVES, ["normal", "reduce"])
    >>> arch.build()
    >>> [w.shape for w in arch.mixing_weights()]
    [(14, 8), (14, 8)]
    """

    def __init__(self, num_edges, primitives, cell_types, activation="softmax", temperature=1.0,
                 per_cell=False, init_scale=1e-3, init_value=0.0, normal_active=None,
                 reduce_active=None, seed=None, kinds=("normal", "reduce"), edge_nodes=None,
                 **kwargs):
        super().__init__(**kwargs)
        get_activation(activation)
        if not temperature > 0:
            raise ValueError(f"temperature must be positive. Received: temperature={temperature!r}")
        if init_scale < 0:
            raise ValueError(f"init_scale must be >= 0. Received: init_scale={init_scale!r}")
        bad = [t for t in cell_types if t not in ("normal", "reduce")]
        if bad:
            raise ValueError(f"cell_types must be 'normal' or 'reduce'. Received: {bad}")
        kinds = tuple(kinds)
        missing = sorted(set(cell_types) - set(kinds))
        if missing or not set(kinds) <= {"normal", "reduce"}:
            raise ValueError(f"kinds {list(kinds)} must be 'normal'/'reduce' and cover the cell "
                             f"types; missing {missing}.")
        if isinstance(init_value, str) and init_value != "uniform":
            raise ValueError(f"init_value must be a number or 'uniform'. Received: {init_value!r}")
        self.num_edges = num_edges
        self.primitives = tuple(primitives)
        self.cell_types = list(cell_types)
        self.activation = activation
        self.initial_temperature = float(temperature)
        self.per_cell = bool(per_cell)
        self.init_scale = float(init_scale)
        self.init_value = init_value if isinstance(init_value, str) else float(init_value)
        self.kinds = kinds
        self.normal_active = normal_active
        self.reduce_active = reduce_active
        self.seed = seed
        if edge_nodes is not None:
            edge_nodes = [int(n) for n in edge_nodes]
            if len(edge_nodes) != num_edges or edge_nodes != sorted(edge_nodes):
                raise ValueError(f"edge_nodes must give the target node of each of the {num_edges} "
                                 f"edges, in edge order. Received: {edge_nodes}")
        self.edge_nodes = edge_nodes
        num_ops = len(self.primitives)
        self._masks = {
            "normal": active_to_mask(normal_active, num_edges, num_ops),
            "reduce": active_to_mask(reduce_active, num_edges, num_ops),
        }

    def initial_value(self, kind):
        """The constant part of the initial alphas of a cell kind (scalar or `(edges, ops)`).

        Example:

        >>> arch.initial_value("normal")  # doctest: +SKIP
        """
        if self.init_value != "uniform":
            return self.init_value
        k = self._masks[kind].sum(axis=1, keepdims=True).astype("float64")
        value = -np.log(np.maximum(k - 1.0, 1.0))
        return np.broadcast_to(value, self._masks[kind].shape).astype("float32")

    def _initializer(self, offset, kind):
        seed = None if self.seed is None else int(self.seed) + offset
        normal = keras.initializers.RandomNormal(0.0, self.init_scale or 1.0, seed=seed)
        value, scale = self.initial_value(kind), self.init_scale

        def init(shape, dtype=None):
            x = normal(shape, dtype) if scale else ops.zeros(shape, dtype)
            return x + value

        return init

    def build(self, input_shape=None):
        shape = (self.num_edges, len(self.primitives))
        self.temperature = self.add_weight(
            name="temperature", shape=(), initializer=keras.initializers.Constant(
                self.initial_temperature), trainable=False,
        )
        if self.per_cell:
            self.alphas = [
                self.add_weight(name=f"alpha_cell_{i}", shape=shape,
                                initializer=self._initializer(i, kind))
                for i, kind in enumerate(self.cell_types)
            ]
        else:
            self._by_kind = {}
            for offset, kind in enumerate(("normal", "reduce")):
                if kind in self.kinds:
                    self._by_kind[kind] = self.add_weight(
                        name=f"alpha_{kind}", shape=shape,
                        initializer=self._initializer(offset, kind))
        self.betas = {}
        if self.edge_nodes is not None:
            normal = keras.initializers.RandomNormal(0.0, self.init_scale or 1.0,
                                                     seed=None if self.seed is None
                                                     else int(self.seed) + 1000)
            scale = self.init_scale

            def init_beta(shape, dtype=None):
                return normal(shape, dtype) if scale else ops.zeros(shape, dtype)

            for key in self.variables_by_kind:
                self.betas[key] = self.add_weight(name=f"beta_{key}", shape=(self.num_edges,),
                                                  initializer=init_beta)
        self.built = True

    @property
    def edge_normalization(self):
        """Whether edges carry PC-DARTS's normalised edge weights (betas)."""
        return self.edge_nodes is not None

    def normalized_edges(self, beta):
        """Softmax of one beta vector over each node's incoming edges (a `(num_edges,)` tensor)."""
        parts, start = [], 0
        for node in sorted(set(self.edge_nodes)):
            end = start + self.edge_nodes.count(node)
            parts.append(ops.softmax(beta[start:end]))
            start = end
        return ops.concatenate(parts, axis=0)

    def edge_weights(self):
        """Per-cell edge weights of edge normalisation (a list), or None when it is off.

        Example:

        >>> arch.edge_weights()  # doctest: +SKIP
        """
        if not self.edge_normalization:
            return None
        if self.per_cell:
            return [self.normalized_edges(self.betas[f"cell_{i}"])
                    for i in range(len(self.cell_types))]
        cache = {key: self.normalized_edges(b) for key, b in self.betas.items()}
        return [cache[k] for k in self.cell_types]

    def derivation_weights(self):
        """Mixing weights for derivation, keyed like `variables_by_kind` (numpy).

        With edge normalisation each edge's row is multiplied by its
        normalised edge weight, as PC-DARTS derives; otherwise this is
        `weights_by_kind()`.
        """
        weights = self.weights_by_kind()
        if self.edge_normalization:
            for key in weights:
                edge = ops.convert_to_numpy(self.normalized_edges(self.betas[key]))
                weights[key] = weights[key] * edge[:, None]
        return weights

    @property
    def alpha_normal(self):
        """The alphas shared by normal cells."""
        return self._by_kind["normal"]

    @property
    def alpha_reduce(self):
        """The alphas shared by reduction cells (absent for one-kind spaces)."""
        if "reduce" not in getattr(self, "_by_kind", {}):
            raise AttributeError("This architecture has no reduction-cell alphas "
                                 f"(kinds={list(self.kinds)}, per_cell={self.per_cell}).")
        return self._by_kind["reduce"]

    @property
    def variables_by_kind(self):
        """`{"normal": var, "reduce": var}` (shared mode) or `{"cell_i": var}` (per cell)."""
        if self.per_cell:
            return {f"cell_{i}": a for i, a in enumerate(self.alphas)}
        return dict(self._by_kind)

    def kind_of(self, key):
        """The cell kind (`"normal"` / `"reduce"`) of a `variables_by_kind` key."""
        return self.cell_types[int(key.split("_")[1])] if self.per_cell else key

    def cell_alphas(self):
        """The alpha variable used by each cell, in cell order."""
        if self.per_cell:
            return list(self.alphas)
        return [self._by_kind[t] for t in self.cell_types]

    def mask(self, kind):
        """The boolean op mask of `"normal"` or `"reduce"` cells (numpy)."""
        return self._masks[kind]

    def weights_for(self, alpha, kind, temperature=None):
        """Mixing weights for one alpha tensor of a cell of `kind`.

        Args:
            alpha: `(num_edges, num_ops)` tensor.
            kind: `"normal"` or `"reduce"` (selects the op mask).
            temperature: overrides the temperature variable.

        Returns:
            The `(num_edges, num_ops)` weights.
        """
        t = self.temperature if temperature is None else temperature
        mask = self._masks[kind]
        return get_activation(self.activation)(alpha, t, None if mask.all() else mask)

    def mixing_weights(self, temperature=None):
        """Mixing weights for every cell.

        Args:
            temperature: overrides the temperature variable (e.g. SP-DARTS
                picking its sparse or smooth temperature for one step).

        Returns:
            A list of `(num_edges, num_ops)` tensors, one per cell. Cells that
            share alphas share the same tensor (computed once).
        """
        if self.per_cell:
            return [self.weights_for(a, k, temperature)
                    for a, k in zip(self.alphas, self.cell_types)]
        cache = {kind: self.weights_for(alpha, kind, temperature)
                 for kind, alpha in self._by_kind.items() if kind in self.cell_types}
        return [cache[k] for k in self.cell_types]

    def weights_by_kind(self, temperature=None):
        """Mixing weights as numpy arrays, keyed like `variables_by_kind`."""
        return {key: ops.convert_to_numpy(self.weights_for(alpha, self.kind_of(key), temperature))
                for key, alpha in self.variables_by_kind.items()}

    def entropy(self, temperature=None):
        """Mean entropy (nats) of the per-edge op distributions, over all edges and alphas.

        Weights are renormalised over each edge's active ops first, so the
        value is also meaningful for the sigmoid activation. It is 0 for a
        one-hot choice and `ln(num_active_ops)` for a uniform one.

        Args:
            temperature: overrides the temperature variable.

        Returns:
            A scalar tensor.
        """
        values = []
        for key, alpha in self.variables_by_kind.items():
            w = self.weights_for(alpha, self.kind_of(key), temperature)
            values.append(ops.mean(_edge_entropy(w)))
        return ops.mean(ops.stack(values))

    def ies(self, temperature=1.0):
        """Information entropy summation (SP-DARTS, Eq. 21): summed edge entropies of softmax(A / T).

        `IES = -sum_e sum_m a_e^m log a_e^m` with `a_e = softmax(A_e / T)`
        (a softmax whatever the activation in use), over every edge of every
        alpha variable, each edge's masked ops excluded. It is `E * ln(M)` for
        uniform alphas and falls towards 0 as the distributions sparsify.

        Args:
            temperature: T (1: DARTS's softmax; SP-DARTS logs it at `t_sp`).

        Returns:
            A scalar tensor (nats).

        Example:

        >>> float(arch.ies())  # doctest: +SKIP
        """
        total = 0.0
        for key, alpha in self.variables_by_kind.items():
            mask = self._masks[self.kind_of(key)]
            w = get_activation("softmax")(alpha, temperature, None if mask.all() else mask)
            total = total + ops.sum(_edge_entropy(w))
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "num_edges": self.num_edges,
            "primitives": list(self.primitives),
            "cell_types": self.cell_types,
            "activation": self.activation,
            "temperature": self.initial_temperature,
            "per_cell": self.per_cell,
            "init_scale": self.init_scale,
            "init_value": self.init_value,
            "normal_active": self.normal_active,
            "reduce_active": self.reduce_active,
            "seed": self.seed,
            "kinds": list(self.kinds),
            "edge_nodes": self.edge_nodes,
        }
