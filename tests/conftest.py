"""Shared test setup: quiet, hermetic TensorFlow/Keras, tiny supernet settings, and the
searches that several modules assert on, run once per session."""

import os
import tempfile

# Hermetic: Keras writes ~/.keras/keras.json on import; keep it out of $HOME.
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="keras_home_"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402

from helpers import CLI_SEARCH, DARTS_PD, SEARCH, TINY, SharedSearch, run_cli  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """The slow tests that share no fixture with others run first.

    Under `--dist loadgroup` every such test is a unit of work of its own, handed out in this
    order once the shared groups are out: long ones first and the many short ones last, so
    neither worker waits at the end for the other's last long test. Grouped tests keep their
    order (their module fixtures are built once).
    """
    def alone_and_slow(item):
        return item.get_closest_marker("slow") and not item.get_closest_marker("xdist_group")

    items.sort(key=lambda item: 0 if alone_and_slow(item) else 1)  # stable: otherwise as found


@pytest.fixture
def determinism_off():
    """Determinism off while the test runs, whatever an earlier test left (`set_seed` turns it
    on for the process), and back to that afterwards: a run that leaks it is then seen."""
    from keras_darts.utils import determinism_enabled, set_determinism

    before = determinism_enabled()
    set_determinism(False)
    yield
    set_determinism(before)


@pytest.fixture
def tiny():
    """Keyword arguments of a tiny supernet."""
    return dict(TINY)


@pytest.fixture(scope="session")
def shared_search(tmp_path_factory):
    """`shared_search(method, order)`: the session's `SharedSearch` of that strategy.

    Each is run on first use (graph mode, the `small` preset with `helpers.SEARCH`: tiny,
    on digits) and reused by every later test; tests that train it further call
    its `reset()` when they are done.
    """
    from keras_darts.search import SearchConfig
    from keras_darts.strategies import get_strategy

    runs = {}

    def get(method, order=1):
        if (method, order) not in runs:
            own = get_strategy(method).Settings.names()  # `order`: bi-level methods only
            extra = {"order": order} if "order" in own else {}
            config = SearchConfig.from_preset("small", method=method, **extra, **SEARCH)
            out = tmp_path_factory.mktemp(f"search-{method}-{order}")
            runs[method, order] = SharedSearch(config, str(out))
        return runs[method, order]

    return get


@pytest.fixture(scope="session")
def darts_pd_run(tmp_path_factory):
    """`(config, result)` of the three-stage DARTS-PD `run_search` of `helpers.DARTS_PD`."""
    from keras_darts.search import SearchConfig, run_search

    config = SearchConfig.from_preset("small", **DARTS_PD)
    out = tmp_path_factory.mktemp("darts-pd") / "pd"
    return config, run_search(config, str(out), verbose=0)


@pytest.fixture(scope="session")
def cli_search(tmp_path_factory):
    """`(out_dir, completed_process)` of `keras-darts search CLI_SEARCH`, run once."""
    out = tmp_path_factory.mktemp("cli-search") / "run"
    return out, run_cli("search", *CLI_SEARCH, "--out", str(out))
