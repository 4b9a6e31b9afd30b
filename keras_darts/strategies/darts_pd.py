"""DARTS-PD stages 1 and 2: top-k pruning and path-wise strictly fair training.

DARTS-PD (Cai et al., 2022) keeps, after a differentiable search, the top-k
ops of every edge of the derived topology (stage 1), trains that pruned
supernet path by path with the architecture frozen (stage 2), and then
searches its single-op paths with an evolutionary search (stage 3,
`keras_darts.path_search`).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_darts.architecture.genotype import Genotype
from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.derivation.darts import parse_cell
from keras_darts.derivation.nb201 import nb201_genotype
from keras_darts.search_space.cells import edge_endpoints, genotype_edge_rows
from keras_darts.search_space.nb201 import nb201_edges
from keras_darts.search_space.ops import op_spec
from keras_darts.strategies.base import SearchModel
from keras_darts.utils.distribute import num_replicas

KINDS = ("normal", "reduce")
FAMILIES = ("darts", "nb201")


def _edge_pairs(family, steps):
    """Per edge row, `(node, input)`: DARTS cells' `edge_endpoints`, NAS-Bench-201's edges."""
    return nb201_edges() if family == "nb201" else edge_endpoints(steps)


def _np_int(tensor):
    return np.asarray(ops.convert_to_numpy(tensor), dtype=np.int32)


def top_k_ops(weights, primitives, steps, k, mask=None, family="darts"):
    """Stage 1 of DARTS-PD for one cell kind: the topology and the top-k ops of its edges.

    In a DARTS-family cell the topology is the DARTS rule's (per node the
    two edges with the strongest non-`none` op); a NAS-Bench-201 cell keeps
    all of its 6 edges. On each kept edge the `k` ops with the largest
    weights are kept (`none` and masked ops never are: a path's ops must be
    trainable, so DARTS-PD's NAS-Bench-201 cells never contain `none`).

    Args:
        weights: `(num_edges, num_ops)` derivation weights of the cell kind.
        primitives: op names.
        steps: intermediate nodes (DARTS family).
        k: ops kept per edge (2 in the paper).
        mask: optional boolean `(num_edges, num_ops)` array of active ops.
        family: the search space's cell family, `"darts"` or `"nb201"`.

    Returns:
        A list with one entry per edge: the kept op names, strongest first,
        or `[]` for an edge outside the topology.

    Raises:
        ValueError: if `k < 1`, `k` exceeds the candidate ops of a kept edge,
            or for an unknown family.

    Example:

    >>> w = np.array([[0.1, 0.5, 0.4], [0.2, 0.3, 0.5], [0.0, 0.6, 0.4],
    ...               [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    >>> top_k_ops(w, ["none", "skip_connect", "sep_conv_3x3"], steps=2, k=2)[0]
    ['skip_connect', 'sep_conv_3x3']
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k (ops kept per edge) must be a positive integer. Received: k={k!r}")
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}. Received: family={family!r}")
    w = np.asarray(weights, dtype=np.float64)
    endpoints = _edge_pairs(family, steps)
    usable = np.array([not op_spec(p).is_zero for p in primitives])[None, :].repeat(len(w), 0)
    if mask is not None:
        usable &= np.asarray(mask, dtype=bool)
    if family == "nb201":
        topology = range(len(endpoints))
    else:
        topology = genotype_edge_rows(parse_cell(w, primitives, steps, mask), steps)
    kept = [[] for _ in endpoints]
    for e in topology:
        candidates = np.flatnonzero(usable[e])
        if k > len(candidates):
            node, inp = endpoints[e]
            raise ValueError(
                f"k={k} is larger than the {len(candidates)} candidate ops of edge {e} "
                f"(node {node}, input {inp}): "
                f"{[primitives[i] for i in candidates]}.")
        order = sorted(candidates, key=lambda i: (-w[e, i], i))[:k]
        kept[e] = [primitives[i] for i in order]
    return kept


def _check_kept(kept, primitives, steps, family="darts", kinds=KINDS):
    """Validates a `{kind: [...]}` kept-op structure (the space's cell kinds); returns k."""
    if not isinstance(kept, dict) or set(kept) != set(kinds):
        raise ValueError(f"kept must map {' and '.join(repr(k) for k in kinds)} to one op-name "
                         f"list per edge. Received: {kept!r}")
    endpoints = _edge_pairs(family, steps)
    ks = set()
    for kind in kinds:
        edges = kept[kind]
        if len(edges) != len(endpoints):
            cell = ("a NAS-Bench-201 cell" if family == "nb201"
                    else f"a cell with {steps} nodes")
            raise ValueError(f"kept[{kind!r}] lists {len(edges)} edges; {cell} has "
                             f"{len(endpoints)}.")
        for e, names in enumerate(edges):
            for name in names:
                if name not in primitives:
                    raise ValueError(f"kept[{kind!r}] edge {e} names op {name!r}, which is not "
                                     f"a candidate op ({list(primitives)}).")
                if op_spec(name).is_zero:
                    raise ValueError(f"kept[{kind!r}] edge {e} keeps {name!r}; a path cannot "
                                     "take the zero op.")
            if len(set(names)) != len(names):
                raise ValueError(f"kept[{kind!r}] edge {e} repeats an op: {list(names)}.")
            if names:
                ks.add(len(names))
            elif family == "nb201":
                raise ValueError(f"kept[{kind!r}] edge {e} keeps no op; every edge of a "
                                 "NAS-Bench-201 cell takes one.")
        for i in range(0 if family == "nb201" else steps):
            n = sum(1 for e, (node, _) in enumerate(endpoints) if node == i and edges[e])
            if n != 2:
                raise ValueError(f"kept[{kind!r}] keeps {n} incoming edges of node {i}; a DARTS "
                                 "cell takes exactly 2.")
    if len(ks) != 1:
        raise ValueError(f"Every kept edge must keep the same number of ops (k) for strictly "
                         f"fair paths. Received counts {sorted(ks)}.")
    return ks.pop()


def default_kept(primitives, steps, family="darts"):
    """The unpruned default: every non-zero op on each node's two edges from the cell inputs
    (DARTS family) or on every edge (NAS-Bench-201).

    Example:

    >>> default_kept(["none", "skip_connect", "sep_conv_3x3"], 1)["normal"]
    [['skip_connect', 'sep_conv_3x3'], ['skip_connect', 'sep_conv_3x3']]
    """
    names = [p for p in primitives if not op_spec(p).is_zero]
    if family == "nb201":
        return {"normal": [list(names) for _ in nb201_edges()]}
    edges = [list(names) if inp < 2 else [] for _, inp in edge_endpoints(steps)]
    return {kind: [list(e) for e in edges] for kind in KINDS}


@keras.saving.register_keras_serializable(package="keras_darts")
class PathwiseFairSearch(SearchModel):
    """DARTS-PD stage 2: a pruned supernet trained path-wise with strict fairness.

    Every cell keeps, on each edge of its kind's topology, `k` ops
    (`kept`); other edges and ops are not built. DARTS-family spaces have a
    normal and a reduction kind; a NAS-Bench-201 space has one (`"normal"`),
    all of whose 6 edges are kept, and its paths are `NB201Genotype`s. Each step draws, for every
    kept edge, a random permutation of its `k` ops that assigns them to the
    `k` paths of the step, so every kept op of every edge is trained exactly
    once per step and the paths of a step are op-disjoint on every edge. The
    `k` path losses on the same batch are summed and one update (clipped by
    global norm) applies the accumulated gradient. Only network weights train;
    the architecture parameters are frozen. A path computes one op per edge
    (`MixedOp.call_choice`), so a step costs `k` single-path passes.

    Counters record fairness: `op_counts[kind]` (updates per edge and op),
    `op_path_counts[kind]` (per edge, op and path slot) and `path_counts`
    (updates per path slot); `fairness()` summarises them.

    Args:
        kept: `{"normal": [...], "reduce": [...]}` (NAS-Bench-201:
            `{"normal": [...]}`) with one list of kept op names per edge
            (`[]`: edge not in the topology), as `top_k_ops` returns. None:
            `default_kept` (every non-zero op, unpruned).
        **kwargs: `SearchModel` arguments (sizes, `space`, `seed`,
            `partial_channels`, ...).

    Raises:
        ValueError: for a malformed `kept` (unknown or zero op, a DARTS node
            without exactly 2 edges, a NAS-Bench-201 edge without ops, edges
            with different `k`).

    Example:

    >>> model = prune_supernet(searched_model, k=2)  # doctest: +SKIP
    >>> model.compile(epochs=5, steps_per_epoch=40)  # doctest: +SKIP
    >>> model.fit(data.train, epochs=5)  # doctest: +SKIP
    >>> model.fairness()["strict"]  # doctest: +SKIP
    True
    """

    data_mode = "split"
    reports_arch_loss = False

    def __init__(self, kept=None, **kwargs):
        self.kept = kept
        for kind in KINDS:
            kwargs.pop(f"{kind}_active", None)
        super().__init__(**kwargs)
        self._config["kept"] = self.kept
        self.arch_updates_enabled.assign(0.0)
        self._rows, self._kept_idx = {}, {}
        for kind in self.kinds:
            rows = [e for e, names in enumerate(self.kept[kind]) if names]
            self._rows[kind] = tf.constant(rows, tf.int32)
            self._kept_idx[kind] = tf.constant(
                [[self.primitives.index(n) for n in self.kept[kind][e]] for e in rows], tf.int32)

    def adapt_search_space(self, spec):
        """Builds only each edge's `kept` ops (None: `default_kept`, every non-zero op on the
        edges from the cell inputs).

        Raises:
            ValueError: for a malformed `kept` (see the class).
        """
        space = spec.space
        kept = self.kept
        if kept is None:
            kept = default_kept(space.primitives, spec.steps, space.family)
        if isinstance(kept, dict):
            kept = {kind: [list(e) for e in kept[kind]] for kind in kept}
        self.k = _check_kept(kept, space.primitives, spec.steps, space.family, space.kinds)
        self.kept = kept
        return spec.restrict(**{f"{kind}_active": [sorted(space.primitives.index(n) for n in e)
                                                   for e in kept[kind]]
                                for kind in space.kinds})

    def build(self, input_shape):
        super().build(input_shape)
        num_ops = len(self.network.primitives)
        edges = self.network.num_edges
        self.step_counter = self.add_weight(name="path_step", shape=(), dtype="int64",
                                            initializer="zeros", trainable=False)
        self.op_counts = {kind: self.add_weight(
            name=f"op_counts_{kind}", shape=(edges, num_ops), initializer="zeros",
            trainable=False) for kind in self.kinds}
        self.op_path_counts = {kind: self.add_weight(
            name=f"op_path_counts_{kind}", shape=(edges, num_ops, self.k), initializer="zeros",
            trainable=False) for kind in self.kinds}
        self.path_counts = self.add_weight(name="path_counts", shape=(self.k,),
                                           initializer="zeros", trainable=False)

    @property
    def family(self):
        """The search space's cell family (`"darts"` or `"nb201"`)."""
        return self.space.family

    @property
    def kinds(self):
        """The search space's cell kinds (`("normal", "reduce")` or `("normal",)`)."""
        return self.space.kinds

    @property
    def arch_variables(self):
        """Frozen in stage 2: nothing is updated by the architecture optimizer."""
        return []

    # ------------------------------------------------------------------ paths
    def draw_permutations(self, step):
        """Per kind, an int32 `(kept_edges, k)` tensor: row `r` is a permutation of `range(k)`.

        Path `p` of the step takes op `kept[edge][perm[r, p]]` on kept edge `r`.
        Stateless: the draw depends only on the seed and the step, so a
        resumed run draws the same paths.
        """
        seed = 0 if self.supernet_spec.seed is None else int(self.supernet_spec.seed)
        out = {}
        for offset, kind in enumerate(self.kinds):
            u = tf.random.stateless_uniform(
                (len(self._rows[kind]), self.k),
                seed=tf.stack([tf.constant(seed * 2 + offset, tf.int64), step]))
            out[kind] = tf.argsort(u, axis=1, stable=True)
        return out

    def path_choices(self, perms, p):
        """Op indices `(num_edges,)` per kind of path `p` (-1 on edges outside the topology)."""
        out = {}
        for kind in self.kinds:
            chosen = tf.gather(self._kept_idx[kind], perms[kind][:, p], batch_dims=1)
            out[kind] = tf.tensor_scatter_nd_update(
                tf.fill([self.network.num_edges], -1), self._rows[kind][:, None], chosen)
        return out

    def cell_choices(self, choices):
        """Per-cell op-index tensors from per-kind ones."""
        return [choices[kind] for kind in self.network.cell_types]

    def _genotype_edges(self, genotype):
        """Per kind, `[(edge_row, op)]` of a genotype's edges in this supernet's rows.

        Raises:
            ValueError: for a genotype of another cell family.
        """
        if self.family == "nb201":
            if not isinstance(genotype, NB201Genotype):
                raise ValueError("A path of a NAS-Bench-201 supernet is an NB201Genotype. "
                                 f"Received: {genotype!r}")
            return {"normal": [(e, op) for e, (op, _) in enumerate(genotype.edge_list())]}
        if not isinstance(genotype, Genotype):
            raise ValueError(f"A path of a DARTS-family supernet is a Genotype. Received: "
                             f"{genotype!r}")
        cells = {kind: getattr(genotype, kind) for kind in self.kinds}
        return {kind: [(row, op) for row, (op, _) in
                       zip(genotype_edge_rows(edges, self.network.steps), edges)]
                for kind, edges in cells.items()}

    def choices_of(self, genotype):
        """Per-kind op-index arrays `(num_edges,)` selecting exactly `genotype`'s path.

        Raises:
            ValueError: if the genotype is not a path of this pruned supernet.
        """
        out = {}
        for kind, edges in self._genotype_edges(genotype).items():
            c = np.full(self.network.num_edges, -1, np.int32)
            for position, (e, op) in enumerate(edges):
                if e is None or op not in self.kept[kind][e]:
                    raise ValueError(f"{kind} edge {position} ({op!r}) is not an op the pruned "
                                     "supernet keeps there.")
                c[e] = self.primitives.index(op)
            out[kind] = c
        return out

    def path_genotype(self, choices):
        """The genotype of a path given as per-kind op indices or op names per kept edge.

        Args:
            choices: `{"normal": ..., "reduce": ...}` (NAS-Bench-201:
                `{"normal": ...}`), each either an array of op indices
                `(num_edges,)` or a list of op names, one per kept edge in edge
                order.

        Returns:
            A `Genotype` (nodes' edges in input order), or an `NB201Genotype`.
        """
        endpoints = _edge_pairs(self.family, self.network.steps)
        cells = {}
        for kind in self.kinds:
            rows = [e for e, names in enumerate(self.kept[kind]) if names]
            c = list(choices[kind])
            # Told apart by type, not length: with one node per cell both lists have 2 entries.
            if all(isinstance(n, str) for n in c):
                names = [str(n) for n in c]
            else:
                names = [self.primitives[int(c[e])] for e in rows]
            cells[kind] = [(name, endpoints[e][1]) for name, e in zip(names, rows)]
        if self.family == "nb201":
            return nb201_genotype(name for name, _ in cells["normal"])
        steps, mult = self.network.steps, self.network.multiplier
        concat = list(range(2 + steps - mult, steps + 2))
        return Genotype(cells["normal"], concat, cells["reduce"], concat)

    def kept_edges(self):
        """`[(kind, edge_row, [kept op names])]` for every kept edge, in a fixed order."""
        return [(kind, e, list(names)) for kind in self.kinds
                for e, names in enumerate(self.kept[kind]) if names]

    # ------------------------------------------------------------------ training
    def train_step(self, data):
        x, y = self.unpack_single(data)
        perms = self.draw_permutations(tf.cast(self.step_counter.value, tf.int64))
        paths = [self.path_choices(perms, p) for p in range(self.k)]
        losses, all_logits = [], []
        with tf.GradientTape() as tape:
            for choices in paths:
                logits = self.network(x, self.cell_choices(choices), training=True)
                losses.append(self.mean_search_loss(y, logits)[0])
                all_logits.append(logits)
            total = ops.sum(ops.stack(losses))
            scaled = total / num_replicas()
        grads = self.gradients(tape, scaled, self.weight_variables)
        self.apply_gradients(self.optimizer, grads, self.weight_variables, self.grad_clip)
        num_ops = len(self.primitives)
        for p, choices in enumerate(paths):
            for kind in self.kinds:
                hot = tf.one_hot(choices[kind], num_ops)
                self.op_counts[kind].assign_add(hot)
                self.op_path_counts[kind].assign_add(
                    hot[:, :, None] * tf.one_hot(p, self.k)[None, None, :])
        self.path_counts.assign_add(tf.ones((self.k,)))
        self.step_counter.assign_add(1)
        self.loss_tracker.update_state(total / self.k)
        for logits in all_logits:
            self.accuracy_tracker.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def alpha_path_choices(self):
        """In-graph op indices per kind of the path `genotype()` describes (strongest alpha)."""
        out = {}
        for kind in self.kinds:
            alpha = self.architecture.variables_by_kind[kind]
            rows = self._rows[kind]
            values = tf.gather(tf.gather(alpha, rows), self._kept_idx[kind], batch_dims=1)
            chosen = tf.gather(self._kept_idx[kind], tf.argmax(values, axis=1, output_type=tf.int32),
                               batch_dims=1)
            out[kind] = tf.tensor_scatter_nd_update(
                tf.fill([self.network.num_edges], -1), rows[:, None], chosen)
        return out

    def test_step(self, data):
        """Evaluates the path of the strongest frozen alphas (`genotype()`)."""
        x, y = data[0], data[1]
        logits = self.network(x, self.cell_choices(self.alpha_path_choices()), training=False)
        self.loss_tracker.update_state(ops.mean(self.search_loss(y, logits)))
        self.accuracy_tracker.update_state(y, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    # ------------------------------------------------------------------ results
    def genotype(self):
        """The path of the strongest frozen alpha on every kept edge (stage 1's top-1 choice).

        Ties go to the op listed first in `kept` (the stronger one at pruning).

        Returns:
            A `Genotype` (an `NB201Genotype` in a NAS-Bench-201 space).
        """
        return self.path_genotype({k: _np_int(v) for k, v in self.alpha_path_choices().items()})

    def fairness(self):
        """The fairness counters as plain Python data.

        Returns:
            A dict: `steps`; `path_updates` (per path slot); `op_updates`
            (`{kind: {edge: {op: count}}}` over kept ops); `strict` (True when
            every kept op of every edge has exactly `steps` updates and every
            path slot `steps`); `min_op_updates` and `max_op_updates`.
        """
        steps = int(ops.convert_to_numpy(self.step_counter))
        per_op, counts = {}, []
        for kind in self.kinds:
            table = ops.convert_to_numpy(self.op_counts[kind])
            per_op[kind] = {}
            for e, names in enumerate(self.kept[kind]):
                if names:
                    per_op[kind][str(e)] = {n: int(table[e, self.primitives.index(n)])
                                            for n in names}
                    counts.extend(per_op[kind][str(e)].values())
        paths = [int(v) for v in ops.convert_to_numpy(self.path_counts)]
        return {
            "steps": steps, "k": self.k, "path_updates": paths, "op_updates": per_op,
            "min_op_updates": min(counts), "max_op_updates": max(counts),
            "strict": all(c == steps for c in counts) and all(p == steps for p in paths),
        }

    def get_config(self):
        config = super().get_config()
        for kind in KINDS:
            config.pop(f"{kind}_active", None)
        return config


def copy_supernet_weights(source, target):
    """Copies a supernet's weights into a pruned copy of it (same sizes, fewer ops).

    Stem, preprocessing (DARTS cells), residual reductions and last BN
    (NAS-Bench-201), classifier and every op the target computes take the
    source's values; ops the target does not have are skipped.

    Args:
        source: the full supernet (`DartsSupernet` or `NB201Supernet`).
        target: the pruned one (same class, sizes and channels).

    Raises:
        ValueError: if the two supernets do not have the same structure.

    Example:

    >>> copy_supernet_weights(searched.network, pruned.network)  # doctest: +SKIP
    """
    if (type(source) is not type(target) or len(source.cells) != len(target.cells)
            or source.channels != target.channels):
        raise ValueError("The supernets differ in kind, cells or channels; cannot copy weights.")
    if getattr(source, "stem_kind", None) != getattr(target, "stem_kind", None):
        raise ValueError("The supernets have different stems; cannot copy weights.")
    fixed = [name for name in ("stem_conv", "stem_bn", "last_bn", "classifier")
             if hasattr(target, name)]
    pairs = [(getattr(source, name), getattr(target, name)) for name in fixed]
    pairs += list(zip(getattr(source, "imagenet_stem_layers", ()),
                      getattr(target, "imagenet_stem_layers", ())))
    pairs += [(s, t) for s, t in zip(getattr(source, "blocks", ()), getattr(target, "blocks", ()))
              if t not in target.cells]  # NAS-Bench-201's residual reductions
    for src_cell, dst_cell in zip(source.cells, target.cells):
        pairs += [(getattr(src_cell, name), getattr(dst_cell, name))
                  for name in ("preprocess0", "preprocess1") if hasattr(dst_cell, name)]
    for src_layer, dst_layer in pairs:
        dst_layer.set_weights(src_layer.get_weights())
    for src_cell, dst_cell in zip(source.cells, target.cells):
        for e in range(target.num_edges):
            dst_edge, src_edge = dst_cell.edge(e), src_cell.edge(e)
            if dst_edge is None:
                continue
            src_ops = {i: (op, bn) for i, op, bn in src_edge.computed_layers}
            for i, op, bn in dst_edge.computed_layers:
                src_op, src_bn = src_ops[i]
                op.set_weights(src_op.get_weights())
                if bn is not None:
                    bn.set_weights(src_bn.get_weights())


def prune_supernet(model, k=2, inherit_weights=True, **overrides):
    """DARTS-PD stage 1: the pruned supernet of a searched model, top-k ops per edge.

    The topology and the kept ops come from the model's derivation weights
    (with edge normalisation, scaled by the edge weights, as PC-DARTS
    derives); the pruned model keeps the model's sizes, partial channels,
    frozen alphas and, with `inherit_weights`, its trained weights.

    Args:
        model: a trained `SearchModel` with shared alphas per cell kind (a
            DARTS-family or the NAS-Bench-201 space).
        k: ops kept per edge (2 in the paper).
        inherit_weights: copy the supernet's weights into the pruned one
            (False: a fresh initialisation).
        **overrides: `PathwiseFairSearch` arguments to change (e.g. `seed`,
            `partial_channels` with `inherit_weights=False`).

    Returns:
        A `PathwiseFairSearch`.

    Raises:
        ValueError: for `k < 1`, `k` larger than an edge's candidate ops, or
            a model with per-cell alphas.

    Example:

    >>> pruned = prune_supernet(result.model, k=2)  # doctest: +SKIP
    >>> pruned.kept["normal"][0]  # doctest: +SKIP
    ['sep_conv_3x3', 'skip_connect']
    """
    if model.architecture.per_cell:
        raise ValueError("DARTS-PD prunes per cell kind, but this model has per-cell alphas "
                         "(D-DARTS); search with a method that shares alphas per kind.")
    weights = model.architecture.derivation_weights()
    net = model.network
    kept = {kind: top_k_ops(weights[kind], net.primitives, net.steps, k,
                            model.architecture.mask(kind), model.space.family)
            for kind in model.space.kinds}
    # The searched model's space, sizes and alpha form; its edge weights are folded into `kept`.
    pruned = PathwiseFairSearch.from_spec(
        model.supernet_spec.replace(edge_normalization=False), kept=kept,
        grad_clip=model.grad_clip, recompute=model.recompute, **overrides)
    for kind in pruned.kinds:
        pruned.architecture.variables_by_kind[kind].assign(
            model.architecture.variables_by_kind[kind])
    if inherit_weights:
        copy_supernet_weights(net, pruned.network)
    return pruned
