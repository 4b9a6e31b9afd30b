"""Named search spaces: NAS-Bench-201, the reduced DARTS spaces S1-S4, per-edge op subsets."""

import json

import keras
import numpy as np
import pytest

from keras_darts.search_space import DARTS_PRIMITIVES, get_search_space, search_space_names
from keras_darts.search_space.nb201 import NB201Supernet
from keras_darts.search_space.supernet import DartsSupernet
from keras_darts.strategies import BilevelSearch

from conftest import TINY


def _subsets(ops_normal, ops_reduce, edges=5):
    return {"normal": [list(ops_normal)] * edges, "reduce": [list(ops_reduce)] * edges}


def test_named_spaces_and_their_ops():
    assert search_space_names() == ["darts", "darts7", "nb201", "s1", "s2", "s3", "s4"]
    assert get_search_space("darts7").primitives == tuple(p for p in DARTS_PRIMITIVES
                                                           if p != "none")
    assert set(get_search_space("s2").primitives) == {"sep_conv_3x3", "skip_connect"}
    assert set(get_search_space("s3").primitives) == {"sep_conv_3x3", "skip_connect", "none"}
    assert set(get_search_space("s4").primitives) == {"sep_conv_3x3", "noise"}
    assert get_search_space("nb201").primitives == ("none", "skip_connect", "nor_conv_1x1",
                                                    "nor_conv_3x3", "avg_pool_3x3")


def test_nb201_space_builds_the_benchmark_supernet_with_one_alpha():
    model = BilevelSearch(num_classes=10, input_shape=(16, 16, 1), space="nb201",
                          cells_per_stage=1, channels=4, seed=0)
    assert isinstance(model.network, NB201Supernet)
    assert [v.name for v in model.arch_variables] == ["alpha_normal"]
    assert tuple(model.arch_variables[0].shape) == (6, 5)
    assert len(model.network.cells) == 3
    logits = model(np.zeros((2, 16, 16, 1), "float32"), training=False)
    assert tuple(logits.shape) == (2, 10)
    assert model.genotype().to_arch_string().count("~") == 6


@pytest.mark.parametrize("space", ["s2", "s3", "s4", "darts7"])
def test_reduced_darts_spaces_run_forward_and_derive_from_their_ops(space):
    model = BilevelSearch(num_classes=10, input_shape=(16, 16, 1), space=space, seed=0, **TINY)
    assert isinstance(model.network, DartsSupernet)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 1)).astype("float32")
    assert tuple(model(x, training=True).shape) == (2, 10)
    g = model.genotype()
    prims = set(get_search_space(space).primitives)
    assert {op for op, _ in g.normal + g.reduce} <= prims - {"none"}


def test_s4_noise_carries_no_information_about_the_input():
    from keras_darts.search_space.ops import build_op

    noise = build_op("noise", 4, 2)
    a = keras.ops.convert_to_numpy(noise(np.ones((2, 8, 8, 4), "float32")))
    b = keras.ops.convert_to_numpy(noise(np.full((2, 8, 8, 4), 100.0, "float32")))
    assert a.shape == (2, 4, 4, 4)
    assert abs(a.mean()) < 0.3 and abs(b.mean()) < 0.3 and 0.7 < a.std() < 1.3


def test_s1_op_subsets_from_json_mask_the_alphas_and_the_derivation(tmp_path):
    subsets = _subsets(["skip_connect", "dil_conv_3x3"], ["max_pool_3x3", "sep_conv_5x5"])
    path = tmp_path / "s1.json"
    path.write_text(json.dumps(subsets))
    model = BilevelSearch(num_classes=10, input_shape=(16, 16, 1), space="s1",
                          op_subsets=str(path), seed=0, **TINY)
    w = model.mixing_weights()
    normal_cols = [DARTS_PRIMITIVES.index(o) for o in ("skip_connect", "dil_conv_3x3")]
    off = np.delete(w["normal"], normal_cols, axis=1)
    assert np.all(off == 0) and np.allclose(w["normal"].sum(axis=1), 1.0)
    g = model.genotype()
    assert {op for op, _ in g.normal} <= {"skip_connect", "dil_conv_3x3"}
    assert {op for op, _ in g.reduce} <= {"max_pool_3x3", "sep_conv_5x5"}
    # Masked-out ops are not even built.
    edge = model.network.cells[0].edges[0]
    assert len(edge.computed_layers) == 2


@pytest.mark.parametrize("space,subsets,match", [
    ("s1", None, "needs op_subsets"),
    ("s1", _subsets(["skip_connect", "conv_9x9"], ["skip_connect"]), "unknown ops \\['conv_9x9'\\]"),
    ("s2", _subsets(["skip_connect", "max_pool_3x3"], ["skip_connect"]),
     "not in search space 's2'"),
    ("s1", {"normal": [["skip_connect"]] * 5}, "needs op_subsets for"),
    ("s1", _subsets(["skip_connect", "skip_connect"], ["skip_connect"]), "repeats an op"),
    ("s1", _subsets([], ["skip_connect"]), "lists no ops"),
    ("nb201", {"reduce": [["none"]] * 6}, "has no 'reduce' cells"),
    ("s1", {"middle": [["none"]]}, "unknown cell kind 'middle'"),
    ("s1", {"normal": "skip_connect"}, "one list of op names per edge"),
    ("mars", None, "Unknown search space 'mars'"),
])
def test_bad_spaces_and_subsets_raise_naming_the_problem(space, subsets, match):
    with pytest.raises(ValueError, match=match):
        get_search_space(space, subsets)


def test_subset_edge_count_must_match_the_cell(tmp_path):
    with pytest.raises(ValueError, match="lists 3 edges, but the cell has 5 edges"):
        BilevelSearch(num_classes=10, input_shape=(16, 16, 1), space="s1",
                      op_subsets=_subsets(["skip_connect"], ["skip_connect"], edges=3), **TINY)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        get_search_space("s1", str(bad))
    with pytest.raises(ValueError, match="does not exist"):
        get_search_space("s1", str(tmp_path / "missing.json"))
