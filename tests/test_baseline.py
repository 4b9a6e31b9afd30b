"""The random-architecture baseline: uniform sampling, ranking, `keras-darts baseline`."""

import collections
import json
import shutil
import subprocess

import numpy as np
import pytest

from helpers import ROOT, TINY_TRAIN, child_env, cli, run_cli, same_worker
from keras_darts.architecture import Genotype, NB201Genotype, get_genotype
from keras_darts.baseline import (
    baseline_summary, check_in_space, latency_fronts, parameter_free_ops, percentile_rank,
    run_baseline, sample_genotype, sample_genotypes,
)
from keras_darts.costs import pareto_front
from keras_darts.latency import (
    GenotypeLatency, LatencyTableError, NetworkLayout, measure_table,
)
from keras_darts.search_space.spaces import get_search_space


def test_darts_samples_follow_the_derivation_rule():
    rng = np.random.default_rng(0)
    inputs, ops = collections.Counter(), collections.Counter()
    for _ in range(400):
        g = sample_genotype("darts", rng, steps=3, multiplier=2)
        assert isinstance(g, Genotype) and g.normal_concat == (3, 4) == g.reduce_concat
        for cell in (g.normal, g.reduce):
            assert len(cell) == 6
            for node in range(3):
                (op_a, a), (op_b, b) = cell[2 * node:2 * node + 2]
                assert a != b and 0 <= a < node + 2 and 0 <= b < node + 2
            ops.update(op for op, _ in cell)
            inputs.update((k // 2, i) for k, (_, i) in enumerate(cell))
    assert "none" not in ops and len(ops) == 7
    # Uniform: each of the 7 ops about 1/7 of 4800 edges, node 2's four inputs about equally.
    assert all(abs(n / 4800 - 1 / 7) < 0.03 for n in ops.values()), ops
    assert all(abs(inputs[(2, i)] / 800 - 0.5) < 0.08 for i in range(4)), inputs


def test_nb201_samples_are_uniform_over_its_ops_none_included():
    rng = np.random.default_rng(1)
    ops = collections.Counter(op for _ in range(500)
                              for op, _ in sample_genotype("nb201", rng).edge_list())
    assert set(ops) == {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}
    assert all(abs(n / 3000 - 0.2) < 0.03 for n in ops.values()), ops


def test_samples_respect_per_edge_op_subsets():
    subsets = {"normal": [["nor_conv_3x3"], ["none", "skip_connect"], ["nor_conv_1x1"],
                          ["avg_pool_3x3"], ["nor_conv_3x3", "nor_conv_1x1"], ["none"]]}
    space = get_search_space("nb201", subsets)
    for g in sample_genotypes(space, 4, seed=0):  # the space holds exactly 4 cells
        for (op, _), allowed in zip(g.edge_list(), subsets["normal"]):
            assert op in allowed
    with pytest.raises(ValueError, match="fewer than 5 distinct cells"):
        sample_genotypes(space, 5, seed=0)
    s3 = get_search_space("s3")
    for g in sample_genotypes(s3, 6, seed=2, steps=2, multiplier=2):
        assert {op for op, _ in g.normal + g.reduce} <= {"skip_connect", "sep_conv_3x3"}


def test_sampling_is_seeded_distinct_and_a_prefix_of_longer_draws():
    a = sample_genotypes("darts", 5, seed=7, steps=3, multiplier=3)
    assert [str(g) for g in a] == [str(g) for g in sample_genotypes("darts", 5, seed=7, steps=3,
                                                                    multiplier=3)]
    assert [str(g) for g in a] == [str(g) for g in sample_genotypes("darts", 8, seed=7, steps=3,
                                                                    multiplier=3)[:5]]
    assert len({str(g) for g in a}) == 5
    assert [str(g) for g in a] != [str(g) for g in sample_genotypes("darts", 5, seed=8, steps=3,
                                                                    multiplier=3)]
    first = sample_genotypes("nb201", 1, seed=3)[0]
    assert str(first) not in {str(g) for g in sample_genotypes("nb201", 20, seed=3,
                                                               exclude=[first])}


def test_percentile_rank_and_summary():
    assert percentile_rank(0.8, [0.7, 0.8, 0.9, 0.6]) == 62.5
    assert percentile_rank(1.0, [0.1, 0.2]) == 100.0 and percentile_rank(0.0, [0.1]) == 0.0
    s = baseline_summary([{"test_accuracy": a} for a in (0.5, 0.7, 0.6)], {"test_accuracy": 0.65})
    assert s["median"] == 0.6 and s["rank"] == 2 and s["above_median"]
    assert s["percentile"] == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="non-empty"):
        percentile_rank(0.5, [])


def _cells(*runs):
    return [{"test_accuracy": float(np.mean(r)), "test_accuracies": list(r),
             "test_accuracy_std": float(np.std(r))} for r in runs]


def test_summary_reliability_tells_cells_from_training_noise():
    # Cells 0.10 apart, each moving by 0.01 with the training seed: the ranking is the cells'.
    apart = baseline_summary(_cells((0.60, 0.61, 0.62), (0.70, 0.71, 0.72), (0.80, 0.81, 0.82)))
    assert apart["mean_noise_std"] == pytest.approx(np.sqrt(1e-4 / 3))
    assert apart["reliability"] == pytest.approx(1 - (1e-4 / 3) / 0.01)
    # The same three seeds' spread, the cells' means equal: nothing to rank.
    alike = baseline_summary(_cells((0.70, 0.72, 0.74), (0.72, 0.74, 0.70), (0.74, 0.70, 0.72)))
    assert alike["reliability"] == 0.0 and alike["mean_noise_std"] > 0
    # Noise larger than the spread of the means is clipped at 0, not negative.
    noisy = baseline_summary(_cells((0.60, 0.80), (0.71, 0.70)))
    assert noisy["reliability"] == 0.0
    # One training run per cell carries no noise estimate; one cell no spread.
    assert "reliability" not in baseline_summary([{"test_accuracy": 0.5}, {"test_accuracy": 0.6}])
    one = baseline_summary(_cells((0.5, 0.6)))
    assert "mean_noise_std" in one and "reliability" not in one


def test_parameter_free_ops_and_space_membership():
    g = NB201Genotype.from_arch_string("|none~0|+|skip_connect~0|nor_conv_3x3~1|+|"
                                       "avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    assert parameter_free_ops(g) == 3
    v2 = get_genotype("DARTS_V2")
    assert parameter_free_ops(v2) == 2 + 8  # 2 skips in the normal cell, 8 in the reduction
    check_in_space(v2, get_search_space("darts"), steps=4)
    with pytest.raises(ValueError, match="not a NAS-Bench-201 cell"):
        check_in_space(v2, get_search_space("nb201"))
    with pytest.raises(ValueError, match="not a DARTS-family genotype"):
        check_in_space(g, get_search_space("darts"))
    with pytest.raises(ValueError, match="cells of 3"):
        check_in_space(v2, get_search_space("darts"), steps=3)
    with pytest.raises(ValueError, match=r"normal cell's op 'dil_conv_3x3' \(alpha row 11.*"
                                         r"not a candidate of search space 's3'"):
        check_in_space(v2, get_search_space("s3"))


BAD = [
    (["--space", "nb201", "--samples", "0"], "num_samples must be a positive integer"),
    (["--space", "nb201", "--samples", "2", "--epochs", "0"], "epochs must be a positive"),
    (["--space", "nowhere"], "invalid choice: 'nowhere'"),
    (["--space", "nb201", "--genotype", "DARTS_V2"], "not a NAS-Bench-201 cell"),
    (["--space", "nb201", "--auxiliary"], "without auxiliary head"),
    (["--space", "nb201", "--dataset", "imagenet1k"], "Unknown dataset"),
    (["--search", "/nonexistent/run"], "is not a search run"),
    (["--space", "nb201", "--train-seeds", "1", "1"], "train_seeds must be distinct"),
    (["--space", "nb201", "--max-latency", "1"], "need a latency_table of the trained network"),
    (["--space", "nb201", "--latency-table", "/nonexistent/table.json"], "table.json"),
]


def test_trained_run_saved_before_a_setting_existed_compares_as_its_default(tmp_path):
    """A `--trained` run whose config.json predates a setting is still a fair comparison."""
    import dataclasses

    from keras_darts.baseline import _trained_summary
    from keras_darts.training import TrainConfig

    config = TrainConfig.from_preset("nb201-small", genotype=NB201Genotype.from_arch_string(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|avg_pool_3x3~1|"
        "nor_conv_1x1~2|"), seed=0)
    saved = json.loads(json.dumps(config.to_dict(), default=str))
    del saved["label_smoothing"]  # as an older version wrote config.json
    (tmp_path / "config.json").write_text(json.dumps(saved))
    (tmp_path / "summary.json").write_text(json.dumps({"test_accuracy": 0.5}))
    config.genotype.save(str(tmp_path / "genotype.json"))
    genotype, summary = _trained_summary(str(tmp_path), config)
    assert genotype == config.genotype and summary == {"test_accuracy": 0.5}
    other = dataclasses.replace(config, label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"label_smoothing: 0.0 -> 0.1"):
        _trained_summary(str(tmp_path), other)


@pytest.mark.parametrize("flags,match", BAD, ids=[b[1][:24] for b in BAD])
def test_bad_input_is_refused_with_one_line_and_nothing_written(tmp_path, flags, match):
    out = tmp_path / "baseline"
    proc = subprocess.run(cli("baseline", *flags, "--out", str(out)), capture_output=True,
                          text=True, env=child_env(), cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("keras-darts baseline: error:") and match in last, last
    assert not out.exists()


@pytest.mark.slow
@same_worker("cli-search")
def test_baseline_of_a_search_run_ranks_its_cell_and_resumes(tmp_path, cli_search):
    search, _ = cli_search
    out = tmp_path / "baseline"
    proc = run_cli("baseline", "--search", str(search), "--samples", "2", *TINY_TRAIN,
                   "--out", str(out), "--verbose", "1")
    doc = json.loads((out / "baseline.json").read_text())
    config = json.loads((search / "config.json").read_text())
    searched = get_genotype(str(search / "genotype.json"))
    assert doc["settings"]["space"] == "s3" and doc["settings"]["steps"] == 1
    assert doc["searched"]["genotype"] == str(searched) and len(doc["samples"]) == 2
    for s in doc["samples"]:
        g = Genotype.from_text(s["genotype"])
        check_in_space(g, get_search_space(config["space"]), steps=config["steps"])
        assert g != searched and 0 < s["test_accuracy"] <= 1
    accuracy = [s["test_accuracy"] for s in doc["samples"]]
    assert doc["summary"]["percentile"] == percentile_rank(doc["searched"]["test_accuracy"],
                                                           accuracy)
    assert (out / "baseline.png").stat().st_size > 1000
    assert "percentile" in proc.stdout and "[baseline 2/2]" in proc.stdout

    # Again, now reusing the searched cell's own training run: every cell is found done.
    again = run_cli("baseline", "--search", str(search), "--trained", str(out / "searched"),
                    "--samples", "2", *TINY_TRAIN, "--out", str(out), "--verbose", "1")
    assert again.stdout.count("done earlier") == 2
    redo = json.loads((out / "baseline.json").read_text())
    assert redo["samples"] == doc["samples"] and redo["summary"] == doc["summary"]

    # A training run with another budget is not a fair comparison: refused, nothing written.
    other = tmp_path / "other"
    proc = subprocess.run(cli("baseline", "--search", str(search), "--trained",
                              str(out / "searched"), "--samples", "2", *TINY_TRAIN, "--epochs",
                              "2", "--out", str(other)),
                          capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and "epochs: 1 -> 2" in proc.stderr, proc.stderr[-2000:]
    assert not other.exists()

    # A second training seed extends the finished baseline: the seed-3 runs are reused, every
    # cell trains once more under seed 4 and ranks by its mean accuracy.
    seeds = run_cli("baseline", "--search", str(search), "--trained", str(out / "searched"),
                    "--samples", "2", *TINY_TRAIN, "--train-seeds", "3", "4", "--out", str(out),
                    "--verbose", "1")
    assert "mean of 2 training seeds" in seeds.stdout and "done earlier" not in seeds.stdout
    assert "reliability" in seeds.stdout
    both = json.loads((out / "baseline.json").read_text())
    assert both["settings"]["train_seeds"] == [3, 4]
    for old, new in zip([doc["searched"]] + doc["samples"], [both["searched"]] + both["samples"]):
        assert new["genotype"] == old["genotype"] and new["train_seeds"] == [3, 4]
        assert new["test_accuracies"][0] == old["test_accuracy"]
        assert new["test_accuracy"] == pytest.approx(np.mean(new["test_accuracies"]))
        assert new["test_accuracy_std"] == pytest.approx(np.std(new["test_accuracies"]))
    for run in ("searched-seed4", "cells/000-seed4", "cells/001-seed4"):
        config = json.loads((out / run / "config.json").read_text())
        assert config["seed"] == 4 and (out / run / "summary.json").is_file()
    accuracy = [s["test_accuracy"] for s in both["samples"]]
    assert both["summary"]["percentile"] == percentile_rank(both["searched"]["test_accuracy"],
                                                            accuracy)
    assert both["summary"]["train_seed_std"] == pytest.approx(
        np.mean([s["test_accuracy_std"] for s in both["samples"]]))

    # baseline.json alone is enough to resume: with the run directories gone nothing retrains.
    shutil.rmtree(out / "cells")
    shutil.rmtree(out / "searched-seed4")
    again = run_cli("baseline", "--search", str(search), "--trained", str(out / "searched"),
                    "--samples", "2", *TINY_TRAIN, "--train-seeds", "3", "4", "--out",
                    str(out), "--verbose", "1")
    assert again.stdout.count("done earlier") == 2 and not (out / "cells" / "000").exists()
    redo = json.loads((out / "baseline.json").read_text())
    assert [s["test_accuracies"] for s in redo["samples"]] == [
        s["test_accuracies"] for s in both["samples"]]
    assert redo["searched"]["test_accuracies"] == both["searched"]["test_accuracies"]
    assert redo["summary"] == both["summary"]

    # The `trained` run's seed must be one of them, or its result would go unused.
    proc = subprocess.run(cli("baseline", "--search", str(search), "--trained",
                              str(out / "searched"), "--samples", "2", *TINY_TRAIN,
                              "--train-seeds", "4", "5", "--out", str(other)),
                          capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and "leave out the seed of the `trained` run" in proc.stderr
    assert not other.exists()


@pytest.mark.slow
def test_baseline_draws_within_a_latency_bound_and_reports_latency_fronts(tmp_path):
    from keras_darts.training import TrainConfig

    config = TrainConfig.from_preset("small", dataset="digits", layers=3, channels=4, epochs=1,
                                     max_train=128, batch_size=16, seed=3)
    layout = NetworkLayout("darts", (8, 8, 1), 10, layers=3, channels=4, steps=1, multiplier=1)
    path = str(tmp_path / "table.json")
    table = measure_table(layout, "s3", precisions=("float32",), warmup=2, runs=10, passes=1,
                          path=path)
    timing = dict(warmup=2, runs=10, passes=1)
    sizes = dict(space="s3", steps=1, multiplier=1, num_samples=2)
    draws = sample_genotypes("s3", 12, seed=0, steps=1, multiplier=1)
    bound = float(np.median([table.predict(g) for g in draws]))
    searched = draws[-1]
    out = tmp_path / "baseline"
    result = run_baseline(config, str(out), searched=searched, seed=0, max_latency_ms=bound,
                          latency_table=GenotypeLatency(path, **timing), verbose=0, **sizes)
    # The random cells: uniform among those predicted within the bound (the same draws as
    # sampling with that constraint), each predicted from the table and measured.
    within = sample_genotypes("s3", 2, seed=0, steps=1, multiplier=1, exclude=[searched],
                              accept=lambda g: table.predict(g) <= bound)
    assert [s["genotype"] for s in result.samples] == [str(g) for g in within]
    for rec in result.samples + [result.searched]:
        g = Genotype.from_text(rec["genotype"])
        assert rec["latency_ms"] == pytest.approx(table.predict(g), abs=1e-6)
        assert rec["measured_ms"] > 0 and rec["latency_precision"] == "float32"
        assert rec["within_latency_bounds"] == (rec["latency_ms"] <= bound)
    assert all(s["within_latency_bounds"] for s in result.samples)
    fronts = result.summary["latency"]
    assert fronts == latency_fronts(result.samples, result.searched)
    cells = result.samples + [result.searched]
    assert [p["genotype"] for p in fronts["measured"]] == [
        c["genotype"] for c in pareto_front(cells, "measured_ms", "test_accuracy")]
    assert fronts["searched_on_front_predicted"] == any(p["searched"]
                                                         for p in fronts["predicted"])
    assert (out / "baseline_latency.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads((out / "baseline.json").read_text())
    assert doc["settings"]["latency_bounds"] == [None, bound]
    # Run again (a fresh cache): the cells are done and their measurements are read back
    # rather than taken again, which would give other times.
    again = run_baseline(config, str(out), searched=searched, seed=0, max_latency_ms=bound,
                         latency_table=GenotypeLatency(path, **timing), verbose=0, **sizes)
    assert again.samples == result.samples and again.summary == result.summary

    # Bad input: nothing written.
    bad = tmp_path / "bad"
    with pytest.raises(ValueError, match="need a latency_table of the trained network"):
        run_baseline(config, str(bad), max_latency_ms=1.0, verbose=0, **sizes)
    with pytest.raises(LatencyTableError, match=r"channels=8 \(the table's: 4\)"):
        run_baseline(dataclasses_replace(config, channels=8), str(bad), latency_table=path,
                     verbose=0, **sizes)
    with pytest.raises(ValueError, match=r"within the latency bounds \[-, 1e-06\] ms"):
        run_baseline(config, str(bad), latency_table=path, max_latency_ms=1e-6, verbose=0,
                     **sizes)
    assert not bad.exists()


def dataclasses_replace(config, **changes):
    import dataclasses

    return dataclasses.replace(config, **changes)
