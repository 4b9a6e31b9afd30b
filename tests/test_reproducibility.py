"""Same seed, same search: the CLI run twice, each time in a fresh process, writes the same files.

In-process checks (two runs one after the other) cannot see what differs between processes:
free memory when Grappler optimises a graph (its memory optimizer reorders large gradient sums
when memory looks short), Python hash seeds, the order of anything created per process. These
tests start every run in a new interpreter and compare the run directories byte for byte.
"""

import json

import pytest
from tensorflow.core.protobuf import rewriter_config_pb2
from tensorflow.python.framework import config as tf_config

from helpers import CLI_SEARCH, TINY_TRAIN, run_cli, same_worker
from keras_darts.utils import determinism_enabled, restores_determinism, set_determinism, set_seed
from keras_darts.utils.seed import _function_call_config

def _memory_optimization():
    return _function_call_config().graph_options.rewrite_options.memory_optimization


def test_determinism_is_op_determinism_and_no_memory_optimizer_for_the_run_only(determinism_off):
    @restores_determinism
    def run(fail):
        set_seed(1)  # as run_search and run_training do
        assert tf_config.is_op_determinism_enabled()
        assert _memory_optimization() == rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
        assert determinism_enabled()
        if fail:
            raise RuntimeError("failed run")

    run(False)
    assert not determinism_enabled() and not tf_config.is_op_determinism_enabled()
    assert _memory_optimization() != rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
    with pytest.raises(RuntimeError, match="failed run"):
        run(True)
    assert not determinism_enabled()
    set_determinism(True)
    run(False)  # found on, left on
    assert determinism_enabled()
    set_seed(2, deterministic=False)  # leaves the setting as it is
    assert determinism_enabled()


# Tiny CLI searches (CLI_SEARCH: digits, 3 cells of one node, 2 epochs of 4 steps) for every
# strategy, and one NAS-Bench-201 search (the other space). DARTS-PD runs its three stages at
# their smallest: 1 search epoch, 1 path-wise epoch, 4 scored paths.
NB201_SEARCH = ["--dataset", "digits", "--space", "nb201", "--channels", "4",
                "--cells-per-stage", "1", "--max-train", "64", "--batch-size", "8", "--epochs",
                "2", "--seed", "3", "--verbose", "0"]
CASES = {
    "darts-2": [*CLI_SEARCH, "--method", "darts", "--order", "2"],
    "single-level": [*CLI_SEARCH, "--method", "single-level"],
    "single-darts": [*CLI_SEARCH, "--method", "single-darts"],
    "sp-darts": [*CLI_SEARCH, "--method", "sp-darts"],
    "d-darts": [*CLI_SEARCH, "--method", "d-darts"],
    "darts-pd": [*CLI_SEARCH, "--method", "darts-pd", "--epochs", "1", "--pd-epochs", "1",
                 "--es-trials", "4", "--es-population", "2", "--es-tournament", "2",
                 "--es-calibration-batches", "1", "--eval-layers", "3", "--eval-channels", "4"],
    "nb201-sp-darts": [*NB201_SEARCH, "--method", "sp-darts"],
}
# What must be equal. DARTS-PD: stage 1's search, stage 2's path-wise training, stage 3's
# scored paths and the best path.
SEARCH_FILES = ("alpha_history.json", "genotype.json", "genotype_history.json", "history.csv")
PD_FILES = ("stage1/alpha_history.json", "stage1/genotype.json", "stage2/history.csv",
            "stage3/trials.json", "genotype.json")


def assert_same_run(first, second, files):
    """The two run directories hold byte-identical `files`, and the alphas moved."""
    for name in files:
        assert (first / name).read_text() == (second / name).read_text(), name
    history = json.loads((first / files[0]).read_text())["history"]
    assert len(history) >= 2  # the initial alphas and at least one epoch's
    assert history[0]["alphas"] != history[-1]["alphas"]  # something was searched


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_search_twice_in_fresh_processes_is_the_same_search(tmp_path, case):
    for run in ("first", "second"):
        run_cli("search", *CASES[case], "--out", str(tmp_path / run))
    assert_same_run(tmp_path / "first", tmp_path / "second",
                    PD_FILES if case == "darts-pd" else SEARCH_FILES)


# The search-then-train path (`search`, then `train` on the derived genotype) with the tiny CLI
# search: the shared CLI run is the first search.


@pytest.mark.slow
@same_worker("cli-search")
def test_search_then_training_in_fresh_processes_repeats_the_shared_cli_run(tmp_path, cli_search):
    first, _ = cli_search  # first-order DARTS, the CLI's default method
    second = tmp_path / "second"
    run_cli("search", *CLI_SEARCH, "--out", str(second / "search"))
    assert_same_run(first, second / "search", SEARCH_FILES)
    for search, train in ((first, tmp_path / "first-train"), (second / "search",
                                                               second / "train")):
        run_cli("train", *TINY_TRAIN, "--genotype", str(search / "genotype.json"),
                "--out", str(train))
    assert (tmp_path / "first-train" / "history.csv").read_text() == (
        second / "train" / "history.csv").read_text()
    accuracy = [json.loads((t / "summary.json").read_text())["test_accuracy"]
                for t in (tmp_path / "first-train", second / "train")]
    assert accuracy[0] == accuracy[1] and 0 < accuracy[0] <= 1


@pytest.mark.slow
def test_supernet_gradients_are_the_same_call_after_call_at_the_small_preset_size(
        determinism_off):
    """The `small` preset's supernet (5 cells, 3 nodes, the whole DARTS space, 28x28
    Fashion-MNIST) at batch 16: big enough that Grappler's memory optimizer rewrote its gradient sums on this
    project's machine (24 GiB), which made 533 of its 585 gradients differ from one call of the
    same function to the next; the tiny supernets above are too small to show it. Determinism
    turns that optimizer off: three calls give bit-identical gradients."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_darts.data import dataset_info
    from keras_darts.search import SearchConfig, build_search_model, config_search_data

    config = SearchConfig.from_preset("small", epochs=1, max_train=64, batch_size=16, seed=5)

    @restores_determinism
    def gradients_three_times():
        set_seed(config.seed)
        model = build_search_model(config, dataset_info(config.dataset))
        data = config_search_data(config, model.data_mode)
        _, (x, y) = next(iter(data.train))
        model(x[:1])
        model.compile(epochs=1, steps_per_epoch=data.steps_per_epoch)
        variables = model.arch_variables + model.weight_variables

        @tf.function
        def gradients(x, y):
            with tf.GradientTape() as tape:
                _, scaled, _ = model.compute_search_loss(x, y)
            return tape.gradient(scaled, variables)

        return [[keras.ops.convert_to_numpy(g) for g in gradients(x, y)] for _ in range(3)]

    first, *others = gradients_three_times()
    assert len(first) > 500
    for other in others:
        assert all(np.array_equal(a, b) for a, b in zip(first, other))
