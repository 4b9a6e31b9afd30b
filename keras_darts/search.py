"""Running a search end to end: configuration, presets, outputs in a run directory."""

import dataclasses
import json
import os
import time

from keras_darts.utils.config import (
    RUN_OPTIONS, MethodSettings, check_non_negative, check_positive_ints, check_run_options,
)
from keras_darts.utils.precision import check_loss_scaling_devices, check_precision
from keras_darts.utils.seed import restores_determinism

# The shared run settings of each preset. A method's own part of a preset is declared with its
# settings (`MethodSettings.presets`, e.g. DARTS-PD's stage sizes on the CPU presets).
PRESETS = {
    # The DARTS paper's CIFAR-10 search (Liu et al., 2019; reference implementation).
    "paper": dict(dataset="cifar10", layers=8, channels=16, steps=4, multiplier=4,
                  stem_multiplier=3, batch_size=64, epochs=50, learning_rate=0.025,
                  min_learning_rate=0.001, momentum=0.9, weight_decay=3e-4, grad_clip=5.0,
                  arch_learning_rate=3e-4, train_portion=0.5,
                  max_train=None, warmup_epochs=0),
    # PC-DARTS's search directly on ImageNet (Xu et al., 2020), which DARTS-PD's ImageNet
    # stage 1 follows: 8 cells, C=16, the ImageNet stem (224 -> 28 before the first cell),
    # partial channels K=2 with edge normalisation, 10% of each class's images for the
    # weights and 2.5% for the alphas (12.5% of ImageNet, split 0.8 / 0.2), batch 1024,
    # SGD 0.5 (cosine to 0), alphas Adam 6e-3 frozen for the first 35 of 50 epochs.
    "imagenet": dict(dataset="imagenet2012", image_size=224, stem="imagenet", layers=8,
                     channels=16, steps=4, multiplier=4, stem_multiplier=3, batch_size=1024,
                     epochs=50, learning_rate=0.5, min_learning_rate=0.0, momentum=0.9,
                     weight_decay=3e-4, grad_clip=5.0, arch_learning_rate=6e-3,
                     train_portion=0.8, train_subset=0.125, max_train=None, warmup_epochs=35,
                     partial_channels=2, edge_normalization=True),
    # A few minutes on 2 CPU cores, on the embedded Fashion-MNIST subset.
    "small": dict(dataset="fashion_mnist_subset", layers=5, channels=8, steps=3, multiplier=3,
                  stem_multiplier=3, batch_size=32, epochs=3, learning_rate=0.05,
                  min_learning_rate=0.001, momentum=0.9, weight_decay=3e-4, grad_clip=5.0,
                  arch_learning_rate=3e-3, train_portion=0.5,
                  max_train=1280, warmup_epochs=0),
    # NAS-Bench-201's CIFAR-10 search settings (Dong and Yang, 2020): C=16, N=5 cells per
    # stage, batch 64, 50 epochs, SGD 0.025 -> 0.001 with weight decay 5e-4, alphas Adam 3e-4.
    "nb201": dict(dataset="cifar10", space="nb201", channels=16, cells_per_stage=5,
                  batch_size=64, epochs=50, learning_rate=0.025, min_learning_rate=0.001,
                  momentum=0.9, weight_decay=5e-4, grad_clip=5.0, arch_learning_rate=3e-4,
                  train_portion=0.5, max_train=None, warmup_epochs=0),
    # NAS-Bench-201 at CPU size on the embedded dataset. 8 epochs (320 single-level steps,
    # ~70 s on 2 cores): with 3, Single-DARTS's derived cell changed every epoch; with 8 it
    # is the same over the last 3 epochs on seeds 0, 1 and 2 (README, "search quality").
    "nb201-small": dict(dataset="fashion_mnist_subset", space="nb201", channels=8,
                        cells_per_stage=1, batch_size=32, epochs=8, learning_rate=0.05,
                        min_learning_rate=0.001, momentum=0.9, weight_decay=3e-4,
                        grad_clip=5.0, arch_learning_rate=3e-3, train_portion=0.5,
                        max_train=1280, warmup_epochs=0),
}


@dataclasses.dataclass(init=False, eq=False, repr=False)
class SearchConfig:
    """A search's settings: the shared run settings, and the method's own (`settings`).

    The fields below are what every method shares. Each method declares its
    own settings (`order` for DARTS, `t_sp` for SP-DARTS, ...) in its
    strategy's `Settings` dataclass (`keras_darts.utils.config.MethodSettings`);
    they are passed here by name, beside the shared ones, and read back as
    attributes (`config.order`) or through `config.settings`. DARTS-PD's
    config also takes the settings of its stage-1 method (`inner_settings`).
    `keras-darts search --method M --help` lists a method's settings.

    Attributes:
        method: a registered strategy (`"darts"`, `"single-level"`,
            `"single-darts"`, `"sp-darts"`, `"d-darts"`, `"darts-pd"`, or a
            plugin's, see `keras_darts.registry`).
        space: the search space (`"darts"`, `"darts7"`, `"nb201"`, `"s1"` ...
            `"s4"`).
        op_subsets: JSON file of per-edge op subsets (`s1`, or to restrict
            another space).
        cells_per_stage: NAS-Bench-201 cells per stage.
        dataset: a dataset name (see `keras_darts.data.dataset_names()`),
            `"tfds:NAME"` for any prepared tfds dataset, or a folder of class
            folders of images (`keras_darts.data.ImageFolderSource`); image
            folders and tfds datasets are streamed, never loaded whole.
        data_dir: tensorflow_datasets directory.
        image_size: side of the images the supernet takes, for datasets of
            varying image sizes (folders, ImageNet; None: 224).
        layers, channels, steps, multiplier, stem_multiplier: supernet sizes.
        stem: `"cifar"` (one 3x3 conv at full resolution) or `"imagenet"`
            (three stride-2 convs, 224 -> 28, before the first cell: the
            `imagenet` preset, as PC-DARTS searches ImageNet).
        batch_size: batch size (of each half in bi-level searches).
        epochs: search epochs.
        learning_rate, min_learning_rate: cosine schedule of the weights.
        momentum, weight_decay, grad_clip: weight optimizer settings.
        arch_learning_rate, arch_weight_decay, arch_beta_1, arch_beta_2:
            architecture optimizer settings (`arch_weight_decay=None`: the
            method's default, 1e-3 for DARTS and 0 for Single-DARTS and
            SP-DARTS).
        train_portion: share of the training set for the weights.
        max_train: use at most this many training images (None: all).
        train_subset: search on this fraction of each class's training
            images, a seeded class-balanced sample (PC-DARTS searches
            ImageNet on 0.1; None: all). Taken before `max_train`.
        cache: read the dataset's files once, when the run starts, and keep
            the encoded images in memory (`keras_darts.data.CachedSource`;
            it must fit in a third of the free memory). The batches do not change.
        augmentation: random crop and flip during the search.
        warmup_epochs: epochs with frozen alphas.
        activation: how alphas become mixing weights (None: the method's
            default, sigmoid for Single-DARTS, softmax otherwise).
        temperature: the activation's temperature.
        partial_channels: PC-DARTS's partial channel connections `K` (1: off),
            for every method.
        edge_normalization: PC-DARTS's edge normalisation, for every method.
        distribute: `"default"` (one device), `"mirrored"` (local GPUs or
            `devices`), `"multi-worker"` (from `TF_CONFIG`) or `"tpu"`;
            `batch_size` is then the global batch.
        devices: comma-separated devices for `"mirrored"` (e.g.
            `"/cpu:0,/cpu:1"`); None: all local GPUs.
        connect_timeout: seconds a `"multi-worker"` process waits for the
            other workers before it fails.
        checkpoint_every: also checkpoint every this many steps inside an
            epoch (None: at epoch ends only). A run resumes from its last
            checkpoint when started again with the same output directory.
        seed: the run's seed (data order, augmentation, initialisation).
        deterministic: turn determinism on for the run (`set_determinism`: op
            determinism, and no Grappler memory optimizer): the same seed gives
            the same alphas and genotype on the CPU, in any process.
        steps_per_execution: steps per traced call.
        run_eagerly: debug mode without tracing.
        precision: `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"` (one
            device): the supernet computes in that dtype; alphas, BatchNorm
            statistics and losses stay float32 (`keras_darts.utils.precision`).
        recompute: recompute the supernet edges' activations in the backward
            pass instead of keeping them (less memory, one more forward pass of
            the edges; `SearchModel`).
        latency_table: a latency table (JSON, `keras-darts latency-table`) of
            the network the search is for: its expected latency under the
            alphas is logged as `latency_ms` and, with a weight or a target,
            is a loss on the alphas (`keras_darts.latency.LatencyObjective`).
        latency_weight: the latency loss's weight (0: latency logged only).
        latency_target: a latency target in ms: the loss is
            `weight * max(0, latency / target - 1)` (None: `weight * latency /
            latency at uniform alphas`).
        latency_precision: the table's precision searched for (`"float32"`
            or `"int8"`).
        settings: the method's own settings (its strategy's `Settings`).
        inner_settings: the settings of the method's stage-1 method
            (DARTS-PD's `base_method`), or None.

    Raises:
        ValueError: for an unknown method, or a setting that is neither shared
            nor the method's (naming the methods that have it).

    Example:

    >>> cfg = SearchConfig.from_preset("small", method="sp-darts", t_sp=2e-3, epochs=5)
    >>> cfg.validate().t_sp, cfg.settings.p_warmup_epochs
    (0.002, 1)
    """

    method: str = "darts"
    space: str = "darts"
    op_subsets: str = None
    dataset: str = "cifar10"
    data_dir: str = None
    image_size: int = None
    cells_per_stage: int = 5
    layers: int = 8
    channels: int = 16
    steps: int = 4
    multiplier: int = 4
    stem_multiplier: int = 3
    stem: str = "cifar"
    batch_size: int = 64
    epochs: int = 50
    learning_rate: float = 0.025
    min_learning_rate: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    arch_learning_rate: float = 3e-4
    arch_weight_decay: float = None
    arch_beta_1: float = 0.5
    arch_beta_2: float = 0.999
    train_portion: float = 0.5
    max_train: int = None
    train_subset: float = None
    cache: bool = False
    augmentation: bool = True
    warmup_epochs: int = 0
    activation: str = None
    temperature: float = 1.0
    partial_channels: int = 1
    edge_normalization: bool = False
    distribute: str = "default"
    devices: str = None
    connect_timeout: float = 300.0
    checkpoint_every: int = None
    seed: int = 0
    deterministic: bool = True
    steps_per_execution: int = 1
    run_eagerly: bool = False
    precision: str = "float32"
    recompute: bool = False
    latency_table: str = None
    latency_weight: float = 0.0
    latency_target: float = None
    latency_precision: str = "float32"
    settings: MethodSettings = None
    inner_settings: MethodSettings = None

    def __init__(self, method="darts", settings=None, inner_settings=None, **values):
        object.__setattr__(self, "method", method)
        for f in _shared_fields():
            if f.name != "method":
                object.__setattr__(self, f.name, values.pop(f.name, f.default))
        given = {}
        for part in (inner_settings, settings):  # objects or dicts (`dataclasses.replace`)
            given.update(part.to_dict() if isinstance(part, MethodSettings) else part or {})
        own, inner = method_settings(method, {**given, **values})
        object.__setattr__(self, "settings", own)
        object.__setattr__(self, "inner_settings", inner)

    def _parts(self):
        """The method's settings and its stage-1 method's (where it has one)."""
        parts = (self.__dict__.get("settings"), self.__dict__.get("inner_settings"))
        return [part for part in parts if part is not None]

    # Reading and writing a method's setting by name, as a shared one (`config.order`).
    def __getattr__(self, name):
        if name in ("settings", "inner_settings") or name.startswith("__"):
            raise AttributeError(name)
        for part in self._parts():
            if name in part.names():
                return getattr(part, name)
        raise AttributeError(f"SearchConfig of method {self.method!r} has no setting {name!r}.")

    def __setattr__(self, name, value):
        for part in self._parts():
            if name in part.names() and name not in self.__dict__:
                setattr(part, name, value)
                return
        object.__setattr__(self, name, value)

    def __eq__(self, other):
        return type(other) is type(self) and other.to_dict() == self.to_dict()

    def __repr__(self):
        return "SearchConfig(" + ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items()) + ")"

    @classmethod
    def from_preset(cls, preset, **overrides):
        """A config from a preset (`"paper"`, `"imagenet"`, `"small"`, `"nb201"`,
        `"nb201-small"`) with overrides.

        The preset gives the shared settings and, for the method (and its
        stage-1 method), the method's part of that preset
        (`MethodSettings.presets`); overrides that are None keep the preset's.

        Raises:
            ValueError: for an unknown preset, method or setting.
        """
        if preset not in PRESETS:
            raise ValueError(f"Unknown preset {preset!r}. Known presets: {sorted(PRESETS)}.")
        overrides = {k: v for k, v in overrides.items() if v is not None}
        values = dict(PRESETS[preset])
        classes = settings_classes(overrides.get("method", cls.method), overrides, preset)
        for i, (_, settings_cls) in enumerate(classes):
            part = settings_cls.presets.get(preset, {})
            # The method's part overrides the shared preset; its stage-1 method's only adds.
            values.update({k: v for k, v in part.items() if i == 0 or k not in values})
        return cls(**{**values, **overrides})

    @classmethod
    def from_dict(cls, values):
        """A config from a saved dict (`config.json`), old files included.

        Files written before methods owned their settings hold every method's
        settings; those of other methods are dropped.

        Raises:
            ValueError: for an unknown method or setting.
        """
        values = dict(values)
        method = values.pop("method", cls.method)
        known = {name for _, settings_cls in settings_classes(method, values)
                 for name in settings_cls.names()}
        others = set(all_method_settings()) - known
        return cls(method, **{k: v for k, v in values.items() if k not in others})

    def validate(self):
        """Checks values that need no model or data; returns self.

        Raises:
            ValueError: naming the first bad setting.
        """
        from keras_darts.search_space.spaces import get_search_space

        get_search_space(self.space, self.op_subsets)
        check_positive_ints(self, ("epochs", "batch_size", "layers", "channels", "steps",
                                   "multiplier", "stem_multiplier", "steps_per_execution",
                                   "cells_per_stage", "partial_channels"))
        if self.image_size is not None:
            check_positive_ints(self, ("image_size",))
        if self.channels % self.partial_channels:
            raise ValueError(f"partial_channels={self.partial_channels} must divide "
                             f"channels={self.channels}.")
        from keras_darts.search_space.supernet import check_stem

        check_stem(self.stem, self.channels)
        if self.multiplier > self.steps:
            raise ValueError(f"multiplier ({self.multiplier}) cannot exceed steps ({self.steps}).")
        check_non_negative(self, ("learning_rate", "min_learning_rate", "arch_learning_rate",
                                  "weight_decay", "momentum"))
        if self.arch_weight_decay is not None:
            check_non_negative(self, ("arch_weight_decay",))
        if self.min_learning_rate > self.learning_rate:
            raise ValueError(f"min_learning_rate ({self.min_learning_rate}) exceeds "
                             f"learning_rate ({self.learning_rate}).")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1). Received: momentum={self.momentum!r}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ValueError(f"grad_clip must be positive. Received: grad_clip={self.grad_clip!r}")
        if not 0 < self.train_portion < 1:
            raise ValueError(f"train_portion must be in (0, 1). Received: {self.train_portion!r}")
        if self.train_subset is not None and not 0 < self.train_subset <= 1:
            raise ValueError(f"train_subset must be a fraction in (0, 1]. "
                             f"Received: {self.train_subset!r}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive. Received: {self.temperature!r}")
        if not isinstance(self.warmup_epochs, int) or self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be >= 0. Received: {self.warmup_epochs!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer. Received: {self.seed!r}")
        check_run_options(self)
        self._validate_latency()
        check_precision(self.precision)
        check_loss_scaling_devices(self.precision, self.distribute != "default")
        if self.activation is not None:
            from keras_darts.architecture.activations import get_activation

            get_activation(self.activation)
        for part in self._parts():
            part.validate(self)
        return self

    def _validate_latency(self):
        from keras_darts.latency import PRECISIONS, LatencyTable
        from keras_darts.latency.objective import check_search_table
        from keras_darts.search_space.spaces import get_search_space

        if not isinstance(self.latency_weight, (int, float)) or not self.latency_weight >= 0:
            raise ValueError("latency_weight must be >= 0. Received: "
                             f"latency_weight={self.latency_weight!r}")
        if self.latency_target is not None and not self.latency_target > 0:
            raise ValueError("latency_target must be a positive number of ms. Received: "
                             f"latency_target={self.latency_target!r}")
        if self.latency_precision not in PRECISIONS:
            raise ValueError(f"latency_precision must be one of {list(PRECISIONS)}. "
                             f"Received: {self.latency_precision!r}")
        if self.latency_table is None:
            if self.latency_weight > 0 or self.latency_target is not None:
                raise ValueError("latency_weight and latency_target need a latency_table "
                                 "(keras-darts latency-table).")
            return
        check_search_table(LatencyTable.load(self.latency_table),
                           get_search_space(self.space, self.op_subsets), self.steps,
                           self.multiplier, self.latency_precision)

    def latency_objective(self):
        """The strategy's `latency` argument (None without a table)."""
        if self.latency_table is None:
            return None
        return {"table": self.latency_table, "weight": self.latency_weight,
                "target_ms": self.latency_target, "precision": self.latency_precision}

    def strategy_kwargs(self):
        """The constructor arguments of the method's strategy that this config sets.

        Returns:
            A dict: the shared sizes and space, plus the method's settings that
            its constructor takes (`MethodSettings.strategy_kwargs`).
        """
        kwargs = dict(layers=self.layers, channels=self.channels, steps=self.steps,
                      multiplier=self.multiplier, stem_multiplier=self.stem_multiplier,
                      stem=self.stem, space=self.space, op_subsets=self.op_subsets,
                      cells_per_stage=self.cells_per_stage, temperature=self.temperature,
                      partial_channels=self.partial_channels,
                      edge_normalization=self.edge_normalization,
                      grad_clip=self.grad_clip, seed=self.seed, precision=self.precision,
                      recompute=self.recompute)
        if self.activation is not None:
            kwargs["activation"] = self.activation
        if self.latency_table is not None:
            kwargs["latency"] = self.latency_objective()
        kwargs.update(self.settings.strategy_kwargs())
        return kwargs

    def inner_config(self):
        """The config of the method's stage-1 search (DARTS-PD's `base_method`): the shared
        settings and the inner method's settings.

        Raises:
            ValueError: if the method runs no other method.
        """
        if self.inner_settings is None:
            raise ValueError(f"Method {self.method!r} runs no other search method.")
        shared = {f.name: getattr(self, f.name) for f in _shared_fields()}
        shared["method"] = self.settings.inner_method()
        return SearchConfig(**shared, **self.inner_settings.to_dict())

    def resolved_arch_weight_decay(self):
        """`arch_weight_decay`, or the method's default when it is None."""
        from keras_darts.strategies import get_strategy

        if self.arch_weight_decay is not None:
            return self.arch_weight_decay
        return get_strategy(self.method).default_arch_weight_decay

    def defaults(self):
        """The defaults of this config's settings, shared and the method's (see `check_same_run`)."""
        out = {f.name: f.default for f in _shared_fields()}
        for part in self._parts():
            out.update(type(part)().to_dict())
        return out

    def to_dict(self):
        """The config as a flat JSON-ready dict: the shared settings, then the method's."""
        out = {f.name: getattr(self, f.name) for f in _shared_fields()}
        for part in self._parts():
            out.update(part.to_dict())
        return out


def _shared_fields():
    """`SearchConfig`'s shared settings (its fields but the method's settings objects)."""
    return [f for f in dataclasses.fields(SearchConfig)
            if f.name not in ("settings", "inner_settings")]


def search_method(name):
    """The class of search method `name`: a strategy (`SearchModel` subclass) or a pipeline.

    Args:
        name: a registered strategy or pipeline (built-in or a plugin's).

    Returns:
        The `SearchModel` or `Pipeline` subclass.

    Raises:
        ValueError: for an unknown name, listing every method.

    Example:

    >>> search_method("darts-pd").__name__, search_method("darts").__name__
    ('DartsPD', 'BilevelSearch')
    """
    from keras_darts.pipelines import PIPELINES
    from keras_darts.strategies import STRATEGIES

    for registry in (STRATEGIES, PIPELINES):
        if name in registry:
            return registry.get(name)
    raise ValueError(f"Unknown search method {name!r}. Known search methods: "
                     f"{search_method_names()}.")


def search_method_names():
    """Sorted names of every search method: strategies and pipelines (plugins included).

    Example:

    >>> {"darts", "darts-pd"} <= set(search_method_names())
    True
    """
    from keras_darts.pipelines import PIPELINES
    from keras_darts.strategies import STRATEGIES

    return sorted(set(STRATEGIES.names()) | set(PIPELINES.names()))


def settings_classes(method, values=None, preset=None):
    """The settings classes a config of `method` takes: the method's, then its stage-1 method's.

    The stage-1 method (`MethodSettings.inner_method`, DARTS-PD's `base_method`)
    is the one the method's settings name, given `values` over the method's part
    of `preset`.

    Args:
        method: a registered search method.
        values: `{setting: value}` given (others are ignored here).
        preset: a preset whose method part applies, or None.

    Returns:
        `[(method, Settings class)]`, plus `(inner method, its Settings class)`
        for a method that runs another.

    Raises:
        ValueError: for an unknown method or stage-1 method.

    Example:

    >>> [name for name, _ in settings_classes("darts-pd", {"base_method": "sp-darts"})]
    ['darts-pd', 'sp-darts']
    """
    own = search_method(method).Settings
    given = {**own.presets.get(preset, {}), **(values or {})}
    inner = own(**{k: v for k, v in given.items() if k in own.names()}).inner_method()
    if inner is None:
        return [(method, own)]
    return [(method, own), (inner, search_method(inner).Settings)]


def all_method_settings():
    """`{setting name: [methods that have it]}` over the registered methods."""
    from keras_darts.pipelines import PIPELINES
    from keras_darts.strategies import STRATEGIES

    out = {}
    methods = {**STRATEGIES.registered(), **PIPELINES.registered()}
    for name, cls in sorted(methods.items()):
        for setting_name in cls.Settings.names():
            out.setdefault(setting_name, []).append(name)
    return out


def method_settings(method, values):
    """The method's `Settings` (and its stage-1 method's) from `values` by name.

    Args:
        method: a registered method.
        values: `{setting: value}`, every one of them the method's or its
            stage-1 method's.

    Returns:
        `(settings, inner_settings)`; `inner_settings` is None for a method
        that runs no other.

    Raises:
        ValueError: for an unknown method, or a setting neither has (naming the
            methods that do have it).

    Example:

    >>> method_settings("darts", {"order": 2})[0].order
    2
    """
    parts = [settings_cls(**{k: v for k, v in values.items() if k in settings_cls.names()})
             for _, settings_cls in settings_classes(method, values)]
    known = {name for part in parts for name in part.names()}
    unknown = sorted(set(values) - known)
    if unknown:
        owners = all_method_settings()
        detail = "; ".join(f"{k}: a setting of {owners[k]}" if k in owners else f"{k}: unknown"
                           for k in unknown)
        raise ValueError(f"Unknown search settings {unknown} for method {method!r} ({detail}). "
                         f"Its own settings: {sorted(known)}.")
    return parts[0], parts[1] if len(parts) > 1 else None


@dataclasses.dataclass
class SearchResult:
    """What a search returns.

    Attributes:
        genotype: the final derived `Genotype`.
        model: the trained search model.
        history: `fit()`'s history dict.
        summary: figures written to `summary.json` (test accuracy, timings).
        out_dir: the run directory.

    Example:

    >>> result = run_search(SearchConfig.from_preset("small"), "runs/demo")  # doctest: +SKIP
    >>> result.summary["median_step_s"]  # doctest: +SKIP
    """

    genotype: object
    model: object
    history: dict
    summary: dict
    out_dir: str


def distribution_strategy(config):
    """The `tf.distribute` strategy of a config (`distribute`, `devices`), checked against the batch.

    Args:
        config: a `SearchConfig` (or any config with `distribute`, `devices`
            and `batch_size`).

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        ValueError: for a bad option or `TF_CONFIG`, or a global batch that the
            replicas cannot share equally.

    Example:

    >>> distribution_strategy(SearchConfig(distribute="default")).num_replicas_in_sync
    1
    """
    from keras_darts.utils.distribute import get_distribution_strategy

    devices = None if not config.devices else [d.strip() for d in config.devices.split(",")]
    strategy = get_distribution_strategy(config.distribute, devices, config.connect_timeout)
    n = strategy.num_replicas_in_sync
    if config.batch_size % n:
        raise ValueError(f"batch_size={config.batch_size} (the global batch) must divide evenly "
                         f"over the {n} replicas of distribute={config.distribute!r}.")
    return strategy


def build_search_model(config, info):
    """Creates the search model of a config for a dataset.

    Args:
        config: a `SearchConfig`.
        info: the dataset's `DatasetInfo`.

    Returns:
        The (uncompiled) search model.

    Raises:
        ValueError: for impossible model sizes, or a pipeline's method (its
            stages build their own models).

    Example:

    >>> model = build_search_model(SearchConfig.from_preset("small"), dataset_info("embedded"))
    """
    from keras_darts.pipelines import Pipeline

    method = search_method(config.method)
    if issubclass(method, Pipeline):
        raise ValueError(f"Method {config.method!r} is a pipeline of stages "
                         f"({', '.join(method.stages)}); its stages build their own models.")
    return method(num_classes=info.num_classes, input_shape=info.image_shape,
                  **config.strategy_kwargs())


def config_search_data(config, mode, cutout=0, source=None, strategy=None):
    """The search data of a config, as `run_search` streams it.

    Args:
        config: a `SearchConfig`.
        mode: the strategy's `data_mode` (`"bilevel"`, `"single"`, ...).
        cutout: cutout side in pixels (0: off; DARTS-PD's stage 2 sets `pd_cutout`).
        source: the config's dataset opened already (`config_source`); None:
            open it.
        strategy: the run's `tf.distribute` strategy: each input pipeline then
            reads only its replicas' part of every batch (`SearchData.strategy`).

    Returns:
        A `SearchData` (its stream is a function of the seed and the position).

    Raises:
        ValueError: for too little data for one batch.
        DatasetNotAvailableError: if the dataset is not on this machine.

    Example:

    >>> data = config_search_data(SearchConfig.from_preset("small"), "bilevel")  # doctest: +SKIP
    >>> data.steps_per_epoch  # doctest: +SKIP
    20
    """
    from keras_darts.data import search_data

    from keras_darts.data.sources import config_source

    data = search_data(source or config_source(config), batch_size=config.batch_size, mode=mode,
                       train_portion=config.train_portion, seed=config.seed,
                       augmentation=config.augmentation, max_train=config.max_train,
                       cutout=cutout, train_subset=config.train_subset,
                       replicas=strategy.num_replicas_in_sync if strategy else 1)
    data.strategy = strategy
    return data


@restores_determinism
def run_search(config, out_dir, verbose=1, callbacks=(), source=None):
    """Runs a search and writes its results to `out_dir`.

    Everything that can fail on bad input (settings, dataset, model sizes)
    is checked before the run directory is created, so a bad command leaves
    no files behind. The run directory then holds `config.json`,
    `genotype.json` (updated every epoch), `genotype_history.json`,
    `alpha_history.json` / `.csv`, a `.dot` and `.png` per cell kind,
    `history.csv` (with the IES and the discretized accuracy per epoch), TensorBoard logs in `logs/`,
    `checkpoints/` (the training state, see `keras_darts.resume`) and `summary.json`.

    Run again with the same `out_dir` after a crash or a kill, the search
    goes on from its last checkpoint (epoch end, or every
    `config.checkpoint_every` steps) and ends with the genotype of an
    uninterrupted run. Under `distribute="multi-worker"` the chief writes to
    `out_dir` and every other worker to `out_dir/workers/<type>-<index>`.

    Args:
        config: a `SearchConfig`.
        out_dir: the run directory.
        verbose: Keras progress output (0, 1, 2).
        callbacks: extra callbacks.
        source: the config's dataset opened already (`config_source`), to
            open it once for several stages (DARTS-PD); None: open it here.

    Returns:
        A `SearchResult`.

    Raises:
        ValueError: for invalid settings or model sizes, or an `out_dir`
            holding a checkpoint of a run with other settings.
        DatasetNotAvailableError: if the dataset is not on this machine.

    Example:

    >>> cfg = SearchConfig.from_preset("small", epochs=1)
    >>> result = run_search(cfg, "runs/demo")  # doctest: +SKIP
    >>> print(result.genotype)  # doctest: +SKIP
    """
    import keras

    from keras_darts.callbacks import (
        AlphaHistory, ArchitectureWarmup, DiscretizedAccuracy, GenotypeCheckpoint, StepTimer,
    )
    from keras_darts.resume import check_same_run, fit_resumable
    from keras_darts.utils.distribute import task_dir
    from keras_darts.data.sources import config_source
    from keras_darts.optimizers import search_optimizers
    from keras_darts.utils import atomic_write_json, set_seed

    from keras_darts.pipelines import Pipeline

    method = search_method(config.method)
    if issubclass(method, Pipeline):  # a multi-stage method runs its stages (and validates)
        return method().run(config, out_dir, verbose, callbacks)
    config.validate()
    set_seed(config.seed, config.deterministic)
    strategy = distribution_strategy(config)
    if source is None:
        source = config_source(config)  # a bad dataset fails here, before any file is written
    with strategy.scope():
        model = build_search_model(config, source.info)
    data = config_search_data(config, model.data_mode, source=source, strategy=strategy)
    with strategy.scope():  # optimizers belong to the strategy they were created under
        w_opt, a_opt = search_optimizers(
            config.epochs, data.steps_per_epoch, config.learning_rate, config.min_learning_rate,
            config.momentum, config.weight_decay, config.arch_learning_rate,
            config.resolved_arch_weight_decay(), config.arch_beta_1, config.arch_beta_2)
        model.compile(optimizer=w_opt, arch_optimizer=a_opt, epochs=config.epochs,
                      steps_per_epoch=data.steps_per_epoch,
                      steps_per_execution=config.steps_per_execution,
                      run_eagerly=config.run_eagerly)

    out_dir = task_dir(out_dir, strategy)
    check_same_run(out_dir, config, ignore=RUN_OPTIONS)
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(os.path.join(out_dir, "config.json"), config.to_dict())
    timer = StepTimer()
    cbs = [
        ArchitectureWarmup(config.warmup_epochs),
        *model.default_callbacks(config.epochs),
        timer,
        DiscretizedAccuracy(data.validation),
        AlphaHistory(os.path.join(out_dir, "alpha_history.json"),
                     os.path.join(out_dir, "alpha_history.csv"), os.path.join(out_dir, "logs")),
        GenotypeCheckpoint(out_dir, metadata={"method": config.method,
                                              **config.settings.to_dict(),
                                              "dataset": config.dataset, "seed": config.seed}),
        keras.callbacks.TensorBoard(os.path.join(out_dir, "logs"), write_graph=False),
        *callbacks,
    ]
    start = time.time()
    history = fit_resumable(model, data, config.epochs, os.path.join(out_dir, "checkpoints"),
                            os.path.join(out_dir, "history.csv"), cbs,
                            validation_data=data.validation, verbose=verbose,
                            every_steps=config.checkpoint_every)
    genotype = model.genotype()
    summary = {
        "genotype": genotype.to_text(),
        "final": {k: float(v[-1]) for k, v in history.items()},
        "wall_s": timer.run_wall_s(time.time() - start),  # all sessions of a resumed run
        "steps_per_epoch": data.steps_per_epoch,
        "architecture": search_dynamics(out_dir),
        **timer.summary(),
    }
    derivation = model.derivation_summary()
    if derivation is not None:
        summary["derivation"] = derivation
    if model.latency_objective is not None:
        summary["latency"] = model.latency_objective.summary(model.architecture, genotype)
    atomic_write_json(os.path.join(out_dir, "summary.json"), summary)
    return SearchResult(genotype, model, history, summary, out_dir)


def search_dynamics(out_dir):
    """How the architecture moved in a search, from its run directory's histories.

    Args:
        out_dir: a search run directory (`alpha_history.json` and
            `genotype_history.json`, as `run_search` writes them).

    Returns:
        A dict: `alpha_change_max` and `alpha_change_mean` (|final - initial|
        over every architecture parameter), `epochs` (epochs in the genotype
        history) and `stable_epochs` (how many final epochs derived the
        final genotype). Empty where the histories are missing.

    Example:

    >>> search_dynamics("runs/demo/search")  # doctest: +SKIP
    {'alpha_change_max': 0.26, 'alpha_change_mean': 0.07, 'epochs': 8, 'stable_epochs': 6}
    """
    import json

    import numpy as np

    def leaves(tree):
        if isinstance(tree, dict):
            return [x for k in sorted(tree) for x in leaves(tree[k])]
        if isinstance(tree, (list, tuple)):
            return [x for v in tree for x in leaves(v)]
        return [float(tree)]

    out = {}
    path = os.path.join(out_dir, "alpha_history.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            alphas = json.load(f).get("history", [])
        if len(alphas) > 1:
            change = np.abs(np.array(leaves(alphas[-1]["alphas"]))
                            - np.array(leaves(alphas[0]["alphas"])))
            out.update(alpha_change_max=round(float(change.max()), 4),
                       alpha_change_mean=round(float(change.mean()), 4))
    path = os.path.join(out_dir, "genotype_history.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            texts = [g["text"] for g in json.load(f)]
        if texts:
            stable = next((i for i, t in enumerate(reversed(texts)) if t != texts[-1]),
                          len(texts))
            out.update(epochs=len(texts), stable_epochs=stable)
    return out


def load_config(path):
    """Reads a `config.json` written by `run_search`.

    Args:
        path: the `config.json` file.

    Returns:
        A `SearchConfig`.

    Example:

    >>> cfg = load_config("runs/demo/search/config.json")  # doctest: +SKIP
    """
    with open(path, encoding="utf-8") as f:
        return SearchConfig.from_dict(json.load(f))
