"""One registry mechanism (`keras_darts.registry`) and third-party plugins by entry point.

The plugins here are real installed distributions: a `*.dist-info` folder with an
`entry_points.txt` on `sys.path`, found by `importlib.metadata` as pip-installed packages are.
"""

import json
import sys
import textwrap

import numpy as np
import pytest

from keras_darts.architecture.activations import ACTIVATIONS
from keras_darts.cli import main
from keras_darts.networks.reference import NETWORKS
from keras_darts.pipelines import PIPELINES, Pipeline, get_pipeline
from keras_darts.registry import Registry
from keras_darts.search import search_method
from keras_darts.search_space.ops import OPS, build_op, op_spec
from keras_darts.search_space.spaces import SPACES, get_search_space, register_search_space
from keras_darts.strategies import STRATEGIES, SearchModel, create_search_model, get_strategy

TINY = ["--layers", "3", "--channels", "4", "--steps", "2", "--multiplier", "2",
        "--stem-multiplier", "1"]


def test_registry_registers_looks_up_and_refuses_clearly():
    widgets = Registry("widget")
    widgets.register("round", round)
    assert widgets.get("round") is round and "round" in widgets and "square" not in widgets
    widgets.register("round", round)  # the same object again: nothing to refuse
    with pytest.raises(ValueError, match=r"Widget 'round' is already registered. Pass "
                                         r"overwrite=True"):
        widgets.register("round", abs)
    widgets.register("round", abs, overwrite=True)
    assert widgets.get("round") is abs

    @widgets.register("floor")
    def floor(x):
        return int(x // 1)

    assert floor(2.7) == 2 and widgets.names() == ["floor", "round"]
    with pytest.raises(ValueError, match=r"Unknown widget 'ceil'. Known widgets: "
                                         r"\['floor', 'round'\]"):
        widgets.get("ceil")
    for bad in ("", None, 3):
        with pytest.raises(ValueError, match="widget name must be a non-empty string"):
            widgets.register(bad, round)
    checked = Registry("number", check=lambda name, v: None if isinstance(v, int) else (
        _ for _ in ()).throw(ValueError(f"{name!r} is not an int")))
    with pytest.raises(ValueError, match="'x' is not an int"):
        checked.register("x", "1")


def test_every_kind_has_one_registry_with_its_builtins():
    assert {"sep_conv_3x3", "none", "nor_conv_3x3"} <= set(OPS.names())
    assert {"softmax", "sigmoid"} <= set(ACTIVATIONS.names())
    assert {"darts", "nb201", "s1"} <= set(SPACES.names())
    assert {"plain-cnn", "resnet20"} <= set(NETWORKS.names())
    assert set(STRATEGIES.names()) >= {"darts", "single-level", "single-darts", "sp-darts",
                                       "d-darts"}
    # A multi-stage method is a pipeline of named stages, in a registry of its own.
    assert "darts-pd" in PIPELINES and "darts-pd" not in STRATEGIES
    assert get_pipeline("darts-pd").stages == ("search", "prune", "train_paths", "search_paths")
    assert search_method("darts-pd") is get_pipeline("darts-pd")
    with pytest.raises(ValueError, match="names stages \\['evolve'\\] it does not define"):
        PIPELINES.register("half", type("Half", (Pipeline,), {"stages": ("evolve",)}))
    # A method name is a strategy's or a pipeline's, never both.
    with pytest.raises(ValueError, match="'darts' is already a search strategy's name"):
        PIPELINES.register("darts", type("Twice", (Pipeline,), {}))
    with pytest.raises(ValueError, match="'darts-pd' is already a pipeline's name"):
        STRATEGIES.register("darts-pd", type("Twice", (SearchModel,), {}))
    assert search_method("darts").__name__ == "BilevelSearch"
    # Strategies register where they are defined, not in a hand-kept list.
    assert get_strategy("sp-darts").__module__ == "keras_darts.strategies.sp_darts"
    with pytest.raises(ValueError, match="a strategy must subclass SearchModel"):
        STRATEGIES.register("not-a-model", dict)
    with pytest.raises(ValueError, match="unknown cell family 'hex'"):
        register_search_space("hex-space", "hex", ("sep_conv_3x3",))
    with pytest.raises(ValueError, match="needs distinct candidate ops"):
        register_search_space("twice", "darts", ("sep_conv_3x3", "sep_conv_3x3"))
    assert "hex-space" not in SPACES and "twice" not in SPACES


PLUGIN = '''
"""An out-of-tree package: a strategy with its settings, an op and a search space."""
import dataclasses

from keras_darts.search_space.ops import ReLUConvBN
from keras_darts.strategies import SearchModel
from keras_darts.utils.config import MethodSettings, setting


@dataclasses.dataclass
class WeightsOnlySettings(MethodSettings):
    weight_steps: int = setting(1, "weight updates per batch")

    def validate(self, config=None):
        if self.weight_steps < 1:
            raise ValueError(f"weight_steps must be >= 1. Received: {self.weight_steps}")
        return self


class WeightsOnlySearch(SearchModel):
    """Trains the supernet's weights only: the alphas keep their initial values."""

    data_mode = "single"
    reports_arch_loss = False
    Settings = WeightsOnlySettings

    def __init__(self, weight_steps=1, **kwargs):
        self.weight_steps = WeightsOnlySettings(weight_steps).validate().weight_steps
        super().__init__(**kwargs)

    def train_step(self, data):
        x, y = self.unpack_single(data)
        for _ in range(self.weight_steps):
            loss, logits = self.weight_step(x, y)
        return self.update_metrics(loss, y, logits)


def conv_1x1_plugin(channels, stride, affine):
    return ReLUConvBN(channels, 1, stride, 0, affine)


CONVS_SPACE = ("darts", ("skip_connect", "conv_1x1_plugin"))
'''

ENTRY_POINTS = '''
[keras_darts.strategies]
weights-only = kd_test_plugin:WeightsOnlySearch

[keras_darts.ops]
conv_1x1_plugin = kd_test_plugin:conv_1x1_plugin

[keras_darts.spaces]
plugin-convs = kd_test_plugin:CONVS_SPACE
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """Installs `kd_test_plugin` (a module and its dist-info) on sys.path; removes it after."""
    (tmp_path / "kd_test_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "kd_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kd-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for registry, name in ((STRATEGIES, "weights-only"), (OPS, "conv_1x1_plugin"),
                           (SPACES, "plugin-convs")):
        registry.unregister(name)
    sys.modules.pop("kd_test_plugin", None)


def test_an_out_of_tree_strategy_runs_from_the_cli_by_its_entry_point(installed_plugin,
                                                                       tmp_path, capsys):
    assert "weights-only" in STRATEGIES.names()  # listed before it is loaded
    assert "kd_test_plugin" not in sys.modules
    assert get_strategy("weights-only").__name__ == "WeightsOnlySearch"
    with pytest.raises(SystemExit):
        main(["search", "--method", "weights-only", "--help"])
    assert "settings of weights-only:\n  --weight-steps" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["search", "--method", "weights-only", "--dataset", "digits", *TINY,
                 "--epochs", "1", "--max-train", "64", "--batch-size", "16", "--seed", "3",
                 "--weight-steps", "2", "--out", str(out), "--verbose", "0"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["method"] == "weights-only" and config["weight_steps"] == 2
    assert main(["search", "--method", "weights-only", "--weight-steps", "0",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "weight_steps must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    assert json.loads((out / "genotype.json").read_text())["method"] == "weights-only"
    # Its own train_step ran: the weights trained, the alphas never moved.
    history = json.loads((out / "alpha_history.json").read_text())["history"]
    first, last = (np.array(history[i]["alphas"]["normal"]) for i in (0, -1))
    np.testing.assert_array_equal(first, last)
    assert json.loads((out / "summary.json").read_text())["final"]["loss"] > 0


def test_plugin_ops_and_spaces_build_a_supernet(installed_plugin):
    spec = op_spec("conv_1x1_plugin")
    assert spec.name == "conv_1x1_plugin" and not spec.parameter_free
    assert build_op("conv_1x1_plugin", 4, stride=2)(np.zeros((2, 8, 8, 4), "float32")).shape == (
        2, 4, 4, 4)
    space = get_search_space("plugin-convs")
    assert space.primitives == ("skip_connect", "conv_1x1_plugin")
    model = create_search_model("darts", num_classes=10, input_shape=(8, 8, 1), layers=3,
                                channels=4, steps=2, multiplier=2, stem_multiplier=1,
                                space="plugin-convs", seed=0)
    logits = model(np.zeros((2, 8, 8, 1), "float32"), training=False)
    assert logits.shape == (2, 10)
    assert set(op for op, _ in model.genotype().normal) <= set(space.primitives)


def test_a_broken_plugin_names_itself_and_spoils_nothing_else(tmp_path, monkeypatch):
    info = tmp_path / "kd_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kd-broken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[keras_darts.strategies]\nbroken = kd_no_such_module:Search\n"
        "not-a-model = json:dumps\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=r"Could not load search strategy 'broken' from entry "
                                         r"point 'broken' \(kd_no_such_module:Search\) of group "
                                         r"'keras_darts.strategies', package 'kd-broken': "
                                         r"ModuleNotFoundError"):
        get_strategy("broken")
    with pytest.raises(ValueError, match=r"entry point 'not-a-model'.*a strategy must subclass "
                                         r"SearchModel"):
        get_strategy("not-a-model")
    assert "not-a-model" not in STRATEGIES.registered()
    assert get_strategy("darts").__name__ == "BilevelSearch"
