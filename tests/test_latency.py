"""Latency tables: network layouts unit by unit, measuring with LiteRT, prediction, bad tables."""

import json
import os

import numpy as np
import pytest

from helpers import same_worker

from keras_darts.architecture.genotype import get_genotype
from keras_darts.baseline import sample_genotypes
from keras_darts.latency import (
    MARKS, LatencyTable, LatencyTableError, NetworkLayout, Unit, is_free, mark_units,
    measure_table,
)
from keras_darts.strategies import registered_strategies

# Tiny layouts: a NAS-Bench-201 network, a 4-cell DARTS-family network of space s3 (structure
# only), and the network of the shared tiny searches (`helpers.SEARCH`: s3, 3 cells of 1 node).
NB201 = NetworkLayout("nb201", (8, 8, 1), 10, channels=4, cells_per_stage=1)
DARTS = NetworkLayout("darts", (8, 8, 1), 10, layers=4, channels=4, steps=2, multiplier=2)
SEARCH_LAYOUT = NetworkLayout("darts", (8, 8, 1), 10, layers=3, channels=4, stem_multiplier=1,
                              steps=1, multiplier=1)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The NAS-Bench-201 table (float32 and int8) and the tiny searches' (float32), measured
    once for every test of the group (few timed runs: the values are not asserted)."""
    out = tmp_path_factory.mktemp("tables")
    return {"nb201": measure_table(NB201, "nb201", runs=3, warmup=1,
                                   path=str(out / "nb201.json")),
            "s3": measure_table(SEARCH_LAYOUT, "s3", precisions=("float32",), runs=3,
                                warmup=1, path=str(out / "s3.json")),
            "dir": out}


def test_unit_keys_round_trip_and_reject_malformed_keys():
    u = Unit("sep_conv_3x3", (16, 16, 32), 32, 2)
    assert Unit.from_key(u.key) == u
    c = Unit("concat", (4, 4, 8), 32, 1, 4)
    assert Unit.from_key(c.key) == c
    with pytest.raises(ValueError, match="Malformed latency unit 'sep_conv_3x3'"):
        Unit.from_key("sep_conv_3x3")
    assert is_free(Unit("none", (4, 4, 4), 4)) and is_free(Unit("skip_connect", (4, 4, 4), 4))
    assert not is_free(Unit("skip_connect", (4, 4, 4), 4, 2))


def test_layout_rejects_impossible_networks():
    with pytest.raises(ValueError, match="Unknown cell family 'resnet'"):
        NetworkLayout("resnet", (8, 8, 1), 10)
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        NetworkLayout("darts", (8, 8, 1), 10, channels=0)
    with pytest.raises(ValueError, match="multiplier"):
        NetworkLayout("darts", (8, 8, 1), 10, steps=2, multiplier=3)


@pytest.mark.parametrize("layout,space", [(DARTS, "s3"), (NB201, "nb201"),
                                          (NetworkLayout("darts", (32, 32, 3), 10, layers=5,
                                                         channels=8, stem="imagenet"), "darts")])
def test_genotype_units_are_the_networks_ops(layout, space):
    """The units of random genotypes are the layers `build_network` makes, shape for shape."""
    from keras_darts.networks.layers import GenotypeCell, NB201GenotypeCell

    for g in sample_genotypes(space, 3, seed=1, steps=layout.steps, multiplier=layout.multiplier):
        units = layout.genotype_units(g)
        model = layout.build(g)
        cells = [l for l in model.layers if isinstance(l, (GenotypeCell, NB201GenotypeCell))]
        if layout.family == "nb201":
            built = sum(len(c.edge_layers) for c in cells)
            ops = [u for u in units if u.op in {"nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}]
            skip = sum(1 for c in cells for op in c.edge_layers
                       if type(op).__name__ == "Identity")
            assert len(ops) == built - skip
        else:
            ops = [u for u in units if u.op not in ("preprocess_conv", "preprocess_reduce", "add",
                                                    "concat", "stem_conv", "stem_imagenet", "head")]
            built = [op for c in cells for op in c.ops if type(op).__name__ != "Identity"]
            assert len(ops) == len(built)
            # Output shape of every cell: the concat unit's.
            concats = [u for u in units if u.op == "concat"]
            for c, u in zip(cells, concats):
                assert tuple(c.output.shape[1:]) == (u.input[0], u.input[1], u.channels)
        head = units[-1]
        assert head.op in ("head", "nb201_head") and head.channels == 10


@same_worker("latency-tables")
def test_measured_table_covers_the_space_and_predicts_positive_sums(tables):
    assert tables["nb201"].precisions == ["float32", "int8"]
    assert tables["s3"].precisions == ["float32"]
    for space, layout in (("nb201", NB201), ("s3", SEARCH_LAYOUT)):
        table = tables[space]
        table.check_space(table.primitives)  # every unit measured
        assert table.device["threads"] == 1 and table.settings["runs"] == 3
        for g in sample_genotypes(space, 3, seed=0, steps=layout.steps,
                                  multiplier=layout.multiplier):
            for p in table.precisions:
                units = layout.genotype_units(g)
                total = sum(table.ms(u, p) for u in units)
                predicted = table.predict(g, p)
                assert 0 < predicted <= total + 1e-9
    # Ops that start with a ReLU are marked (their ReLU is shared in networks).
    e = tables["nb201"].entries["float32"]
    assert e["nor_conv_3x3@8x8x4_c4_s1"]["relu_first"] is True
    assert e["avg_pool_3x3@8x8x4_c4_s1"]["relu_first"] is False
    # NAS-Bench-201's residual reduction also reads its input unrectified (its shortcut): its
    # ReLU cannot be fused into the op computing that input.
    assert e["nb201_reduction@8x8x4_c8_s2"]["relu_first"] is False
    assert tables["nb201"].settings["marks"] == MARKS


@same_worker("latency-tables")
def test_units_are_timed_on_a_networks_activations(tables):
    from keras_darts.latency import (
        TFLiteTimer, convert_tflite, reference_activations, unit_inputs, unit_model,
    )
    from keras_darts.latency.measure import INPUTS

    assert tables["nb201"].settings["inputs"] == INPUTS
    acts = reference_activations(NB201, "nb201")
    again = reference_activations(NB201, "nb201")
    assert acts.keys() == again.keys()
    assert all(np.array_equal(a, b) for k in acts for a, b in zip(acts[k], again[k]))
    # Every unit of the table has tensors of its input shape to be timed on.
    for key in tables["nb201"].entries["int8"]:
        unit = Unit.from_key(key)
        inputs = unit_inputs(unit, acts)
        assert inputs is not None and len(inputs) == unit.inputs, key
        assert all(x.shape == (1,) + unit.input for x in inputs)
    # What a ReLU reads comes first, and it has negative values (a ReLU's output has none).
    conv = Unit("nor_conv_3x3", (4, 4, 8), 8)
    (x,) = unit_inputs(conv, acts)
    assert x.min() < 0 < x.max()
    assert unit_inputs(Unit("relu", (3, 3, 5), 5), acts) is None  # no such tensor
    # The int8 unit is calibrated on that tensor and timed on it, quantized at its scale.
    flatbuffer = convert_tflite(unit_model(conv), "int8", samples=[[x]])
    timer = TFLiteTimer(flatbuffer, inputs=[x])
    (detail,) = timer.interp.get_input_details()
    scale, zero = detail["quantization"]
    assert scale == pytest.approx((x.max() - min(x.min(), 0)) / 255, rel=0.05)
    np.testing.assert_array_equal(timer.interp.get_tensor(detail["index"]),
                                  np.clip(np.round(x / scale) + zero, -128, 127))
    with pytest.raises(ValueError, match="The model has 1 inputs; got 2 arrays"):
        TFLiteTimer(flatbuffer, inputs=[x, x])


@same_worker("latency-tables")
def test_table_file_round_trips_and_resumes(tables):
    path = str(tables["dir"] / "nb201.json")
    again = LatencyTable.load(path)
    assert again.to_dict() == tables["nb201"].to_dict()
    g = sample_genotypes("nb201", 1, seed=3)[0]
    assert again.predict(g) == tables["nb201"].predict(g)
    # Measuring again into the same file measures nothing new: every value is kept.
    seen = []
    resumed = measure_table(NB201, "nb201", runs=3, warmup=1, path=path,
                            progress=lambda *a: seen.append(a))
    assert seen == [] and resumed.entries == again.entries
    # A table measured under older graph marks warns when loaded; measuring into it again
    # brings its marks up to date and times nothing.
    path = str(tables["dir"] / "s3.json")
    d = LatencyTable.load(path).to_dict()
    old = json.loads(json.dumps(d))
    del old["settings"]["marks"]
    for entry in old["entries"]["float32"].values():
        entry["relu_first"] = not entry["relu_first"]
    stale = tables["dir"] / "s3_marks1.json"
    stale.write_text(json.dumps(old))
    with pytest.warns(UserWarning, match="older graph marks"):
        LatencyTable.load(str(stale))
    remarked = measure_table(SEARCH_LAYOUT, "s3", precisions=("float32",), runs=3, warmup=1,
                             path=str(stale), progress=lambda *a: seen.append(a))
    assert seen == [] and remarked.to_dict() == d


@same_worker("latency-tables")
def test_bad_tables_raise_clear_errors_and_write_nothing(tables, tmp_path):
    table = tables["nb201"]
    d = table.to_dict()
    # A table for another space: the DARTS space's ops are missing, and named.
    with pytest.raises(LatencyTableError, match=r"measured for space 'nb201'.*sep_conv_3x3"):
        table.check_space(("sep_conv_3x3", "skip_connect"), DARTS)
    with pytest.raises(LatencyTableError, match="measured for space 'nb201'"):
        table.predict(get_genotype("DARTS_V2"), layout=NetworkLayout(
            "darts", (8, 8, 1), 10, layers=4, channels=4))
    # A missing shape: the unit is named.
    key = "nor_conv_3x3@4x4x8_c8_s1"
    broken = json.loads(json.dumps(d))
    del broken["entries"]["float32"][key]
    with pytest.raises(LatencyTableError, match=f"lacks 1 unit.*{key}"):
        LatencyTable.from_dict(broken).check_space(table.primitives)
    # A negative latency, a missing precision, not a table.
    broken = json.loads(json.dumps(d))
    broken["entries"]["int8"][key]["ms"] = -0.5
    with pytest.raises(LatencyTableError, match=f"{key}.*int8.*non-negative"):
        LatencyTable.from_dict(broken)
    with pytest.raises(LatencyTableError, match="no 'float16' latencies"):
        table.predict(sample_genotypes("nb201", 1)[0], "float16")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"entries": {}}))
    with pytest.raises(LatencyTableError, match="Not a latency table"):
        LatencyTable.load(str(bad))
    # A failed save (here a device description JSON cannot hold) leaves no file.
    out = tmp_path / "sub" / "t.json"
    os.makedirs(out.parent)
    unsaveable = LatencyTable.from_dict(d)
    unsaveable.device["clock"] = object()
    with pytest.raises(TypeError):
        unsaveable.save(str(out))
    assert os.listdir(out.parent) == []


@same_worker("latency-tables")
def test_csv_import(tables, tmp_path):
    """Times taken elsewhere (one row per unit file) make a table like the original."""
    table = tables["nb201"]
    path = tmp_path / "phone.csv"
    rows = ["unit,precision,ms,spread_ms"]
    for p, units in table.entries.items():
        rows += [f"{p}/{k}.tflite,{p},{v['ms']},{v['spread_ms']}" for k, v in units.items()]
    path.write_text("\n".join(rows) + "\n")
    imported = LatencyTable.from_csv(str(path), NB201, "nb201", table.primitives,
                                     {"name": "phone"})
    g = sample_genotypes("nb201", 1, seed=2)[0]
    # Without the ReLU marks the shared ReLUs are counted in full: never below.
    assert imported.predict(g) >= table.predict(g)
    assert imported.device == {"name": "phone"}
    # The marks are the converted graphs', whatever the device: given here (as
    # `keras-darts latency-table --import` does), the same times predict the same.
    floats = LatencyTable.from_csv(str(path), NB201, "nb201", table.primitives)
    del floats.entries["int8"]
    mark_units(floats)
    for key, entry in floats.entries["float32"].items():
        for mark in ("relu_first", "fusable_output"):
            assert entry[mark] == table.entries["float32"][key][mark], (key, mark)
    for g in sample_genotypes("nb201", 3, seed=2):
        assert floats.predict(g) == table.predict(g)
    for text, message in (
            ("unit,ms\nx,1\n", "needs the columns"),
            ("unit,precision,ms\nrelu@8x8x4_c4_s1,float32,-1\n", "line 2.*non-negative"),
            ("unit,precision,ms\nrelu@8x8x4_c4_s1,fp64,1\n", "line 2: unknown precision 'fp64'"),
            ("unit,precision,ms\nrelu,float32,1\n", "line 2: Malformed latency unit"),
            ("unit,precision,ms\nrelu@8x8x4_c4_s1,int8,1\nrelu@8x8x4_c4_s1,int8,2\n",
             "line 3.*given twice")):
        path.write_text(text)
        with pytest.raises(LatencyTableError, match=message):
            LatencyTable.from_csv(str(path), NB201, "nb201", table.primitives)


@same_worker("latency-tables")
def test_prediction_follows_measured_network_latency(tables):
    """Predicted and measured float32 latency rank a cheap and a costly cell the same way."""
    from keras_darts.latency import convert_tflite, time_tflite

    table = tables["nb201"]
    cheap = "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    costly = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
              "nor_conv_3x3~2|")
    measured = []
    for g in (cheap, costly):
        model = NB201.build(g)
        measured.append(time_tflite(convert_tflite(model), runs=20)["ms"])
    assert table.predict(cheap) < table.predict(costly)
    assert measured[0] < measured[1]
    assert np.isfinite(measured).all()


# ---------------------------------------------------------------------------- the latency term
@pytest.fixture(scope="module")
def search_table(tables):
    """The tiny searches' table file."""
    return str(tables["dir"] / "s3.json")


@same_worker("latency-tables")
def test_expected_latency_of_one_hot_weights_is_the_genotypes_units(tables):
    """At a genotype's one-hot weights the expected latency is the sum of its network's units."""
    from keras_darts.strategies import BilevelSearch

    table = tables["s3"]
    model = BilevelSearch(num_classes=10, input_shape=(8, 8, 1), layers=3, channels=4, steps=1,
                          multiplier=1, stem_multiplier=1, space="s3",
                          latency={"table": table, "weight": 1.0})
    objective = model.latency_objective
    for g in sample_genotypes("s3", 3, seed=4, steps=1, multiplier=1):
        units = SEARCH_LAYOUT.genotype_units(g)
        expected = float(objective.expected(model.discrete_cell_weights(g)))
        assert expected == pytest.approx(sum(table.ms(u) for u in units), rel=1e-5)
        assert table.predict(g) <= expected + 1e-6  # shared ReLUs taken off
    # Uniform alphas (the initial ones, nearly) give the reference.
    assert float(objective.latency(model.architecture)) == pytest.approx(objective.reference,
                                                                         rel=1e-3)


@pytest.mark.slow
@same_worker("latency-tables")
@pytest.mark.parametrize("method", registered_strategies())
def test_latency_term_lowers_the_expected_latency_of_every_strategy(method, search_table,
                                                                      tmp_path):
    """The same search (same seed) with a heavy latency weight ends at a lower expected latency
    than without: every strategy's alpha updates take the latency gradient."""
    from helpers import SEARCH

    from keras_darts.search import SearchConfig, run_search

    latency = {}
    for weight in (0.0, 1e4):
        config = SearchConfig(method=method, **{**SEARCH, "max_train": 32,
                                                "arch_learning_rate": 0.5,
                                                "checkpoint_every": None},
                              latency_table=search_table, latency_weight=weight)
        result = run_search(config, str(tmp_path / f"w{weight}"), verbose=0)
        # The part of the expected latency that the alphas move (the fixed parts aside).
        constant = result.model.latency_objective.expected.constant
        latency[weight] = result.summary["latency"]["expected_ms"] - constant
        assert result.history["latency_ms"][-1] > 0
        assert result.summary["latency"]["predicted_ms"] > 0
    # Same seed, deterministic: without the term reaching the alphas both runs are identical.
    assert latency[1e4] < latency[0.0], latency


@same_worker("latency-tables")
def test_bad_latency_settings_fail_before_anything_is_written(tables, search_table, tmp_path):
    from helpers import SEARCH

    from keras_darts.search import SearchConfig, run_search

    out = tmp_path / "run"
    nb201 = str(tables["dir"] / "nb201.json")
    other_cells = tmp_path / "other_cells.json"  # the same table, for cells of 2 nodes
    d = tables["s3"].to_dict()
    d["network"].update(steps=2, multiplier=2)
    other_cells.write_text(json.dumps(d))
    cases = [(dict(latency_weight=1.0), "need a latency_table"),
             (dict(latency_table=search_table, latency_weight=-1.0), "latency_weight must be >= 0"),
             (dict(latency_table=search_table, latency_target=0.0), "latency_target must be"),
             (dict(latency_table=search_table, latency_precision="int8"), "no 'int8' latencies"),
             (dict(latency_table=nb201, latency_weight=1.0), "nb201-family network"),
             (dict(latency_table=str(other_cells)), "steps=2, multiplier=2")]
    for values, message in cases:
        with pytest.raises(ValueError, match=message):
            run_search(SearchConfig(method="darts", **SEARCH, **values), str(out), verbose=0)
        assert not out.exists()


@pytest.mark.slow
def test_cli_measures_imports_and_predicts(tmp_path):
    """`keras-darts latency-table` measures a table (and writes unit models, and imports their
    times); `keras-darts latency` predicts and measures a genotype's network; bad input fails
    with a message and no file."""
    import subprocess

    from helpers import child_env, cli, run_cli

    sizes = ["--space", "nb201", "--preset", "nb201-small", "--channels", "4",
             "--input-shape", "8", "8", "1"]
    table = tmp_path / "t.json"
    out = run_cli("latency-table", *sizes, "--runs", "3", "--warmup", "1",
                  "--precisions", "float32", "--out", str(table))
    assert "float32 units" in out.stdout
    loaded = LatencyTable.load(str(table))
    assert loaded.layout == NetworkLayout("nb201", (8, 8, 1), 10, channels=4, cells_per_stage=1)
    arch = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    out = run_cli("latency", arch, "--table", str(table), "--measure", "--json")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["predicted_ms"]["float32"] == pytest.approx(loaded.predict(arch), abs=1e-4)
    assert result["measured_ms"]["float32"] > 0
    # Unit models to time elsewhere, and their times imported back.
    units = tmp_path / "units"
    run_cli("latency-table", *sizes, "--precisions", "float32", "--write-units", str(units))
    files = sorted(os.listdir(units / "float32"))
    assert files == sorted(k + ".tflite" for k in loaded.entries["float32"])
    csv_path = tmp_path / "times.csv"
    csv_path.write_text("unit,precision,ms\n" + "".join(
        f"float32/{name},float32,0.5\n" for name in files))
    imported = tmp_path / "phone.json"
    run_cli("latency-table", *sizes, "--import", str(csv_path), "--device", "a phone",
            "--out", str(imported))
    assert LatencyTable.load(str(imported)).device == {"description": "a phone"}
    # A CSV that lacks a unit: the error names it, nothing is written.
    csv_path.write_text("unit,precision,ms\n" + "".join(
        f"float32/{name},float32,0.5\n" for name in files[1:]))
    bad = tmp_path / "bad.json"
    proc = subprocess.run(cli("latency-table", *sizes, "--import", str(csv_path), "--out",
                              str(bad)), capture_output=True, text=True, env=child_env())
    assert proc.returncode == 2 and files[0][:-len(".tflite")] in proc.stderr
    assert not bad.exists()
