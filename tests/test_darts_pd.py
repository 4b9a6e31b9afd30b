"""DARTS-PD and the PC-DARTS options: partial channels, edge normalisation, top-k pruning,
path-wise strictly fair training, the keras-tuner path search and the three-stage run."""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import run_cli, same_worker
from keras_darts.architecture import Genotype, NB201Genotype, get_genotype
from keras_darts.costs import Bounds, GenotypeCost, pareto_front
from keras_darts.derivation.nb201 import nb201_genotype
from keras_darts.data import search_data
from keras_darts.latency import (
    GenotypeLatency, LatencyTable, LatencyTableError, NetworkLayout, measure_table,
)
from keras_darts.networks import build_network
from keras_darts.path_search import (
    PathEvaluator, PathEvolutionOracle, path_hyperparameters, search_paths,
)
from keras_darts.search import SearchConfig
from keras_darts.search_space import MixedOp
from keras_darts.search_space.mixed_op import channel_shuffle
from keras_darts.strategies import (
    PathwiseFairSearch, create_search_model, prune_supernet, registered_strategies, top_k_ops,
)
from keras_darts.utils import set_seed

# Its module fixtures and the shared DARTS-PD run: one worker.
pytestmark = same_worker("darts-pd")

SIZES = dict(num_classes=10, input_shape=(28, 28, 1), layers=3, channels=4, steps=2,
             multiplier=2, stem_multiplier=1, seed=0)


def _np(v):
    return keras.ops.convert_to_numpy(v)


@pytest.fixture(scope="module")
def data():
    return search_data("embedded", batch_size=8, mode="split", max_train=96, seed=0,
                       augmentation=False, eval_batch_size=16)


@pytest.fixture(scope="module")
def trained(data):
    """A pruned supernet (k=2) of a briefly searched tiny model, path-trained for 3 steps."""
    set_seed(0)
    model = create_search_model("darts", order=1, alpha_init_scale=1.0, **SIZES)
    pruned = prune_supernet(model, k=2)
    pruned.compile()
    pruned.fit(data.train, epochs=1, steps_per_epoch=3, verbose=0)
    return pruned


@pytest.fixture(scope="module")
def evaluator(trained, data):
    return PathEvaluator(trained, data.train, data.holdout, calibration_batches=2)


@pytest.fixture(scope="module")
def cost():
    return GenotypeCost(10, (28, 28, 1), layers=3, channels=4)


@pytest.fixture(scope="module")
def latency(trained, tmp_path_factory):
    """A measured float32 latency table of `cost`'s network over the pruned supernet's ops."""
    ops = sorted({op for _, _, names in trained.kept_edges() for op in names})
    layout = NetworkLayout("darts", (28, 28, 1), 10, layers=3, channels=4, steps=2,
                           multiplier=2)
    path = str(tmp_path_factory.mktemp("latency") / "table.json")
    measure_table(layout, "darts", primitives=ops, precisions=("float32",), warmup=2, runs=10,
                  passes=1, path=path)
    return path


# ---------------------------------------------------------------------- PC-DARTS options
def test_channel_shuffle_interleaves_groups():
    x = keras.ops.reshape(keras.ops.arange(6.0), (1, 1, 1, 6))
    assert _np(channel_shuffle(x, 2)).ravel().tolist() == [0, 3, 1, 4, 2, 5]
    assert _np(channel_shuffle(x, 3)).ravel().tolist() == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize("stride", [1, 2])
def test_partial_channels_bypass_the_ops(stride):
    """1/K of the channels go through the ops; the rest pass (max-pooled at stride 2)."""
    op = MixedOp(["none", "skip_connect", "sep_conv_3x3"], channels=8, stride=stride,
                 partial_channels=4)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 8)).astype("float32")
    y = _np(op(x, keras.ops.array([0.0, 0.0, 0.0]), training=False))
    assert y.shape == (2, 6 // stride, 6 // stride, 8)
    rest = x[..., 2:]
    if stride == 2:
        rest = _np(keras.layers.MaxPooling2D(2, 2)(rest))
    unshuffled = y.reshape(y.shape[:3] + (2, 4)).transpose(0, 1, 2, 4, 3).reshape(y.shape)
    np.testing.assert_array_equal(unshuffled[..., :2], 0.0)  # zero weights: no op output
    np.testing.assert_allclose(unshuffled[..., 2:], rest, rtol=1e-6)
    # The ops are built for C/K channels: a quarter of the input channels.
    sep = op.candidate_ops[-1]
    reference = MixedOp(["sep_conv_3x3"], channels=2, stride=stride)
    reference.build((None, 6, 6, 2))
    assert sep.count_params() == reference.candidate_ops[0].count_params()


def test_partial_channels_must_divide_channels():
    with pytest.raises(ValueError, match="partial_channels=3 must divide"):
        MixedOp(["skip_connect"], channels=8, partial_channels=3)
    with pytest.raises(ValueError, match="partial_channels must be a positive integer"):
        create_search_model("darts", partial_channels=0, **SIZES)
    with pytest.raises(ValueError, match="partial_channels=3 must divide channels=4"):
        SearchConfig.from_preset("small", channels=4, partial_channels=3).validate()
    with pytest.raises(ValueError, match="DARTS-family"):
        create_search_model("darts", space="nb201", partial_channels=2,
                            **dict(SIZES, channels=4))


def test_edge_normalisation_weights_nodes_and_derivation():
    model = create_search_model("darts", edge_normalization=True, alpha_init_scale=0.0,
                                **SIZES)
    betas = model.architecture.betas
    assert sorted(betas) == ["normal", "reduce"]
    # Node 0 has edges 0-1, node 1 edges 2-4: each node's edge weights sum to 1.
    betas["normal"].assign([0.0, 2.0, 3.0, 0.0, 1.0])
    betas["reduce"].assign([1.0, 0.0, 0.0, 2.0, 1.0])
    w = _np(model.architecture.edge_weights()[0])
    np.testing.assert_allclose([w[:2].sum(), w[2:].sum()], [1.0, 1.0], rtol=1e-6)
    # Uniform alphas: the derived edges are those with the largest betas.
    g = model.genotype()
    assert [inp for _, inp in g.normal] == [1, 0, 0, 2]
    assert [inp for _, inp in g.reduce] == [0, 1, 1, 2]
    # The forward pass uses them: changing a beta changes the logits.
    x = np.random.default_rng(1).normal(size=(2, 28, 28, 1)).astype("float32")
    before = _np(model(x, training=False))
    betas["normal"].assign([5.0, -5.0, 3.0, 0.0, 1.0])
    assert not np.allclose(before, _np(model(x, training=False)))


@pytest.mark.parametrize("method", [m for m in registered_strategies() if m != "darts-pd"])
def test_every_strategy_trains_with_pc_darts_options(method, data):
    """Partial channels and edge normalisation are options of every search strategy."""
    set_seed(0)
    model = create_search_model(method, partial_channels=2, edge_normalization=True, **SIZES)
    model.compile(run_eagerly=True)  # one step: eager is faster than tracing
    x, y = next(iter(data.train))
    batch = (x, y) if model.data_mode == "single" else ((x, y), (x, y))
    betas = [_np(b).copy() for b in model.architecture.betas.values()]
    logs = model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0).history
    assert np.isfinite(logs["loss"][0])
    moved = [not np.allclose(b, _np(v)) for b, v in zip(betas, model.architecture.betas.values())]
    assert any(moved), "the edge weights (betas) are trained with the alphas"
    model.genotype()


# ---------------------------------------------------------------------- stage 1: pruning
def test_top_k_keeps_the_strongest_ops_of_the_topology_edges():
    prims = ["none", "skip_connect", "sep_conv_3x3", "max_pool_3x3"]
    w = np.array([[0.9, 0.05, 0.03, 0.02],   # node 0: edge from input 0
                  [0.1, 0.2, 0.6, 0.1],      # node 0: edge from input 1
                  [0.0, 0.1, 0.2, 0.7],      # node 1: from 0
                  [0.3, 0.3, 0.3, 0.1],      # node 1: from 1 (weakest, dropped)
                  [0.1, 0.5, 0.1, 0.3]])     # node 1: from node 0
    kept = top_k_ops(w, prims, steps=2, k=2)
    assert kept == [["skip_connect", "sep_conv_3x3"], ["sep_conv_3x3", "skip_connect"],
                    ["max_pool_3x3", "sep_conv_3x3"], [], ["skip_connect", "max_pool_3x3"]]
    with pytest.raises(ValueError, match="k=4 is larger than the 3 candidate ops of edge"):
        top_k_ops(w, prims, steps=2, k=4)
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="positive integer"):
            top_k_ops(w, prims, steps=2, k=bad)


@pytest.mark.parametrize("partial_channels", [1, 2])
def test_pruned_supernet_equals_masked_full_supernet(partial_channels):
    set_seed(0)
    full = create_search_model("darts", alpha_init_scale=1.0, partial_channels=partial_channels,
                               **SIZES)
    pruned = prune_supernet(full, k=2)
    x = np.random.default_rng(2).normal(size=(4, 28, 28, 1)).astype("float32")
    masked = []
    for w, kind in zip(full.architecture.mixing_weights(), full.network.cell_types):
        keep = np.zeros(w.shape, "float32")
        for e, names in enumerate(pruned.kept[kind]):
            keep[e, [full.primitives.index(n) for n in names]] = 1.0
        masked.append(w * keep)
    # Whole edges outside the topology are masked with edge weights of 0: with partial
    # channels an edge passes its bypassed channels on whatever its op weights.
    edge_mask = [keras.ops.array([1.0 if names else 0.0 for names in pruned.kept[kind]])
                 for kind in full.network.cell_types]
    np.testing.assert_allclose(
        _np(pruned.network(x, masked, training=False)),
        _np(full.network(x, masked, training=False, edge_weights=edge_mask)), atol=1e-6)
    # Only the kept ops exist: 2 edges per node, k=2 ops each.
    for cell in pruned.network.cells:
        assert len(cell.edges) == 2 * SIZES["steps"]
        assert all(len(edge.computed_ops) == 2 for edge in cell.edges)
    assert pruned.network.count_params() < full.network.count_params() / 2
    # A single path by op indices equals the same path by one-hot weights.
    g = pruned.genotype()
    onehot = [keras.ops.array(w) for w in pruned.discrete_cell_weights(g)]
    choices = pruned.cell_choices({k: tf.constant(v) for k, v in pruned.choices_of(g).items()})
    np.testing.assert_allclose(_np(pruned.network(x, choices, training=False)),
                               _np(pruned.network(x, onehot, training=False)), atol=1e-6)


def test_pruning_copies_weights_and_freezes_alphas(trained):
    alphas = {k: _np(v).copy() for k, v in trained.architecture.variables_by_kind.items()}
    assert trained.arch_variables == []
    assert trained.k == 2 and trained.genotype().steps == SIZES["steps"]
    for k, v in trained.architecture.variables_by_kind.items():
        np.testing.assert_array_equal(alphas[k], _np(v))


def test_pruning_rejects_per_cell_alphas_and_bad_k():
    model = create_search_model("d-darts", **SIZES)
    with pytest.raises(ValueError, match="per-cell alphas"):
        prune_supernet(model, k=2)
    with pytest.raises(ValueError, match="k=8 is larger than"):
        prune_supernet(create_search_model("darts", **SIZES), k=8)
    with pytest.raises(ValueError, match="top_k=3 is larger than the ops of an edge"):
        SearchConfig.from_preset("small", method="darts-pd", space="s2", top_k=3).validate()
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        SearchConfig.from_preset("small", method="darts-pd", top_k=0).validate()


def test_malformed_kept_structures_are_rejected():
    base = PathwiseFairSearch(**SIZES).kept
    bad_op = {k: [list(e) for e in v] for k, v in base.items()}
    bad_op["normal"][0] = ["conv_9x9", "skip_connect"]
    with pytest.raises(ValueError, match="conv_9x9"):
        PathwiseFairSearch(kept=bad_op, **SIZES)
    three = {k: [list(e) for e in v] for k, v in base.items()}
    three["reduce"][4] = ["skip_connect", "sep_conv_3x3"] + ["max_pool_3x3"] * 0
    with pytest.raises(ValueError, match="keeps 3 incoming edges of node 1"):
        PathwiseFairSearch(kept=three, **SIZES)
    uneven = {k: [list(e) for e in v] for k, v in base.items()}
    uneven["normal"][0] = ["skip_connect"]
    with pytest.raises(ValueError, match="same number of ops"):
        PathwiseFairSearch(kept=uneven, **SIZES)


# ---------------------------------------------------------------------- NAS-Bench-201 cells
NB201_SIZES = dict(num_classes=10, input_shape=(28, 28, 1), space="nb201", channels=4,
                   cells_per_stage=1, seed=0)


def test_top_k_in_a_nb201_cell_keeps_every_edge_and_never_none():
    prims = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    w = np.array([[0.9, 0.05, 0.02, 0.02, 0.01],
                  [0.1, 0.1, 0.2, 0.5, 0.1],
                  [0.2, 0.4, 0.1, 0.1, 0.2],
                  [0.2, 0.2, 0.2, 0.2, 0.2],   # a tie: lower op index first
                  [0.5, 0.1, 0.1, 0.1, 0.2],
                  [0.0, 0.0, 0.3, 0.3, 0.4]])
    kept = top_k_ops(w, prims, steps=3, k=2, family="nb201")
    assert kept == [["skip_connect", "nor_conv_1x1"], ["nor_conv_3x3", "nor_conv_1x1"],
                    ["skip_connect", "avg_pool_3x3"], ["skip_connect", "nor_conv_1x1"],
                    ["avg_pool_3x3", "skip_connect"], ["avg_pool_3x3", "nor_conv_1x1"]]
    with pytest.raises(ValueError, match="k=5 is larger than the 4 candidate ops of edge 0 "
                                         r"\(node 1, input 0\)"):
        top_k_ops(w, prims, steps=3, k=5, family="nb201")
    with pytest.raises(ValueError, match="family must be one of"):
        top_k_ops(w, prims, steps=3, k=2, family="nasnet")


def test_nb201_pruned_supernet_trains_fair_paths_that_are_nb201_cells(data):
    set_seed(0)
    full = create_search_model("darts", alpha_init_scale=1.0, **NB201_SIZES)
    pruned = prune_supernet(full, k=2)
    assert pruned.kinds == ("normal",) and set(pruned.kept) == {"normal"}
    assert all(len(names) == 2 and "none" not in names for names in pruned.kept["normal"])
    for cell in pruned.network.cells:
        assert all(len(cell.edge(e).computed_ops) == 2 for e in range(6))
    # Weights are inherited: the stem and the classifier equal the full supernet's.
    for name in ("stem_conv", "classifier", "last_bn"):
        for a, b in zip(getattr(full.network, name).weights, getattr(pruned.network, name).weights):
            np.testing.assert_array_equal(_np(a), _np(b))
    # The strongest-alpha path is a NAS-Bench-201 cell; by op indices it equals one-hot weights.
    g = pruned.genotype()
    assert isinstance(g, NB201Genotype) and g.count(["none"]) == 0
    x = np.random.default_rng(2).normal(size=(4, 28, 28, 1)).astype("float32")
    onehot = [keras.ops.array(w) for w in pruned.discrete_cell_weights(g)]
    choices = pruned.cell_choices({k: tf.constant(v) for k, v in pruned.choices_of(g).items()})
    np.testing.assert_allclose(_np(pruned.network(x, choices, training=False)),
                               _np(pruned.network(x, onehot, training=False)), atol=1e-6)
    assert pruned.path_genotype({"normal": [names[1] for names in pruned.kept["normal"]]}) \
        == nb201_genotype(names[1] for names in pruned.kept["normal"])
    # A path outside the kept ops, or a DARTS genotype, is refused.
    with pytest.raises(ValueError, match="is not an op the pruned supernet keeps"):
        pruned.choices_of(nb201_genotype(["none"] * 6))
    with pytest.raises(ValueError, match="is an NB201Genotype"):
        pruned.choices_of(get_genotype("DARTS_V2"))
    # Path-wise training is strictly fair on all 6 edges.
    pruned.compile()
    pruned.fit(data.train, epochs=1, steps_per_epoch=3, verbose=0)
    report = pruned.fairness()
    assert report["strict"] and report["steps"] == 3
    assert sorted(report["op_updates"]["normal"]) == [str(e) for e in range(6)]


def test_malformed_nb201_kept_structures_are_rejected():
    base = PathwiseFairSearch(**NB201_SIZES).kept
    assert base["normal"] == [["skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                               "avg_pool_3x3"]] * 6
    empty = {"normal": [list(e) for e in base["normal"]]}
    empty["normal"][2] = []
    with pytest.raises(ValueError, match="edge 2 keeps no op; every edge of a NAS-Bench-201"):
        PathwiseFairSearch(kept=empty, **NB201_SIZES)
    with pytest.raises(ValueError, match="kept must map 'normal' to one op-name list"):
        PathwiseFairSearch(kept={**base, "reduce": base["normal"]}, **NB201_SIZES)
    with pytest.raises(ValueError, match="lists 5 edges; a NAS-Bench-201 cell has 6"):
        PathwiseFairSearch(kept={"normal": base["normal"][:5]}, **NB201_SIZES)
    zero = {"normal": [list(e) for e in base["normal"]]}
    zero["normal"][0] = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3"]
    with pytest.raises(ValueError, match="a path cannot take the zero op"):
        PathwiseFairSearch(kept=zero, **NB201_SIZES)


# ---------------------------------------------------------------------- stage 2: fairness
def test_path_wise_strict_fairness(data):
    set_seed(0)
    pruned = prune_supernet(create_search_model("darts", alpha_init_scale=1.0, **SIZES), k=2)
    before = {k: _np(v).copy() for k, v in pruned.architecture.variables_by_kind.items()}
    weights_before = [_np(w).copy() for w in pruned.weight_variables]
    pruned.compile()
    steps = 4
    pruned.fit(data.train, epochs=1, steps_per_epoch=steps, verbose=0)
    report = pruned.fairness()
    assert report["strict"] and report["steps"] == steps
    assert report["path_updates"] == [steps, steps]
    for kind in ("normal", "reduce"):
        counts = _np(pruned.op_counts[kind])
        per_path = _np(pruned.op_path_counts[kind])
        for e, names in enumerate(pruned.kept[kind]):
            idx = [pruned.primitives.index(n) for n in names]
            np.testing.assert_array_equal(counts[e, idx], steps)  # every kept op, T times
            assert counts[e].sum() == len(idx) * steps             # nothing else
            np.testing.assert_array_equal(per_path[e].sum(axis=0), steps if names else 0)
    # The k paths of a step are op-disjoint on every kept edge.
    for step in range(6):
        perms = pruned.draw_permutations(tf.constant(step, tf.int64))
        paths = [pruned.path_choices(perms, p) for p in range(pruned.k)]
        for kind in ("normal", "reduce"):
            rows = [e for e, n in enumerate(pruned.kept[kind]) if n]
            a, b = _np(paths[0][kind])[rows], _np(paths[1][kind])[rows]
            assert np.all(a != b)
            assert sorted(_np(perms[kind]).ravel().tolist()) == sorted([0, 1] * len(rows))
    # Evaluation runs the path of the strongest alphas.
    logs = pruned.evaluate(data.holdout, verbose=0, return_dict=True)
    assert 0.0 <= logs["accuracy"] <= 1.0
    # Architecture frozen, weights trained.
    for k, v in pruned.architecture.variables_by_kind.items():
        np.testing.assert_array_equal(before[k], _np(v))
    assert any(not np.allclose(a, _np(b)) for a, b in zip(weights_before,
                                                          pruned.weight_variables))


# ---------------------------------------------------------------------- stage 3: path search
def test_evaluator_recalibrates_bn_and_scores(trained, evaluator):
    g = trained.genotype()
    acc = evaluator(g)
    assert 0.0 <= acc <= 1.0
    assert evaluator(g) == acc  # recalibration is deterministic
    bn = trained.network.stem_bn
    mean = _np(bn.moving_mean)
    x = evaluator.calibration_images
    stem = _np(trained.network.stem_conv(x))
    np.testing.assert_allclose(mean, stem.reshape(-1, stem.shape[-1]).mean(axis=0), atol=1e-4)
    assert bn.momentum == pytest.approx(0.9)  # restored after tracing


def test_path_search_is_seeded_deduplicated_and_resumes(trained, evaluator, cost, tmp_path):
    calls = []

    def counting(genotype):
        calls.append(genotype.to_text())
        return evaluator(genotype)

    settings = dict(population=4, tournament=2, seed=3, top=3)
    full = search_paths(trained, counting, cost, str(tmp_path / "full"), max_trials=10,
                        **settings)
    texts = [r["genotype"] for r in full.records]
    assert len(texts) == 10 and len(set(texts)) == 10  # no duplicate scored
    assert len(calls) == 10
    again = search_paths(trained, evaluator, cost, str(tmp_path / "again"), max_trials=10,
                         **settings)
    assert [(r["genotype"], r["accuracy"]) for r in again.records] == \
        [(r["genotype"], r["accuracy"]) for r in full.records]
    # Interrupted (Ctrl-C) while scoring the 6th path, then the same call resumes: the
    # interrupted trial is scored again, the 5 before it are not, and the result is the same.
    calls.clear()

    def interrupted(genotype):
        if len(calls) == 5:
            raise KeyboardInterrupt
        return counting(genotype)

    with pytest.raises(KeyboardInterrupt):
        search_paths(trained, interrupted, cost, str(tmp_path / "resumed"), max_trials=10,
                     **settings)
    assert len(calls) == 5
    resumed = search_paths(trained, counting, cost, str(tmp_path / "resumed"), max_trials=10,
                           **settings)
    assert len(calls) == 10
    assert [(r["genotype"], r["accuracy"]) for r in resumed.records] == \
        [(r["genotype"], r["accuracy"]) for r in full.records]
    # A larger budget continues the finished search.
    more = search_paths(trained, counting, cost, str(tmp_path / "resumed"), max_trials=12,
                        **settings)
    assert len(calls) == 12 and [r["genotype"] for r in more.records][:10] == texts
    # Outputs: genotypes ready for stand-alone training, the front, the plot.
    out = tmp_path / "full"
    front = json.loads((out / "pareto.json").read_text())
    assert front == pareto_front(full.records) and front
    params = [r["params"] for r in front]
    assert params == sorted(params)
    g = Genotype.load(str(out / "pareto" / "arch_00.json"))
    build_network(g, num_classes=10, layers=3, channels=4, input_shape=(28, 28, 1),
                  auxiliary=False)
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((out / "best").iterdir())) == 3


def test_path_search_respects_bounds(trained, evaluator, cost, tmp_path):
    hp = path_hyperparameters(trained)
    sizes = sorted({cost(trained.path_genotype(
        {k: [names[i % 2] for kk, _, names in trained.kept_edges() if kk == k]
         for k in ("normal", "reduce")}))["params"] for i in range(2)})
    bound = Bounds(max_params=float(np.mean(sizes)) if len(sizes) > 1 else sizes[0])
    result = search_paths(trained, evaluator, cost, str(tmp_path / "b"), max_trials=6,
                          bounds=bound, population=3, tournament=2, seed=0)
    assert result.records and all(r["params"] <= bound.max_params for r in result.records)
    assert len(hp.space) == len(trained.kept_edges())
    with pytest.raises(ValueError, match="Empty bound range: min_params=2 exceeds max_params=1"):
        Bounds(min_params=2, max_params=1)
    with pytest.raises(ValueError, match="min_macs must be a non-negative"):
        Bounds(min_macs=-1)
    with pytest.raises(ValueError, match="No path could be scored"):
        search_paths(trained, evaluator, cost, str(tmp_path / "none"), max_trials=3,
                     bounds=Bounds(max_params=1e-9), population=2, tournament=1,
                     max_attempts=20)


def test_path_search_bounds_predicted_latency_and_measures_its_front(trained, evaluator,
                                                                      latency, tmp_path):
    timing = dict(warmup=2, runs=10, passes=1)
    cost = GenotypeCost(10, (28, 28, 1), layers=3, channels=4,
                        latency=GenotypeLatency(latency, **timing))
    settings = dict(max_trials=8, population=4, tournament=2, seed=0)
    free = search_paths(trained, evaluator, cost, str(tmp_path / "free"), **settings)
    table = LatencyTable.load(latency)
    for r in free.records:  # every path's prediction, from the table
        assert r["latency_ms"] == pytest.approx(table.predict(free.genotypes[r["trial_id"]]),
                                                abs=1e-6)
    # The front of predicted latency against accuracy, its paths measured, and their front
    # on measured latency.
    doc = json.loads((tmp_path / "free" / "pareto_latency.json").read_text())
    assert doc["predicted"] == pareto_front(free.records, cost="latency_ms") == \
        free.latency["predicted"]
    measured = [r for r in free.records if "measured_ms" in r]
    assert {r["trial_id"] for r in measured} == {r["trial_id"] for r in doc["predicted"]}
    assert all(r["measured_ms"] > 0 for r in measured)
    assert doc["measured"] == pareto_front(measured, cost="measured_ms") and doc["measured"]
    assert doc["precision"] == "float32" and doc["table"] == latency
    assert doc["measured_on"]["threads"] == 1 and doc["paths_measured"] == len(measured)
    archs = sorted((tmp_path / "free" / "pareto_latency").iterdir())
    assert len(archs) == len(doc["predicted"])
    first = json.loads(archs[0].read_text())
    assert first["latency_ms"] == doc["predicted"][0]["latency_ms"] and first["measured_ms"] > 0
    assert (tmp_path / "free" / "pareto_latency.png").read_bytes()[:4] == b"\x89PNG"
    # Run again (a fresh cache): measurements are read back, not taken again (which would
    # give other times).
    cost_again = GenotypeCost(10, (28, 28, 1), layers=3, channels=4,
                              latency=GenotypeLatency(latency, **timing))
    again = search_paths(trained, evaluator, cost_again, str(tmp_path / "free"), **settings)
    assert again.latency["measured"] == doc["measured"]
    # A latency bound: below the median prediction, every scored path within it.
    bound = float(np.median([r["latency_ms"] for r in free.records]))
    bounded = search_paths(trained, evaluator, cost, str(tmp_path / "bounded"),
                           bounds=Bounds(max_latency_ms=bound), measure="none", **settings)
    assert bounded.records and all(r["latency_ms"] <= bound for r in bounded.records)
    assert not any("measured_ms" in r for r in bounded.records)
    assert bounded.latency["measured"] == [] and bounded.latency["paths_measured"] == 0


def test_latency_costs_refuse_another_network_and_missing_tables(trained, evaluator, cost,
                                                                 latency, tmp_path):
    with pytest.raises(LatencyTableError, match=r"layers=4 \(the table's: 3\), channels=8 "
                                                r"\(the table's: 4\)"):
        GenotypeCost(10, (28, 28, 1), layers=4, channels=8, latency=latency)
    with pytest.raises(LatencyTableError, match="no 'int8' latencies"):
        GenotypeLatency(latency, "int8")
    with pytest.raises(ValueError, match="Latency bounds need a cost that predicts latency"):
        search_paths(trained, evaluator, cost, str(tmp_path / "x"), max_trials=2,
                     bounds=Bounds(max_latency_ms=1.0))
    with pytest.raises(ValueError, match="measure must be one of"):
        search_paths(trained, evaluator, cost, str(tmp_path / "x"), max_trials=2,
                     measure="sometimes")
    with pytest.raises(ValueError, match="Empty bound range: min_latency_ms=2"):
        Bounds(min_latency_ms=2, max_latency_ms=1)
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="es_min_latency and es_max_latency need a "
                                         "latency_table"):
        SearchConfig.from_preset("small", method="darts-pd", es_max_latency=1.0).validate()
    with pytest.raises(ValueError, match="es_measure"):
        SearchConfig.from_preset("small", method="darts-pd", es_measure="some").validate()


@pytest.mark.parametrize("oracle", ["random", "bayesian"])
def test_keras_tuner_oracles_replace_the_evolution(trained, evaluator, cost, tmp_path, oracle):
    result = search_paths(trained, evaluator, cost, str(tmp_path / oracle), oracle=oracle,
                          max_trials=4, seed=0)
    assert 1 <= len(result.records) <= 4
    assert len({r["genotype"] for r in result.records}) == len(result.records)


def test_oracle_rejects_bad_settings(trained):
    hp = path_hyperparameters(trained)
    with pytest.raises(ValueError, match="population .3. is smaller than the tournament .5."):
        PathEvolutionOracle(hp, population=3, tournament=5)
    with pytest.raises(ValueError, match="mutation_prob must be in"):
        PathEvolutionOracle(hp, mutation_prob=1.5)
    with pytest.raises(ValueError, match="es_population .2. is smaller than es_tournament"):
        SearchConfig.from_preset("small", method="darts-pd", es_population=2,
                                 es_tournament=4).validate()
    with pytest.raises(ValueError, match="Empty bound range"):
        SearchConfig.from_preset("small", method="darts-pd", es_min_macs=5.0,
                                 es_max_macs=1.0).validate()
    with pytest.raises(ValueError, match="base_method 'd-darts' has per-cell alphas"):
        SearchConfig.from_preset("small", method="darts-pd", base_method="d-darts").validate()
    with pytest.raises(ValueError, match="es_oracle"):
        SearchConfig.from_preset("small", method="darts-pd", es_oracle="grid").validate()


# ---------------------------------------------------------------------- three stages
@pytest.mark.slow
def test_three_stage_run_gives_a_family_of_architectures(darts_pd_run):
    config, result = darts_pd_run
    out = pathlib.Path(result.out_dir)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fairness"]["strict"]
    assert summary["fairness"]["steps"] == 2 * (128 // 16)
    assert set(summary["timings_s"]) == {"stage1_s", "stage2_s", "stage3_s"}
    assert summary["wall_s"] == pytest.approx(sum(summary["timings_s"].values()))
    stage1 = json.loads((out / "stage1" / "summary.json").read_text())
    assert summary["timings_s"]["stage1_s"] == stage1["wall_s"] > 0
    assert summary["paths_scored"] == 12
    sizes = {r["params"] for r in json.loads((out / "stage3" / "trials.json").read_text())}
    assert len(sizes) >= 3, "paths of different sizes"
    for path in sorted((out / "stage3" / "pareto").iterdir()):
        Genotype.load(str(path))
    assert Genotype.load(str(out / "genotype.json")) == result.genotype
    assert (out / "stage1" / "genotype.json").exists()
    kept = json.loads((out / "stage2" / "kept.json").read_text())
    assert kept["k"] == 2


@pytest.mark.slow
def test_three_stage_run_in_the_nb201_space_from_the_command_line(tmp_path):
    # The stage-3 cost network (digits, C=8, one cell per stage) has a latency table; the
    # paths are bounded below the all-3x3 cell's predicted latency.
    layout = NetworkLayout("nb201", (8, 8, 1), 10, channels=8, cells_per_stage=1)
    table = measure_table(layout, "nb201", precisions=("float32",), warmup=2, runs=10,
                          passes=1, path=str(tmp_path / "table.json"))
    bound = 0.999 * table.predict(NB201Genotype.from_arch_string(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        "nor_conv_3x3~2|"))
    common = ("search", "--preset", "nb201-small", "--method", "darts-pd", "--base-method",
              "single-darts", "--dataset", "digits", "--channels", "4", "--max-train", "128",
              "--batch-size", "16", "--epochs", "1", "--pd-epochs", "1", "--es-trials", "6",
              "--es-population", "3", "--es-tournament", "2", "--es-calibration-batches", "1",
              "--seed", "1", "--verbose", "0", "--latency-table", str(tmp_path / "table.json"))
    # A table of another network than stage 3's fails before anything is written.
    wrong = run_cli(*common, "--eval-channels", "16", "--out", str(tmp_path / "wrong"),
                    check=False)
    assert wrong.returncode != 0 and "channels=16 (the table's: 8)" in wrong.stderr
    assert not (tmp_path / "wrong").exists()
    out = tmp_path / "pd"
    run_cli(*common, "--es-max-latency", str(bound), "--out", str(out))
    best = NB201Genotype.from_json((out / "genotype.json").read_text())
    assert best.count(["none"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fairness"]["strict"] and summary["paths_scored"] >= 1
    assert summary["genotype"] == best.to_arch_string() == summary["best"][0]["genotype"]
    trials = json.loads((out / "stage3" / "trials.json").read_text())
    assert all(0 < r["latency_ms"] <= bound for r in trials)
    fronts = summary["latency"]
    assert fronts["predicted"] == pareto_front(trials, cost="latency_ms")
    assert fronts["measured"] and all(r["measured_ms"] > 0 for r in fronts["measured"])
    assert best.to_arch_string() in {r["genotype"] for r in trials}
    kept = json.loads((out / "stage2" / "kept.json").read_text())
    assert set(kept["kept"]) == {"normal"} and kept["paths_per_cell_kind"] == 2 ** 6
    NB201Genotype.from_json((out / "stage1" / "genotype.json").read_text())
    for path in sorted((out / "stage3" / "pareto").iterdir()):
        NB201Genotype.from_json(path.read_text())
