import keras
import numpy as np
import pytest

from keras_darts.architecture.genotype import GenotypeError
from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.derivation import derive
from keras_darts.derivation.nb201 import derive_nb201
from keras_darts.search_space import ops as O
from keras_darts.search_space.nb201 import NB201Cell, NB201Supernet, nb201_edges

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.mark.parametrize("arch", [
    ARCH, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"])
def test_arch_strings_round_trip_including_none_edges(arch):
    g = NB201Genotype.from_arch_string(arch)
    assert g.to_arch_string() == arch
    assert NB201Genotype.from_json(g.to_json()) == g


@pytest.mark.parametrize("arch,match", [
    ("|nor_conv_3x3~0|+|conv_9x9~0|none~1|+|none~0|none~1|none~2|", "Unknown op 'conv_9x9'"),
    ("|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|", "Node 2 must take exactly one edge"),
    ("|nor_conv_3x3~0|+|none~0|none~1|", "3 nodes"),
    ("nor_conv_3x3~0", "Malformed node"),
    ("|nor_conv_3x3-0|+|none~0|none~1|+|none~0|none~1|none~2|", "Malformed edge"),
    ("", "non-empty"),
])
def test_malformed_arch_strings(arch, match):
    with pytest.raises(GenotypeError, match=match):
        NB201Genotype.from_arch_string(arch)


def test_derivation_argmax_with_deterministic_ties():
    w = np.zeros((6, 5))
    w[0, 3] = w[1, 3] = w[2, 4] = w[3, 1] = w[4, 3] = w[5, 1] = 1.0
    assert derive_nb201(w, O.NB201_PRIMITIVES).to_arch_string() == ARCH
    tied = np.ones((6, 5))  # saturated: every op equal -> lowest index (`none`)
    assert derive_nb201(tied, O.NB201_PRIMITIVES).count(("none",)) == 6


def test_supernet_shapes_and_discrete_weights_round_trip():
    net = NB201Supernet(10, channels=4, cells_per_stage=1)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    net.build(x.shape)
    weights = [keras.ops.ones((6, 5)) / 5] * len(net.cells)
    assert tuple(net(x, weights, training=True).shape) == (2, 10)
    g = NB201Genotype.from_arch_string(ARCH)
    one_hot = net.discrete_weights(g)
    assert derive("nb201", net, one_hot, {"normal": None}) == g
    assert len(nb201_edges()) == net.num_edges == 6 and net.cell_types == ["normal"] * 3


def test_nb201_cell_has_no_bn_after_pooling_and_registry_ops():
    cell = NB201Cell(O.NB201_PRIMITIVES, channels=4)
    assert all(not e.candidate_bns for e in cell.edges)
    y = O.Noise(stride=2, seed=1)(np.ones((2, 4, 4, 3), "float32"))
    assert tuple(y.shape) == (2, 2, 2, 3) and float(keras.ops.std(y)) > 0.5
    assert O.op_spec("noise").parameter_free and not O.op_spec("nor_conv_3x3").parameter_free
