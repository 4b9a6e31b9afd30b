"""Search-space layers: ops and their registry, MixedOp, search cells, the supernet, and the
shared edge traces (`SharedCalls`), and `SupernetSpec`, the one factory of a search model's
supernet and alphas."""

from keras_darts.search_space.cells import SearchCell, edge_endpoints, num_edges
from keras_darts.search_space.mixed_op import MixedOp
from keras_darts.search_space.nb201 import NB201Cell, NB201Supernet, nb201_edges
from keras_darts.search_space.ops import (
    DARTS_PRIMITIVES, NB201_PRIMITIVES, BatchNorm, DilConv, FactorizedReduce, Identity, Noise,
    OpSpec, Pool, ReLUConvBN, SepConv, Zero, build_op, op_spec, register_op, registered_ops,
)
from keras_darts.search_space.shared_calls import SharedCalls, share_edge_traces
from keras_darts.search_space.spaces import (
    SearchSpace, get_search_space, load_op_subsets, search_space_names,
)
from keras_darts.search_space.spec import SupernetSpec
from keras_darts.search_space.supernet import DartsSupernet, reduction_indices

__all__ = [
    "BatchNorm", "NB201Cell", "NB201Supernet", "NB201_PRIMITIVES", "Noise", "nb201_edges",
    "DARTS_PRIMITIVES", "DartsSupernet", "DilConv", "FactorizedReduce", "Identity", "MixedOp",
    "OpSpec", "Pool", "ReLUConvBN", "SearchCell", "SepConv", "Zero", "build_op", "edge_endpoints",
    "num_edges", "op_spec", "reduction_indices", "register_op", "registered_ops",
    "SearchSpace", "get_search_space", "load_op_subsets", "search_space_names",
    "SharedCalls", "share_edge_traces", "SupernetSpec",
]
