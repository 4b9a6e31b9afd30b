"""Search-space layers: ops and their registry, MixedOp, search cells, the supernet."""

from keras_darts.search_space.cells import SearchCell, edge_endpoints, num_edges
from keras_darts.search_space.mixed_op import MixedOp
from keras_darts.search_space.ops import (
    DARTS_PRIMITIVES, DilConv, FactorizedReduce, Identity, OpSpec, Pool, ReLUConvBN, SepConv,
    Zero, build_op, op_spec, register_op, registered_ops,
)
from keras_darts.search_space.supernet import DartsSupernet, reduction_indices

__all__ = [
    "DARTS_PRIMITIVES", "DartsSupernet", "DilConv", "FactorizedReduce", "Identity", "MixedOp",
    "OpSpec", "Pool", "ReLUConvBN", "SearchCell", "SepConv", "Zero", "build_op", "edge_endpoints",
    "num_edges", "op_spec", "reduction_indices", "register_op", "registered_ops",
]
