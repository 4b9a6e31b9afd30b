"""`MixedOp`: the weighted sum of an edge's candidate ops."""

import keras
from keras import layers, ops

from keras_darts.search_space.ops import batch_norm, build_op, op_spec, subsample


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

    Call arguments:
        x: the input tensor `(batch, height, width, channels)`.
        weights: a 1-D tensor of `len(primitives)` mixing weights.
        training: training mode for the BNs.

    Returns:
        `sum_i weights[i] * op_i(x)` over the active ops.

    Raises:
        ValueError: for an unknown op or invalid `active` indices.

    Example:

    >>> op = MixedOp(["none", "skip_connect", "sep_conv_3x3"], channels=4)
    >>> op(keras.ops.ones((1, 8, 8, 4)), keras.ops.array([0.2, 0.5, 0.3])).shape
    (1, 8, 8, 4)
    """

    def __init__(self, primitives, channels, stride=1, active=None, affine=False, pool_bn=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.primitives = tuple(primitives)
        for name in self.primitives:
            op_spec(name)  # raises for unknown ops
        self.channels = channels
        self.stride = stride
        self.active = validate_active(active, len(self.primitives), where=self.name)
        self.affine = affine
        self.pool_bn = bool(pool_bn)
        self._computed = []  # (index, op, bn or None)
        for i in self.active:
            spec = op_spec(self.primitives[i])
            if spec.is_zero:
                continue
            op = build_op(spec.name, channels, stride, affine)
            bn = (batch_norm(False, name=f"{spec.name}_bn") if spec.search_bn and pool_bn
                  else None)
            self._computed.append((i, op, bn))
        # Tracked lists so that Keras sees the sublayers.
        self.candidate_ops = [op for _, op, _ in self._computed]
        self.candidate_bns = [bn for _, _, bn in self._computed if bn is not None]

    def build(self, input_shape):
        for _, op, bn in self._computed:
            op.build(input_shape)
            if bn is not None:
                bn.build(op.compute_output_shape(input_shape))

    def call(self, x, weights, training=None):
        weights = ops.unstack(weights, num=len(self.primitives))  # one op, not one slice per op
        out = None
        for i, op, bn in self._computed:
            y = op(x, training=training)
            if bn is not None:
                y = bn(y, training=training)
            y = weights[i] * y
            out = y if out is None else out + y
        if out is None:  # only `none` is active
            out = ops.zeros_like(subsample(x) if self.stride == 2 else x)
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "primitives": list(self.primitives),
            "channels": self.channels,
            "stride": self.stride,
            "active": list(self.active),
            "affine": self.affine,
            "pool_bn": self.pool_bn,
        }
