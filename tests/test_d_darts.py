"""D-DARTS: per-cell alphas and optimisers, zero-one and ablation losses, parsing, deepening."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_darts.architecture import CellGenotype, GenotypeError, NetworkGenotype, get_genotype
from keras_darts.data import search_data
from keras_darts.derivation import deepen, parse_fair_cell
from keras_darts.derivation.fair import fallback_nodes
from keras_darts.networks import build_network
from keras_darts.search import SearchConfig, run_search
from keras_darts.search_space.cells import edge_endpoints
from keras_darts.strategies import DistributedCellSearch, ablation_losses, zero_one_loss
from keras_darts.strategies.d_darts import ablation_logits, removed_cell_logits

# 3 cells (normal, reduce, reduce), 1 node each, 2 channels: the smallest D-DARTS supernet.
SMALL = dict(num_classes=10, input_shape=(28, 28, 1), layers=3, channels=2, steps=1,
             multiplier=1, stem_multiplier=1, seed=0)


def _np(v):
    return keras.ops.convert_to_numpy(v)


@pytest.fixture(scope="module")
def batch():
    data = search_data("embedded", batch_size=8, max_train=64, seed=0)
    (x_t, y_t), (x_v, y_v) = next(iter(data.train))
    return x_v, y_v


def test_zero_one_and_ablation_loss_values():
    w = keras.ops.convert_to_tensor([[1.0, 0.0], [0.5, 0.75]])
    assert np.isclose(float(zero_one_loss(w)), -(0.25 + 0.25 + 0.0 + 0.0625) / 4)
    mask = np.array([[True, False], [True, True]])
    assert np.isclose(float(zero_one_loss(w, mask)), -(0.25 + 0.0 + 0.0625) / 3)
    l_ab, mc = ablation_losses(2.0, [1.0, 1.5, 3.5])  # MC = [1, 0.5, -1.5], mean 0
    np.testing.assert_allclose(_np(mc), [1.0, 0.5, -1.5])
    np.testing.assert_allclose(_np(l_ab), [0.0, 0.0, 0.0])  # mean(MC) = 0 -> 0
    l_ab, _ = ablation_losses(2.0, [1.0, 1.5, 1.5])  # MC = [1, .5, .5], mean 2/3
    np.testing.assert_allclose(_np(l_ab), [0.5, -0.25, -0.25], rtol=1e-6)


@pytest.mark.parametrize("ablation_gradient", [True, False])
def test_each_cells_gradient_is_that_of_its_own_total_loss(batch, ablation_gradient):
    """The 3-backward-pass gradients equal each cell's own L_T^i differentiated alone."""
    x, y = batch
    model = DistributedCellSearch(alpha_init_scale=0.5, ablation_gradient=ablation_gradient,
                                  **SMALL)
    model.compile()
    grads, logs, _, _, _ = model.cell_arch_gradients(x, y)
    n = len(model.arch_variables)
    # One forward pass of the whole net and one per removed cell; each cell's own total loss
    # is then differentiated alone, with respect to that cell's alphas only.
    with tf.GradientTape(persistent=True) as tape:
        w = model.architecture.mixing_weights()
        ce = keras.ops.mean(model.search_loss(y, model.network(x, w, training=True)))
        removed = [keras.ops.mean(model.search_loss(
            y, removed_cell_logits(model.network, x, w, j, training=True))) for j in range(n)]
        l_ab, _ = ablation_losses(ce, removed)
        if not ablation_gradient:
            l_ab = tf.stop_gradient(l_ab)
        totals = [ce + model.w01 * zero_one_loss(w[i]) + model.w_abl * l_ab[i] for i in range(n)]
    for i in range(n):
        expected = tape.gradient(totals[i], model.arch_variables[i])
        # Graph and eager sum in different orders (oneDNN picks kernels by CPU): a few ulp of
        # a gradient near 0.05; the ablation term alone moves entries by 0.03-0.1.
        np.testing.assert_allclose(_np(grads[i][0]), _np(expected), rtol=1e-4, atol=1e-5)
        assert np.isclose(float(logs["total"][i]), float(totals[i]), rtol=1e-5)
    del tape


@pytest.mark.parametrize("training", [False, True])
def test_ablation_passes_share_the_cells_before_the_removed_one(batch, training):
    """`ablation_logits` gives the full pass and each removed-cell pass, as run one by one."""
    x, _ = batch
    model = DistributedCellSearch(alpha_init_scale=0.5, **dict(SMALL, layers=4))
    model.compile()
    net, w = model.network, model.architecture.mixing_weights()
    full, *removed = ablation_logits(net, x, w, training=training)
    assert len(removed) == 4
    # The same values as separate passes (the running statistics they update do not
    # enter a training-mode pass).
    np.testing.assert_allclose(_np(full), _np(net(x, w, training=training)), rtol=1e-6)
    for j, logits in enumerate(removed):
        np.testing.assert_allclose(
            _np(logits), _np(removed_cell_logits(net, x, w, j, training=training)),
            rtol=1e-6, atol=1e-6)
    assert not np.allclose(_np(removed[0]), _np(removed[1]))
    with pytest.raises(ValueError, match="Expected mixing weights for 4 cells, got 3"):
        ablation_logits(net, x, w[:3])


def test_a_step_moves_each_cells_alphas_by_its_own_loss_and_optimiser(batch):
    x, y = batch
    model = DistributedCellSearch(alpha_init_scale=0.5, level="single", **SMALL)
    model.compile(arch_optimizer=keras.optimizers.SGD(0.1), run_eagerly=True)
    before = [_np(a) for a in model.arch_variables]
    grads, _, _, _, _ = model.cell_arch_gradients(x, y)
    model.train_on_batch(x, y)
    for a0, g, a in zip(before, grads, model.arch_variables):
        np.testing.assert_allclose(_np(a), a0 - 0.1 * _np(g[0]), atol=1e-5)
    opts = model.cell_optimizers
    assert len(opts) == 3 and len({id(o) for o in opts}) == 3
    assert all(int(o.iterations) == 1 for o in opts)


def test_cells_keep_their_own_adam_state_and_schedule(batch):
    data = search_data("embedded", batch_size=8, max_train=64, seed=0)
    model = DistributedCellSearch(alpha_init_scale=0.5, **SMALL)
    model.compile(epochs=2, steps_per_epoch=2, run_eagerly=True)
    model.fit(data.train, epochs=1, steps_per_epoch=2, verbose=0)
    schedules = [o._learning_rate for o in model.cell_optimizers]
    assert len({id(s) for s in schedules}) == 3
    assert np.isclose(float(_np(model.cell_optimizers[0].learning_rate)),
                      float(model.arch_optimizer.get_config()["learning_rate"]) * 0.5)
    moments = [_np(o._momentums[0]) for o in model.cell_optimizers]  # first-moment estimates
    assert not np.allclose(moments[0], moments[1])
    for o, a in zip(model.cell_optimizers, model.arch_variables):
        assert o._momentums[0].shape == a.shape


def test_parsers_at_and_around_the_threshold():
    prims = ["none", "skip_connect", "sep_conv_3x3", "max_pool_3x3"]
    w = np.zeros((5, 4))
    w[0] = [0.99, 0.8, 0.7999, 0.1]   # edge 0->node 0: skip exactly at the threshold
    w[1] = [0.0, 0.1, 0.79, 0.2]      # edge 1->node 0: best op just below
    w[2] = [0.0, 0.85, 0.9, 0.95]     # node 1, input 0: three ops above
    w[3] = [0.0, 0.3, 0.2, 0.1]
    w[4] = [0.0, 0.81, 0.0, 0.0]
    sparse = parse_fair_cell(w, prims, steps=2, parser="sparse", threshold=0.8)
    assert sparse.edges == (("skip_connect", 0, 0), ("max_pool_3x3", 1, 0),
                            ("skip_connect", 1, 2))
    edge = parse_fair_cell(w, prims, steps=2, parser="edge", threshold=0.8)
    assert edge.edges == (("skip_connect", 0, 0), ("max_pool_3x3", 1, 0),
                          ("sep_conv_3x3", 1, 0), ("skip_connect", 1, 2))
    darts = parse_fair_cell(w, prims, steps=2, parser="darts", threshold=0.8)
    assert len(darts.edges) == 4 and ("sep_conv_3x3", 0, 1) in darts.edges
    lower = parse_fair_cell(w, prims, steps=2, parser="sparse", threshold=0.7999)
    assert ("sep_conv_3x3", 0, 1) not in lower.edges and len(lower.edges) == 3
    assert len(parse_fair_cell(w, prims, steps=2, parser="edge", threshold=0.7).edges) == 6


def test_an_unconverged_search_still_derives_cells_that_carry_signal():
    """Sigmoid weights near 1/2 (a short search) fall below 0.8 everywhere: the paper's rule
    would empty every cell (a network at chance); by default each node keeps its strongest op."""
    prims = ["none", "skip_connect", "sep_conv_3x3", "max_pool_3x3"]
    rng = np.random.default_rng(0)
    w = 0.5 + rng.uniform(-0.05, 0.05, size=(9, 4))  # steps=3: 2 + 3 + 4 edges
    w[:, 0] = 0.9  # `none` is never kept, however strong
    for parser in ("sparse", "edge"):
        cell = parse_fair_cell(w, prims, steps=3, parser=parser)
        assert sorted(node for _, node, _ in cell.edges) == [0, 1, 2]  # one op per node
        rows = {pair: r for r, pair in enumerate(edge_endpoints(3))}  # (node, input) -> row
        for op, node, inp in cell.edges:  # the node's strongest usable op
            best = max(w[rows[(node, i)], j] for i in range(node + 2) for j in (1, 2, 3))
            assert op != "none" and w[rows[(node, inp)], prims.index(op)] == best
        assert fallback_nodes(w, prims, steps=3, parser=parser) == [0, 1, 2]
        with pytest.raises(ValueError, match=r"'%s' parser at threshold=0.8 leaves this normal "
                           r"cell with no path from its inputs to its output \(largest usable "
                           r"weight 0.5\d\d\)" % parser):
            parse_fair_cell(w, prims, steps=3, parser=parser, min_node_inputs=0)
    assert fallback_nodes(w, prims, steps=3, parser="darts") == []


def test_paper_rule_keeps_a_partly_empty_cell_that_still_reaches_its_output():
    prims = ["none", "skip_connect", "sep_conv_3x3"]
    w = np.full((5, 3), 0.1)
    w[1, 2] = 0.95  # node 0 <- input 1: sep_conv passes; node 1 has nothing above 0.8
    w[3, 1] = 0.6   # node 1's strongest: skip from input 1
    paper = parse_fair_cell(w, prims, steps=2, min_node_inputs=0)
    assert paper.edges == (("sep_conv_3x3", 0, 1),)  # node 1 empty (zero), node 0 reaches out
    assert fallback_nodes(w, prims, steps=2) == [1]
    kept = parse_fair_cell(w, prims, steps=2)
    assert kept.edges == (("sep_conv_3x3", 0, 1), ("skip_connect", 1, 1))
    # Only node 1 concatenated (multiplier=1): the paper's rule leaves no path to the output.
    with pytest.raises(ValueError, match="no path from its inputs to its output"):
        parse_fair_cell(w, prims, steps=2, multiplier=1, min_node_inputs=0, reduction=True)
    w2 = w.copy()
    w2[1, 2], w2[4, 2] = 0.1, 0.95  # node 1 fed only by node 0, which is empty: still dead
    with pytest.raises(ValueError, match="reduction cell with no path"):
        parse_fair_cell(w2, prims, steps=2, multiplier=1, min_node_inputs=0, reduction=True)


@pytest.mark.parametrize("bad", [2, -1, True, 0.5, "1"])
def test_min_node_inputs_must_be_zero_or_one(bad):
    with pytest.raises(ValueError, match="min_node_inputs must be 0"):
        parse_fair_cell(np.zeros((5, 2)), ["none", "skip_connect"], 2, min_node_inputs=bad)
    with pytest.raises(ValueError, match="min_node_inputs must be 0"):
        SearchConfig.from_preset("small", method="d-darts", min_node_inputs=bad).validate()


def test_untrained_model_derives_full_cells_and_reports_the_fallback():
    """At initialisation every sigmoid weight is 1/2: nothing reaches 0.8."""
    model = DistributedCellSearch(**SMALL)
    g = model.genotype()
    assert all(len(c.edges) == 1 for c in g.cells)  # steps=1: its one node fed
    report = model.derivation_summary()
    assert report["fallback_nodes"] == {"cell_0": [0], "cell_1": [0], "cell_2": [0]}
    assert report["fallback_share"] == 1.0 and report["min_node_inputs"] == 1
    paper = DistributedCellSearch(min_node_inputs=0, **SMALL)
    with pytest.raises(ValueError, match=r"^Cell 0: The 'sparse' parser at threshold=0.8"):
        paper.genotype()
    assert paper.get_config()["min_node_inputs"] == 0


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, -0.2])
def test_threshold_outside_the_open_unit_interval(threshold):
    with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\)"):
        parse_fair_cell(np.zeros((5, 2)), ["none", "skip_connect"], 2, threshold=threshold)
    with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\)"):
        DistributedCellSearch(threshold=threshold, **SMALL)
    with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\)"):
        SearchConfig.from_preset("small", method="d-darts", threshold=threshold).validate()


def _net(k):
    m, m2 = k // 3, 2 * k // 3
    return NetworkGenotype(tuple(
        CellGenotype([("skip_connect", 0, 0)], [2], steps=1, reduction=i in (m, m2))
        for i in range(k)))


@pytest.mark.parametrize("k,n,expected", [
    (8, 14, [0, 1, 0, 1, 2, 4, 3, 4, 3, 5, 6, 7, 6, 7]),
    (8, 8, list(range(8))),
    (8, 5, [0, 2, 3, 5, 6]),
    (5, 8, [0, 0, 1, 2, 2, 3, 4, 4]),
    (8, 20, [0, 1, 0, 1, 0, 1, 2, 4, 3, 4, 3, 4, 3, 5, 6, 7, 6, 7, 6, 7]),
])
def test_deepening_equals_hand_worked_examples(k, n, expected):
    net, indices = deepen(_net(k), n)
    assert indices == expected
    assert net.reductions == (n // 3, 2 * n // 3)


def test_deepening_bad_input():
    with pytest.raises(ValueError, match="at least 3 cells"):
        deepen(_net(8), 2)
    with pytest.raises(ValueError, match="no normal cell between the reductions"):
        deepen(_net(3), 9)
    shifted = NetworkGenotype(tuple(CellGenotype([("skip_connect", 0, 0)], [2], 1, i in (1, 2))
                                    for i in range(6)))
    with pytest.raises(ValueError, match="reductions at k//3=2 and 2k//3=4"):
        deepen(shifted, 9)


def test_network_genotype_json_and_builder_checks(tmp_path):
    net = _net(5)
    path = tmp_path / "genotype.json"
    net.save(str(path), epoch=1)
    assert get_genotype(str(path)) == net
    model = build_network(net, num_classes=10, layers=5, channels=4, input_shape=(8, 8, 1),
                          auxiliary=False)
    assert model.get_layer("cell_1").reduction and not model.get_layer("cell_2").reduction
    deeper = build_network(net, num_classes=10, layers=8, channels=4, input_shape=(8, 8, 1),
                           auxiliary=False)
    assert deeper.get_layer("cell_5").reduction
    with pytest.raises(ValueError, match="one genotype per cell: got 3 genotypes for layers=5"):
        build_network(list(net.cells[:3]), layers=5, input_shape=(8, 8, 1))
    with pytest.raises(ValueError, match="Cell 0 is a searched reduce cell"):
        build_network([net.cells[1]] * 5, layers=5, input_shape=(8, 8, 1))
    with pytest.raises(GenotypeError, match="Unknown op 'conv_9x9'"):
        CellGenotype([("conv_9x9", 0, 0)], [2], 1)
    with pytest.raises(GenotypeError, match="Bad input 3 for node 0"):
        CellGenotype([("skip_connect", 0, 3)], [2], 1)
    with pytest.raises(GenotypeError, match="Expected \\{'cells'"):
        NetworkGenotype.from_json('{"normal": []}')


def test_too_few_cells_and_other_bad_settings():
    with pytest.raises(ValueError, match="too few cells"):
        DistributedCellSearch(**{**SMALL, "layers": 1})
    with pytest.raises(ValueError, match="search space .nb201. has nb201 cells"):
        DistributedCellSearch(num_classes=10, input_shape=(8, 8, 1), space="nb201")
    with pytest.raises(ValueError, match="w_abl must be >= 0"):
        DistributedCellSearch(w_abl=-1.0, **SMALL)
    with pytest.raises(ValueError, match="Unknown parser 'greedy'"):
        DistributedCellSearch(parser="greedy", **SMALL)


@pytest.mark.slow
def test_short_search_gives_per_cell_genotypes_that_train_and_export(tmp_path):
    from keras_darts.data import load_arrays, normalize
    from keras_darts.export import export_tflite
    from keras_darts.training import TrainConfig, run_training

    cfg = SearchConfig.from_preset("small", method="d-darts", epochs=2, layers=5, channels=2,
                                   steps=1, multiplier=1, stem_multiplier=1, batch_size=16,
                                   max_train=64, arch_learning_rate=0.05, parser="edge",
                                   threshold=0.5)
    result = run_search(cfg, str(tmp_path / "search"), verbose=0)
    g = result.genotype
    assert isinstance(g, NetworkGenotype) and len(g.cells) == 5 and g.reductions == (1, 3)
    assert g.count(("skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
                    "dil_conv_5x5", "max_pool_3x3", "avg_pool_3x3")) > 0
    alphas = [_np(a) for a in result.model.arch_variables]
    assert len(alphas) == 5 and not np.allclose(alphas[0], alphas[1])
    saved = get_genotype(str(tmp_path / "search" / "genotype.json"))
    assert saved == g
    assert (tmp_path / "search" / "cell_4.dot").exists()
    history = result.history
    assert "marginal_contribution" in history and "discrete_accuracy" in history
    train = TrainConfig.from_preset("small", genotype=str(tmp_path / "search" / "genotype.json"),
                                    epochs=1, layers=6, channels=2, max_train=128)
    model, summary = run_training(train, str(tmp_path / "train"), verbose=0)
    assert summary["params_m"] > 0
    with open(tmp_path / "train" / "genotype.json") as f:
        assert len(json.load(f)["genotype"]["cells"]) == 5  # the searched cells, deepened to 6
    (x, _), (xt, _), info = load_arrays("embedded")
    from keras_darts.networks import inference_model

    report = export_tflite(inference_model(model), str(tmp_path / "m.tflite"),
                           normalize(xt[:32], info).numpy())
    assert report["passed"], report
