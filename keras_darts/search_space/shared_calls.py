"""One traced function per layer signature, called with each layer's own variables.

A supernet repeats the same computation on many edges: every stride-1 edge of a cell (and of
every cell of the same size) runs the same candidate ops on tensors of the same shape, each
with its own weights. Traced inline, a search step holds one copy of those ops per edge, and
tracing them (and their gradients) is most of the time before the first step. `SharedCalls`
traces the computation once per signature, as a function of the variables' values, and
calls that function on every edge with the edge's own variables: the same kernels in the
same order (so the same numbers, bit for bit), traced once. The function is inlined when
the step graph is optimised, so the step itself runs as before.
"""

import keras
import tensorflow as tf


class _Traced:
    """The traced function of one signature and what its tracing learnt."""

    def __init__(self, template, compute):
        self.template = template
        self.compute = compute
        #: indices into `template.non_trainable_variables` of the variables the computation
        #: assigns (BatchNorm statistics in training mode); known once traced.
        self.updated = None
        self.function = tf.function(self._body, autograph=False)

    def _body(self, trainable, state, *tensors):
        template = self.template
        mapping = list(zip(template.trainable_variables, trainable)) + list(
            zip(template.non_trainable_variables, state))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            initial = dict(scope.state_mapping)
            outputs = self.compute(template, *tensors)
        # An assignment to a variable that is not the layer's would be lost in the scope.
        if set(scope.state_mapping) - set(initial):
            raise ValueError(f"Layer {template.name!r} assigns a variable that is not its own "
                             "inside a shared trace; trace it inline (shared_calls=None).")
        updated, values = [], []
        for i, variable in enumerate(template.non_trainable_variables):
            value = scope.state_mapping[id(variable)]
            if value is not initial[id(variable)]:
                updated.append(i)
                values.append(value)
        self.updated = updated
        return outputs, values


class SharedCalls:
    """Traces a layer computation once per signature; runs it with any such layer's variables.

    `call(layer, signature, compute, *tensors)` computes `compute(layer, *tensors)`, where
    `compute` reads the layer's variables (and may assign its non-trainable ones, such as
    BatchNorm statistics). The first layer seen with a `signature` is traced (under a
    `keras.StatelessScope`, with its variables replaced by function inputs); every later
    layer with the same signature reuses that trace with its own variables. Assigned
    variables come back as outputs and are assigned to the calling layer's variables.
    Gradients flow to each layer's own variables as they would inline.

    The signature must determine the computation: the layer's construction settings (not
    its name), the tensors' shapes and dtypes, and any Python argument (`training`).
    Outside a traced function (eager execution, Keras' symbolic build) `call` runs
    `compute` directly.

    Example:

    >>> shared = SharedCalls()
    >>> dense = keras.layers.Dense(2)
    >>> y = shared.call(dense, ("dense", 2), lambda layer, x: layer(x), keras.ops.ones((1, 3)))
    >>> tuple(y.shape)
    (1, 2)
    """

    def __init__(self, recompute=False):
        self._traced = {}
        #: recompute each call's internal activations in the backward pass instead of
        #: keeping them (`tf.recompute_grad`): only a call's inputs and outputs stay.
        self.recompute = bool(recompute)

    def __len__(self):
        """How many signatures have a traced function."""
        return len(self._traced)

    def call(self, layer, signature, compute, *tensors):
        """`compute(layer, *tensors)`, traced once per `signature`.

        Args:
            layer: a built Keras layer.
            signature: a hashable key that determines the computation (see the class).
            compute: `compute(layer, *tensors)`: the computation, reading the layer's
                variables through the layer (`layer.kernel`, sublayer calls).
            *tensors: tensor arguments.

        Returns:
            What `compute` returns.
        """
        if not tf.inside_function() or not all(isinstance(t, tf.Tensor) for t in tensors):
            return compute(layer, *tensors)
        traced = self._traced.get(signature)
        if traced is None:
            traced = self._traced[signature] = _Traced(layer, compute)
        template = traced.template
        if [v.shape for v in layer.variables] != [v.shape for v in template.variables]:
            raise ValueError(f"Layer {layer.name!r} has the signature {signature!r} of layer "
                             f"{template.name!r} but not its variables.")
        trainable = [tf.convert_to_tensor(v) for v in layer.trainable_variables]
        state = [tf.convert_to_tensor(v) for v in layer.non_trainable_variables]
        if self.recompute:
            outputs, values = _recomputed(traced.function, trainable, state, tensors)
        else:
            outputs, values = traced.function(trainable, state, *tensors)
        variables = layer.non_trainable_variables
        for i, value in zip(traced.updated, values):
            variables[i].assign(value)  # Keras's assign: recorded by an enclosing scope
        return outputs


def _recomputed(function, trainable, state, tensors):
    """`function(trainable, state, *tensors)` whose activations are recomputed for gradients.

    The function's inputs are all tensors (the variables enter as values), so
    `tf.recompute_grad` needs no variables of its own. The assigned values (BatchNorm
    statistics) are taken from the forward pass; the recomputation's copies of them are
    discarded, so statistics are updated once.
    """
    n_t, n_s = len(trainable), len(state)
    structure = []

    @tf.recompute_grad
    def run(*flat):
        outputs, values = function(list(flat[:n_t]), list(flat[n_t:n_t + n_s]),
                                   *flat[n_t + n_s:])
        structure[:] = [outputs, len(values)]
        return [*tf.nest.flatten(outputs), *values]

    flat = run(*trainable, *state, *tensors)
    outputs, n_values = structure
    n_out = len(flat) - n_values
    return tf.nest.pack_sequence_as(outputs, flat[:n_out]), list(flat[n_out:])


def share_edge_traces(network, enabled=True, recompute=False):
    """Gives every edge (`MixedOp`) of `network`'s cells the network's `SharedCalls`, or none.

    With it, edges of equal signature (candidate ops, channels, stride, input shape) in
    any of the cells are traced once per step graph; without it (`enabled=False`) every
    edge is traced inline. Supernets share by default; a strategy whose steps run slower
    with shared edges turns it off (`SearchModel.shares_edge_traces`).

    Args:
        network: a supernet with a `cells` list, each cell with an `edges` list.
        enabled: share (True) or trace every edge inline (False).
        recompute: recompute each edge's internal activations in the backward pass
            (`SharedCalls.recompute`): memory for the edges' inputs and outputs only,
            at the cost of a second forward pass of every edge. Needs `enabled`.

    Returns:
        The network's `SharedCalls`, or None when not enabled.
    """
    if recompute and not enabled:
        raise ValueError("recompute needs the edges' shared traces (enabled=True).")
    if enabled and getattr(network, "shared_calls", None) is None:
        network.shared_calls = SharedCalls()
    shared = network.shared_calls if enabled else None
    if shared is not None:
        shared.recompute = bool(recompute)
    for cell in network.cells:
        for edge in cell.edges:
            edge.shared_calls = shared
    return shared
