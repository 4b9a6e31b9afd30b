"""Settings belong to their method: `SearchConfig` (shared) and each strategy's `Settings`."""

import contextlib
import io
import json

import pytest

from keras_darts.cli import main
from keras_darts.resume import describe_differences
from keras_darts.search import SearchConfig, load_config
from keras_darts.strategies import get_strategy


def test_a_config_takes_its_methods_settings_and_refuses_others():
    cfg = SearchConfig.from_preset("small", method="sp-darts", t_sp=2e-3, order=2)
    assert cfg.validate().t_sp == 2e-3 and cfg.settings.order == 2 and cfg.epochs == 3
    assert type(cfg.settings) is get_strategy("sp-darts").Settings
    assert cfg.strategy_kwargs()["t_sp"] == 2e-3 and "es_trials" not in cfg.strategy_kwargs()
    cfg.t_sp = 3e-3  # a method's setting is read and written by name, as a shared one
    assert cfg.settings.t_sp == 3e-3
    with pytest.raises(ValueError, match=r"Unknown search settings \['t_sp', 'w01'\] for method "
                                         r"'darts' \(t_sp: a setting of \['sp-darts'\]; w01: a "
                                         r"setting of \['d-darts'\]\)"):
        SearchConfig.from_preset("small", method="darts", t_sp=1e-3, w01=1.0)
    with pytest.raises(ValueError, match=r"wings: unknown"):
        SearchConfig(method="darts", wings=2)
    with pytest.raises(AttributeError, match="method 'darts' has no setting 't_sp'"):
        SearchConfig().t_sp
    # Checked in one place, whether the config or the strategy's constructor meets them.
    with pytest.raises(ValueError, match="t_sm must be a temperature larger than t_sp"):
        SearchConfig(method="sp-darts", t_sp=0.1, t_sm=0.01).validate()
    with pytest.raises(ValueError, match="t_sm must be a temperature larger than t_sp"):
        get_strategy("sp-darts")(num_classes=10, input_shape=(8, 8, 1), t_sp=0.1, t_sm=0.01)


def test_presets_hold_a_methods_part_and_darts_pd_takes_its_stage1_settings():
    pd = SearchConfig.from_preset("nb201-small", method="darts-pd")
    assert pd.base_method == "single-darts" and pd.pd_epochs == 4 and pd.eval_channels == 8
    assert pd.batches == "same"  # Single-DARTS's setting, for stage 1
    pd = SearchConfig.from_preset("small", method="darts-pd", base_method="sp-darts", t_sp=2e-3,
                                  es_trials=7)
    stage1 = pd.validate().inner_config()
    assert stage1.method == "sp-darts" and stage1.t_sp == 2e-3 and stage1.epochs == pd.epochs
    assert "es_trials" not in stage1.to_dict() and pd.to_dict()["t_sp"] == 2e-3
    assert SearchConfig.from_preset("paper", method="darts-pd").pd_epochs == 600  # no CPU part
    with pytest.raises(ValueError, match="base_method 'd-darts' has per-cell alphas"):
        SearchConfig(method="darts-pd", base_method="d-darts").validate()
    with pytest.raises(ValueError, match="base_method must be a differentiable search method"):
        SearchConfig(method="darts-pd", base_method="darts-pd").validate()
    from keras_darts.data import dataset_info
    from keras_darts.search import build_search_model

    with pytest.raises(ValueError, match=r"'darts-pd' is a pipeline of stages \(search, prune"):
        build_search_model(pd, dataset_info("embedded"))


def test_config_files_hold_the_methods_settings_and_old_files_still_load(tmp_path):
    cfg = SearchConfig.from_preset("small", method="d-darts", w01=2.0)
    saved = cfg.to_dict()
    assert saved["w01"] == 2.0 and "t_sp" not in saved and "order" not in saved
    path = tmp_path / "config.json"
    path.write_text(json.dumps(saved))
    assert load_config(path) == cfg
    # A file from before methods owned their settings held every method's.
    old = {**saved, "order": 1, "t_sp": 1e-3, "pd_epochs": 600, "es_trials": 1000}
    path.write_text(json.dumps(old))
    assert load_config(path) == cfg
    assert describe_differences(old, cfg) == ""  # resuming such a run compares what it has
    assert describe_differences(old, SearchConfig(**{**saved, "w01": 3.0})) \
        == "w01: 2.0 -> 3.0"
    # A setting added to a method after a run was saved compares as its default.
    trimmed = {k: v for k, v in saved.items() if k != "min_node_inputs"}
    assert describe_differences(trimmed, cfg) == ""


def _help(*args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
        main(["search", *args, "--help"])
    assert stop.value.code == 0
    return out.getvalue()


def test_each_methods_help_shows_its_own_flags(capsys, tmp_path):
    sp, dd = _help("--method", "sp-darts"), _help("--method", "d-darts")
    assert "settings of sp-darts" in sp and "--t-sp" in sp and "--w01" not in sp
    assert "--w01" in dd and "--t-sp" not in dd and "--order" not in dd
    assert "--learning-rate" in sp and "--learning-rate" in dd  # the shared ones
    assert "Methods: d-darts, darts, darts-pd" in " ".join(sp.split())
    pd = _help("--method", "darts-pd", "--base-method", "sp-darts")
    assert "--es-trials" in pd and "settings of sp-darts (its stage-1 search)" in pd
    assert "--t-sp" in pd and "--batches" not in pd
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        main(["search", "--method", "darts", "--t-sp", "0.01", "--out", str(out)])
    assert stop.value.code == 2
    assert ("--t-sp is a setting of ['sp-darts'], not of method 'darts'"
            in capsys.readouterr().err)
    assert not out.exists()
