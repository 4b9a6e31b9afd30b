"""The speed/memory benchmark script runs and writes the JSON it documents."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "search_step.py")

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import search_step  # noqa: E402


def test_time_steps_reports_first_and_median_step_and_memory():
    calls = []

    def step():
        calls.append(1)
        return float(len(bytearray(len(calls) * 1024 * 1024)))

    timing = search_step._time_steps(step, 4)
    assert len(calls) == 5
    assert timing["first_step_s"] >= 0 and timing["median_step_s"] >= 0
    assert timing["peak_rss_mb"] > 0
    if os.path.exists("/proc/self/clear_refs"):
        assert 0 < timing["steady_peak_rss_mb"] <= timing["peak_rss_mb"]


def test_every_torch_kind_is_a_strategy():
    assert set(search_step.TORCH_KINDS) <= set(search_step.STRATEGIES)


@pytest.mark.slow
def test_benchmark_writes_json_for_a_strategy(tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--config", "tiny", "--strategies", "darts-pd", "--steps", "2",
         "--reference", "--out", str(out)], capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert doc == json.loads(proc.stdout)
    assert doc["machine"]["cpus"] == os.cpu_count()
    (mine,) = [r for r in doc["results"] if r["implementation"] == "keras_darts"]
    assert mine["strategy"] == "darts-pd" and mine["config"] == "tiny"
    assert mine["median_step_s"] > 0 and mine["first_step_s"] >= mine["median_step_s"]
    assert mine["images_per_s"] == pytest.approx(mine["batch"] / mine["median_step_s"], rel=0.01)
    assert mine["peak_rss_mb"] > 100 and 0 < mine["weights_m"] < 1
    # DARTS-PD has no PyTorch reference; without torch the script says it skips it.
    assert not [r for r in doc["results"] if r["implementation"] == "pytorch"]
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "torch is not installed" in proc.stderr


def test_benchmark_rejects_an_unknown_strategy():
    proc = subprocess.run([sys.executable, SCRIPT, "--strategies", "darts-3"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert "darts-3" in proc.stderr


@pytest.mark.slow
def test_input_pipeline_benchmark_writes_a_result_per_case_and_skips_finished_ones(tmp_path):
    out, data = tmp_path / "pipeline.json", tmp_path / "jpegs"
    script = os.path.join(ROOT, "benchmarks", "input_pipeline.py")
    args = [sys.executable, script, "--images", "200", "--batches", "2", "--warmup", "1",
            "--data", str(data), "--out", str(out)]
    run = subprocess.run(args + ["--cases", "folder-jpeg-32"], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    doc = json.loads(out.read_text())
    (first,) = doc["results"]
    assert first["case"] == "folder-jpeg-32" and first["images_per_s"] > 0
    assert doc["jpeg_files"]["count"] == 200 and doc["consumption"]["images_per_s"] > 0
    assert first["cpu_share"] == pytest.approx(  # rounded to 3 decimals
        doc["consumption"]["images_per_s"] / first["images_per_s"], abs=6e-4)
    again = subprocess.run(args + ["--cases", "folder-jpeg-32", "arrays-28",
                                   "folder-jpeg-32-cached"],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert [r["case"] for r in doc["results"]] == ["folder-jpeg-32", "arrays-28",
                                                   "folder-jpeg-32-cached"]
    assert doc["results"][0] == first  # not timed again
    assert doc["results"][2]["images_per_s"] > 0 and doc["results"][2]["open_s"] > 0
