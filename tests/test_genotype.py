import os

import numpy as np
import pytest

from keras_darts.architecture.genotype import (
    Genotype, GenotypeError, GraphvizNotFoundError, cell_to_dot, get_genotype, plot_cell,
    published_genotypes,
)
from keras_darts.derivation import derive_genotype, parse_cell
from keras_darts.search_space import DARTS_PRIMITIVES

P = list(DARTS_PRIMITIVES)


def _weights(entries, steps=4):
    """Near-zero weights with hand-set (edge, op) -> value entries."""
    n_edges = sum(2 + i for i in range(steps))
    w = np.full((n_edges, len(P)), 0.01)
    for (edge, op), value in entries.items():
        w[edge, P.index(op)] = value
    return w


def test_derivation_on_hand_set_weights_gives_the_exact_genotype():
    # Edges: node0 <- {0,1} rows 0-1; node1 <- {0,1,2} rows 2-4; node2 rows 5-8; node3 rows 9-13.
    normal = _weights({
        (0, "sep_conv_3x3"): 0.9, (1, "skip_connect"): 0.5,
        (2, "none"): 0.99, (2, "max_pool_3x3"): 0.2, (3, "dil_conv_5x5"): 0.7,
        (4, "sep_conv_5x5"): 0.6,
        (5, "avg_pool_3x3"): 0.3, (7, "sep_conv_3x3"): 0.8, (8, "dil_conv_3x3"): 0.4,
        (9, "skip_connect"): 0.35, (13, "sep_conv_5x5"): 0.45, (10, "none"): 0.9,
    })
    reduce = _weights({(0, "max_pool_3x3"): 0.5, (1, "max_pool_3x3"): 0.4})
    g = derive_genotype(normal, reduce, P, steps=4, multiplier=4)
    assert g.normal == (
        ("sep_conv_3x3", 0), ("skip_connect", 1),
        ("dil_conv_5x5", 1), ("sep_conv_5x5", 2),   # `none` (0.99) on edge 2 is ignored
        ("sep_conv_3x3", 2), ("dil_conv_3x3", 3),
        ("sep_conv_5x5", 4), ("skip_connect", 0),
    )
    assert g.normal_concat == (2, 3, 4, 5)
    assert g.reduce[:2] == (("max_pool_3x3", 0), ("max_pool_3x3", 1))


def test_ties_are_broken_deterministically():
    w = np.full((5, len(P)), 0.25)  # steps=2: every edge and every op tied
    cell = parse_cell(w, P, steps=2)
    # Lowest non-none op index wins; among edges, lower input index first.
    assert cell == [("max_pool_3x3", 0), ("max_pool_3x3", 1),
                    ("max_pool_3x3", 0), ("max_pool_3x3", 1)]
    assert parse_cell(w, P, steps=2) == cell


def test_masked_ops_are_never_chosen():
    w = _weights({(0, "sep_conv_3x3"): 0.9, (0, "skip_connect"): 0.5}, steps=1)[:2]
    mask = np.ones_like(w, dtype=bool)
    mask[0, P.index("sep_conv_3x3")] = False
    assert parse_cell(w, P, steps=1, mask=mask)[0] == ("skip_connect", 0)


@pytest.mark.parametrize("name", published_genotypes())
def test_published_genotypes_round_trip_text_and_json(name):
    g = get_genotype(name)
    assert Genotype.from_text(g.to_text()) == g
    assert Genotype.from_json(g.to_json()) == g
    assert g.validate(DARTS_PRIMITIVES) is g
    assert g.normal_concat == (2, 3, 4, 5)


def test_reference_text_with_range_and_name_prefix():
    text = ("PC_DARTS = Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0)], "
            "normal_concat=range(2, 3), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], "
            "reduce_concat=range(2, 3))")
    g = Genotype.from_text(text)
    assert g.normal_concat == (2,) and g.reduce[1] == ("max_pool_3x3", 1)


def test_save_load_atomic_json(tmp_path):
    g = get_genotype("DARTS_V2")
    path = tmp_path / "genotype.json"
    g.save(str(path), epoch=3)
    assert Genotype.load(str(path)) == g
    assert get_genotype(str(path)) == g
    assert [p.name for p in tmp_path.iterdir()] == ["genotype.json"]


def test_the_text_a_search_prints_is_accepted_back():
    """What `keras-darts search` prints and `summary.json` holds (`to_text()`), pasted back."""
    from keras_darts.architecture import CellGenotype, NetworkGenotype
    from keras_darts.architecture.nb201_genotype import NB201Genotype

    darts = get_genotype("DARTS_V2")
    cell = CellGenotype([("skip_connect", 0, 0)], [2], 1, False)
    network = NetworkGenotype((cell, CellGenotype([("max_pool_3x3", 0, 1)], [2], 1, True), cell))
    nb201 = NB201Genotype.from_arch_string(
        "|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|none~2|")
    for g in (darts, network, nb201):
        assert get_genotype(g.to_text()) == g
        assert get_genotype("  " + g.to_text()) == g
    assert get_genotype("DARTS_V2 = " + darts.to_text()) == darts  # as the repositories write it
    with pytest.raises(GenotypeError, match="Unknown op 'conv_9x9'"):
        get_genotype(darts.to_text().replace("sep_conv_3x3", "conv_9x9"))


@pytest.mark.parametrize("text,match", [
    ("Genotype(normal=[('conv_9x9', 0), ('skip_connect', 1)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])", "Unknown op 'conv_9x9'"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])", "Bad input index 2"),
    ("Genotype(normal=[('sep_conv_3x3', 0)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])", "2 edges per node"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[7], "
     "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])", "out of range"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)]", "could not be parsed"),
    ("Genotype(normal=__import__('os').system('true'), normal_concat=[2], reduce=[], "
     "reduce_concat=[2])", "Unexpected expression"),
    ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2])",
     "missing fields"),
    ("Network(normal=[])", "Expected 'Genotype"),
    ("Genotype(normal=[('sep_conv_3x3', '0'), ('skip_connect', 1)], normal_concat=[2], "
     "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])", "edge 0 must be"),
])
def test_malformed_text_raises_naming_the_problem(text, match):
    with pytest.raises(GenotypeError, match=match):
        Genotype.from_text(text)


@pytest.mark.parametrize("text,match", [
    ("{not json", "could not be parsed"),
    ('{"normal": [["sep_conv_3x3", 0], ["skip_connect", 1]]}', "missing keys"),
    ("[1, 2]", "must be a JSON object"),
])
def test_malformed_json_raises(text, match):
    with pytest.raises(GenotypeError, match=match):
        Genotype.from_json(text)


def test_validate_against_another_space():
    with pytest.raises(GenotypeError, match="not in this search space"):
        get_genotype("DARTS_V2").validate(["none", "skip_connect"])


def test_unknown_preset_name():
    with pytest.raises(ValueError, match="Unknown genotype 'DARTS_V9'"):
        get_genotype("DARTS_V9")


def test_render_and_dot():
    g = get_genotype("DARTS_V2")
    assert "node 3 <- dil_conv_3x3" in g.render()
    dot = cell_to_dot(g, "reduce")
    assert dot.count("->") == 8 + 4 and "max_pool_3x3" in dot


def test_graphviz_backend_without_graphviz_fails_clearly_and_writes_nothing(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        plot_cell(get_genotype("DARTS_V2"), str(tmp_path / "normal.png"), backend="graphviz")
    assert list(tmp_path.iterdir()) == []


def test_without_graphviz_matplotlib_draws_the_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    path = plot_cell(get_genotype("DARTS_V2"), str(tmp_path / "reduce.png"), kind="reduce")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["reduce.png"]


def test_bad_plot_backend():
    with pytest.raises(ValueError, match="backend must be"):
        plot_cell(get_genotype("DARTS_V2"), "x.png", backend="tikz")


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="graphviz not installed")
def test_plot_cell_writes_png(tmp_path):
    path = plot_cell(get_genotype("DARTS_V2"), str(tmp_path / "normal.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(tmp_path) == ["normal.png"]
