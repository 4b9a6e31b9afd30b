import json
import tempfile

import numpy as np
import pytest

from helpers import same_worker
from keras_darts.cli import main
from keras_darts.networks import build_network
from keras_darts.profiling import export_latency


def test_genotype_command_prints_json(capsys):
    assert main(["genotype", "DARTS_V2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["normal"][0] == ["sep_conv_3x3", 0]


def test_genotype_command_parses_reference_text(capsys):
    text = ("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], "
            "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])")
    assert main(["genotype", text]) == 0
    assert "node 0 <- skip_connect" in capsys.readouterr().out


def test_bad_genotype_exits_2_with_message(capsys):
    assert main(["genotype", "Genotype(normal=[('conv_9x9', 0)])"]) == 2
    assert "missing fields" in capsys.readouterr().err
    assert main(["genotype", "NOPE"]) == 2
    assert "Unknown genotype 'NOPE'" in capsys.readouterr().err


def test_search_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["search", "--out", str(out), "--learning-rate", "-1"]) == 2
    assert "learning_rate must be >= 0" in capsys.readouterr().err
    assert main(["search", "--out", str(out), "--dataset", "nope"]) == 2
    assert "Unknown dataset 'nope'" in capsys.readouterr().err
    assert not out.exists()


@same_worker("cli-search")
def test_console_entry_point_runs_a_tiny_search(cli_search):
    out, proc = cli_search  # `python -m keras_darts.cli search ...` in a child process
    assert "Derived genotype" in proc.stdout
    saved = json.loads((out / "genotype.json").read_text())
    assert saved["method"] == "darts" and len(saved["genotype"]["normal"]) == 2  # 1 node


def test_profile_command_json(capsys):
    assert main(["profile", "DARTS_V2", "--layers", "3", "--channels", "4", "--input-shape",
                 "8", "8", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["params_m"] > 0 and out["macs_m"] > 0 and out["input_shape"] == [8, 8, 1]


def test_profile_latency_times_every_runtime_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the exports go
    assert main(["profile", "DARTS_V2", "--layers", "3", "--channels", "4", "--input-shape",
                 "8", "8", "1", "--latency", "--json"]) == 0
    latency = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["latency"]
    assert sorted(latency) == ["keras_ms", "onnxruntime_ms", "tflite_float32_ms",
                               "tflite_int8_ms"]
    assert all(v > 0 for v in latency.values())
    # (AutoGraph leaves its generated modules there, as it does for any tf.function.)
    left = [p.name for p in tmp_path.iterdir() if not p.name.startswith("__autograph_generated")]
    assert left == []
    with pytest.raises(ValueError, match="Unknown runtime 'tensorrt'"):
        export_latency(build_network("DARTS_V2", layers=3, channels=4, input_shape=(8, 8, 1),
                                     auxiliary=False), ["tensorrt"])


def test_train_and_export_bad_input(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--genotype", "DARTS_V9"]) == 2
    assert "Unknown genotype 'DARTS_V9'" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--drop-path", "1.5"]) == 2
    assert "drop_path must be in" in capsys.readouterr().err
    assert not out.exists()
    assert main(["export", "--model", str(tmp_path / "none.keras"), "--out", str(out)]) == 2
    assert "No model file" in capsys.readouterr().err
    assert main(["export", "--model", "x.keras", "--out", str(out), "--quantizations",
                 "int4"]) == 2
    assert "Unknown quantizations ['int4']" in capsys.readouterr().err
    assert not out.exists()


def test_search_with_new_methods_and_spaces(tmp_path, capsys):
    out = tmp_path / "sp"
    args = ["search", "--preset", "nb201-small", "--method", "sp-darts", "--space", "nb201",
            "--out", str(out), "--epochs", "2", "--channels", "4", "--batch-size", "16",
            "--max-train", "64", "--t-sp", "0.002", "--verbose", "0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    saved = json.loads((out / "genotype.json").read_text())
    assert saved["method"] == "sp-darts" and saved["genotype"]["arch"] in printed
    assert json.loads((out / "config.json").read_text())["t_sp"] == 0.002
    # How far the alphas moved and how long the derived cell has held, from the histories.
    moved = json.loads((out / "summary.json").read_text())["architecture"]
    alphas = json.loads((out / "alpha_history.json").read_text())["history"]
    first, last = (np.array(alphas[i]["alphas"]["normal"]) for i in (0, -1))
    assert moved["alpha_change_max"] == pytest.approx(np.abs(last - first).max(), abs=1e-4)
    assert moved["alpha_change_max"] > 0
    assert moved["epochs"] == 2 and 1 <= moved["stable_epochs"] <= 2
    texts = [g["text"] for g in json.loads((out / "genotype_history.json").read_text())]
    assert (texts[0] == texts[1]) == (moved["stable_epochs"] == 2)
    assert (f"the derived cell has been the same for the last {moved['stable_epochs']} of 2 "
            "epochs") in printed


@pytest.mark.parametrize("flags,match", [
    (["--method", "sp-darts", "--t-sp", "0"], "t_sp must be a positive temperature"),
    (["--method", "sp-darts", "--p-low", "0.9", "--p-up", "0.1"], "must not exceed p_up"),
    (["--method", "sp-darts", "--p-up", "2"], "p_up must be a probability"),
    (["--space", "s1"], "needs op_subsets"),
    (["--space", "s9"], "Unknown search space 's9'"),
    (["--method", "single-darts", "--batches", "many"], "batches must be"),
    (["--method", "d-darts", "--threshold", "1.5"], "threshold must be in \\(0, 1\\)"),
    (["--method", "d-darts", "--parser", "greedy"], "Unknown parser 'greedy'"),
    (["--method", "darts-pd", "--top-k", "0"], "top_k must be a positive integer"),
    (["--method", "darts-pd", "--space", "s2", "--top-k", "3"], "larger than the ops of an edge"),
    (["--method", "darts-pd", "--es-population", "2", "--es-tournament", "4"],
     "es_population \\(2\\) is smaller than es_tournament"),
    (["--method", "darts-pd", "--es-min-params", "2", "--es-max-params", "1"],
     "Empty bound range"),
    (["--partial-channels", "3"], "partial_channels=3 must divide channels=8"),
    # DARTS-PD opens its data once, before its first file.
    (["--method", "darts-pd", "--dataset", "/nonexistent/photos"], "/nonexistent/photos"),
    (["--stem", "mobilenet"], "stem must be one of"),
    (["--stem", "imagenet", "--preset", "nb201-small"], "stem='imagenet' needs a DARTS-family"),
])
def test_new_method_bad_flags_exit_2(tmp_path, capsys, flags, match):
    import re

    out = tmp_path / "run"
    assert main(["search", "--out", str(out), *flags]) == 2
    assert re.search(match, capsys.readouterr().err)
    assert not out.exists()
