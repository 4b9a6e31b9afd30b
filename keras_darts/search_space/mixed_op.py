"""`MixedOp`: the weighted sum of an edge's candidate ops."""

import keras
import tensorflow as tf
from keras import layers, ops

from keras_darts.search_space.ops import (
    batch_norm, build_op, op_spec, statistics_all_reduced, subsample,
)


def channel_shuffle(x, groups):
    """Interleaves the channels of `groups` equal groups (ShuffleNet's channel shuffle).

    Channel `g * (C // groups) + i` moves to position `i * groups + g`, as
    PC-DARTS does after concatenating the mixed op's output with the bypass.

    Args:
        x: a `(batch, height, width, channels)` tensor, channels divisible by `groups`.
        groups: number of groups.

    Returns:
        The tensor with shuffled channels.

    Example:

    >>> x = keras.ops.reshape(keras.ops.arange(4.0), (1, 1, 1, 4))
    >>> keras.ops.convert_to_numpy(channel_shuffle(x, 2)).ravel().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    if groups == 1:
        return x
    c = x.shape[-1]
    shape = ops.shape(x)
    y = ops.reshape(x, (shape[0], shape[1], shape[2], groups, c // groups))
    y = ops.transpose(y, (0, 1, 2, 4, 3))
    return ops.reshape(y, (shape[0], shape[1], shape[2], c))


def check_partial_channels(partial_channels, channels):
    """Validates PC-DARTS's `K` against a channel count; returns it as an int.

    Args:
        partial_channels: `K` (1: all channels go through the ops).
        channels: the edge's channels.

    Returns:
        `K`.

    Raises:
        ValueError: if `K` is not a positive integer or does not divide `channels`.

    Example:

    >>> check_partial_channels(4, 16)
    4
    """
    k = partial_channels
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"partial_channels must be a positive integer (K of PC-DARTS; 1: off). "
                         f"Received: partial_channels={k!r}")
    if channels % k:
        raise ValueError(f"partial_channels={k} must divide the channels of every edge; "
                         f"{channels} channels do not divide by {k}.")
    return k


def validate_active(active, num_ops, where="edge"):
    """Checks a list of active op indices and returns it as a sorted tuple.

    Args:
        active: iterable of op indices, or None for all ops.
        num_ops: number of candidate ops.
        where: a description used in error messages.

    Returns:
        A sorted tuple of unique indices.

    Raises:
        ValueError: if the list is empty, has duplicates or out-of-range indices.

    Example:

    >>> validate_active([4, 1], num_ops=8)
    (1, 4)
    """
    if active is None:
        return tuple(range(num_ops))
    active = [int(i) for i in active]
    if not active:
        raise ValueError(f"{where}: at least one op must be active. Received: active=[]")
    if len(set(active)) != len(active):
        raise ValueError(f"{where}: duplicate op indices in active={active}.")
    bad = [i for i in active if not 0 <= i < num_ops]
    if bad:
        raise ValueError(f"{where}: op indices {bad} out of range [0, {num_ops}).")
    return tuple(sorted(active))


@keras.saving.register_keras_serializable(package="keras_darts")
class MixedOp(layers.Layer):
    """The weighted sum of an edge's candidate ops, given mixing weights.

    Only the ops listed in `active` are created and computed; the `none` op
    contributes nothing to a weighted sum and is never computed. Ops that the
    registry marks with `search_bn` (the pools) are followed by a BN without
    affine parameters, as in the reference supernet.

    Args:
        primitives: names of all candidate ops (the columns of the alphas).
        channels: input and output channels.
        stride: 1 or 2.
        active: indices into `primitives` of the ops this edge computes
            (None: all). Pruned and masked ops are left out here, so they cost
            neither memory nor time.
        affine: whether the ops' BNs have a scale and an offset.
        pool_bn: append a BN without affine parameters after ops the registry
            marks `search_bn` (the DARTS supernet does; NAS-Bench-201 does not).
        partial_channels: PC-DARTS's `K` (1: all channels go through the ops).

    Call arguments:
        x: the input tensor `(batch, height, width, channels)`.
        weights: a 1-D tensor of `len(primitives)` mixing weights.
        training: training mode for the BNs.

    Returns:
        `sum_i weights[i] * op_i(x)` over the active ops.

    Raises:
        ValueError: for an unknown op, invalid `active` indices, or a
            `partial_channels` that does not divide `channels`.

    Example:

    >>> op = MixedOp(["none", "skip_connect", "sep_conv_3x3"], channels=4)
    >>> op(keras.ops.ones((1, 8, 8, 4)), keras.ops.array([0.2, 0.5, 0.3])).shape
    (1, 8, 8, 4)
    """

    def __init__(self, primitives, channels, stride=1, active=None, affine=False, pool_bn=True,
                 partial_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.primitives = tuple(primitives)
        for name in self.primitives:
            op_spec(name)  # raises for unknown ops
        self.channels = channels
        self.stride = stride
        self.active = validate_active(active, len(self.primitives), where=self.name)
        self.affine = affine
        self.pool_bn = bool(pool_bn)
        self.partial_channels = check_partial_channels(partial_channels, channels)
        op_channels = channels // self.partial_channels
        self._computed = []  # (index, op, bn or None)
        for i in self.active:
            spec = op_spec(self.primitives[i])
            if spec.is_zero:
                continue
            op = build_op(spec.name, op_channels, stride, affine)
            bn = (batch_norm(False, name=f"{spec.name}_bn") if spec.search_bn and pool_bn
                  else None)
            self._computed.append((i, op, bn))
        # Tracked lists so that Keras sees the sublayers.
        self.candidate_ops = [op for _, op, _ in self._computed]
        self.candidate_bns = [bn for _, _, bn in self._computed if bn is not None]
        if self.partial_channels > 1 and stride == 2:
            self.bypass_pool = layers.MaxPooling2D(2, 2, padding="same", name="bypass_pool")

    @property
    def computed_layers(self):
        """`(index, op layer, its BatchNorm or None)` of each op this edge computes, in order."""
        return tuple(self._computed)

    @property
    def computed_ops(self):
        """Indices into `primitives` of the ops this edge computes (no `none`, nothing masked)."""
        return tuple(i for i, _, _ in self._computed)

    def build(self, input_shape):
        op_shape = tuple(input_shape[:-1]) + (self.channels // self.partial_channels,)
        for _, op, bn in self._computed:
            op.build(op_shape)
            if bn is not None:
                bn.build(op.compute_output_shape(op_shape))

    def _run(self, position, x, training):
        _, op, bn = self._computed[position]
        y = op(x, training=training)
        return y if bn is None else bn(y, training=training)

    def _zeros(self, x):
        return ops.zeros_like(subsample(x) if self.stride == 2 else x)

    def _split(self, x):
        if self.partial_channels == 1:
            return x, None
        c = self.channels // self.partial_channels
        return x[..., :c], x[..., c:]

    def _merge(self, out, rest):
        if rest is None:
            return out
        if self.stride == 2:
            rest = self.bypass_pool(rest)
        return channel_shuffle(ops.concatenate([out, rest], axis=-1), self.partial_channels)

    #: A `SharedCalls` that the supernet gives all its edges (None: each edge is traced
    #: inline). Edges with the same signature are then traced once (`call`).
    shared_calls = None

    def signature(self, x, weights, training):
        """What determines this edge's computation on `x`: equal signatures, same trace."""
        return (type(self).__name__, self.primitives, self.channels, self.stride, self.active,
                self.affine, self.pool_bn, self.partial_channels, tuple(x.shape), x.dtype.name,
                tuple(weights.shape), weights.dtype.name, training)

    def call(self, x, weights, training=None):
        if (self.shared_calls is not None and training in (None, True, False)
                and not statistics_all_reduced()):
            # Traced once per signature, run with this edge's variables (`SharedCalls`).
            # Under a multi-replica strategy the edges stay inline: their synchronized
            # BatchNorm all-reduces across replicas.
            return self.shared_calls.call(
                self, self.signature(x, weights, training),
                lambda edge, x, weights: edge.mix(x, weights, training), x, weights)
        return self.mix(x, weights, training)

    def mix(self, x, weights, training=None):
        """The weighted sum of the active ops on `x`, computed inline (what `call` returns)."""
        x, rest = self._split(x)
        return self._merge(self._weighted_sum(x, weights, training), rest)

    def _weighted_sum(self, x, weights, training):
        """The weighted sum of the active ops on the ops' part of the channels."""
        # Mixed precision: the float32 mixing weights scale the ops' outputs in their dtype.
        weights = ops.cast(weights, self.compute_dtype)
        weights = ops.unstack(weights, num=len(self.primitives))  # one op, not one slice per op
        out = None
        for position, (i, _, _) in enumerate(self._computed):
            y = weights[i] * self._run(position, x, training)
            out = y if out is None else out + y
        if out is None:  # only `none` is active
            out = self._zeros(x)
        return out

    def call_choice(self, x, choice, training=None, weights=None):
        """Runs the single op `primitives[choice]` (an int scalar tensor); nothing else is computed.

        An op the edge does not compute (`none`, or masked) gives zeros. Under a
        multi-replica `tf.distribute` strategy the edge's ops run with one-hot
        weights instead (no control flow around synchronized BatchNorm).

        With `weights` (a sampled path, e.g. GDAS's hard Gumbel-softmax), the
        output is `weights[choice] * op(x) + sum of the other weights`: with
        one-hot weights its value is the op's output, and every weight, so
        every alpha, still gets a gradient (the other ops enter as constants).

        Args:
            x: the input.
            choice: an int32 scalar tensor, an index into `primitives`.
            training: training mode.
            weights: optional `(len(primitives),)` weights of the edge's ops.

        Returns:
            The op's output (with the partial-channel bypass, if any).
        """
        x, rest = self._split(x)
        computed = self.computed_ops
        if statistics_all_reduced():
            # Synchronized BatchNorm all-reduces its statistics, and a cross-replica
            # reduction may not sit in a `switch_case` branch: compute the edge's ops with
            # one-hot weights instead (same output and gradients, k times the op work).
            one_hot = tf.one_hot(tf.cast(choice, tf.int32), len(self.primitives))
            out = self._weighted_sum(x, one_hot, training)
        elif not computed:
            out = self._zeros(x)
        elif len(computed) == 1:
            out = self._run(0, x, training)
            out = ops.where(ops.equal(choice, computed[0]), out, ops.zeros_like(out))
        else:
            lookup = [len(computed)] * len(self.primitives)
            for position, i in enumerate(computed):
                lookup[i] = position
            branch = tf.gather(tf.constant(lookup, tf.int32), tf.cast(choice, tf.int32))
            branches = [lambda p=p: self._run(p, x, training) for p in range(len(computed))]
            out = tf.switch_case(branch, branches, default=lambda: self._zeros(x))
        if weights is not None:
            out = self._weigh(out, choice, weights)
        return self._merge(out, rest)

    def _weigh(self, out, choice, weights):
        """`weights[choice] * out` plus the other weights (a sampled path's output)."""
        weights = ops.cast(weights, out.dtype)
        chosen = tf.gather(weights, tf.cast(choice, tf.int32))
        return chosen * out + (ops.sum(weights) - chosen)

    def get_config(self):
        return {
            **super().get_config(),
            "primitives": list(self.primitives),
            "channels": self.channels,
            "stride": self.stride,
            "active": list(self.active),
            "affine": self.affine,
            "pool_bn": self.pool_bn,
            "partial_channels": self.partial_channels,
        }


def edge_output(edge, x, weights, index, training=None):
    """Edge `index` of a cell on `x`, under the cell's weights, whichever kind they are.

    A cell's weights are one of:

    * mixing weights `(num_edges, num_ops)` (float): every op, weighted (`MixedOp.call`);
    * op indices `(num_edges,)` (int): a single path, each edge computing only its op
      (`MixedOp.call_choice`);
    * a sampled path `(indices, weights)`: each edge computes only its op, scaled by
      its weight, the other weights entering as constants (GDAS: hard Gumbel-softmax
      weights, so that the alphas get gradients).

    Args:
        edge: the `MixedOp`.
        x: its input.
        weights: the cell's weights.
        index: the edge's row.
        training: training mode.

    Returns:
        The edge's output.

    Example:

    >>> y = edge_output(cell.edge(0), s0, (indices, hard_weights), 0, training=True)  # doctest: +SKIP
    """
    if isinstance(weights, (tuple, list)):
        choice, w = weights
        return edge.call_choice(x, choice[index], training=training, weights=w[index])
    if "int" in str(weights.dtype):
        return edge.call_choice(x, weights[index], training=training)
    return edge(x, weights[index], training=training)
