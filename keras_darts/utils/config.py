"""Shared helpers of the run configurations (`SearchConfig`, `TrainConfig`)."""

import dataclasses
import typing


def config_from_preset(cls, presets, preset, overrides, what):
    """Builds dataclass `cls` from `presets[preset]` updated with non-None `overrides`.

    Args:
        cls: a dataclass type.
        presets: `{name: {field: value}}`.
        preset: the preset's name.
        overrides: `{field: value}`; None values keep the preset's.
        what: a word for error messages (`"search"`, `"training"`).

    Returns:
        An instance of `cls`.

    Raises:
        ValueError: for an unknown preset or unknown fields.

    Example:

    >>> cfg = config_from_preset(SearchConfig, PRESETS, "small", {"epochs": 1}, "search")
    """
    if preset not in presets:
        raise ValueError(f"Unknown preset {preset!r}. Known presets: {sorted(presets)}.")
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"Unknown {what} settings {unknown}.")
    return cls(**{**presets[preset], **{k: v for k, v in overrides.items() if v is not None}})


def check_positive_ints(config, names):
    """Raises `ValueError` naming the first of `names` that is not a positive integer.

    Args:
        config: an object with those attributes.
        names: attribute names.

    Example:

    >>> check_positive_ints(cfg, ("epochs", "batch_size"))  # doctest: +SKIP
    """
    for name in names:
        v = getattr(config, name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")


def check_non_negative(config, names):
    """Raises `ValueError` naming the first of `names` that is not a number >= 0.

    Args:
        config: an object with those attributes.
        names: attribute names.

    Example:

    >>> check_non_negative(cfg, ("learning_rate",))  # doctest: +SKIP
    """
    for name in names:
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={v!r}")


RUN_OPTIONS = ("distribute", "devices", "connect_timeout", "checkpoint_every", "data_dir",
               "cache")
"""Settings that may change when a run is resumed (the device setup, checkpoint frequency,
where and how the data is read)."""


def check_run_options(config):
    """Validates the device and checkpoint options a search or training config shares.

    Args:
        config: a config with `distribute`, `connect_timeout` and `checkpoint_every`.

    Raises:
        ValueError: for an unknown `distribute` option, or a non-positive
            `connect_timeout` or `checkpoint_every`.

    Example:

    >>> check_run_options(SearchConfig(checkpoint_every=0))  # doctest: +SKIP
    ValueError: checkpoint_every must be a positive integer or None. Received: 0
    """
    from keras_darts.utils.distribute import DISTRIBUTE_NAMES

    if config.distribute not in DISTRIBUTE_NAMES:
        raise ValueError(f"distribute must be one of {list(DISTRIBUTE_NAMES)}. "
                         f"Received: distribute={config.distribute!r}")
    if not isinstance(config.connect_timeout, (int, float)) or config.connect_timeout <= 0:
        raise ValueError(f"connect_timeout must be a positive number of seconds. "
                         f"Received: {config.connect_timeout!r}")
    every = config.checkpoint_every
    if every is not None and (not isinstance(every, int) or isinstance(every, bool) or every < 1):
        raise ValueError(f"checkpoint_every must be a positive integer or None. Received: {every!r}")


def setting(default, help, choices=None):
    """A method setting: a dataclass field with its help text (its command-line flag's).

    Args:
        default: the value when neither a preset nor the user sets it.
        help: one line for `--help`.
        choices: the allowed values, if they are few (shown in `--help`).

    Returns:
        A `dataclasses.field`.

    Example:

    >>> @dataclasses.dataclass
    ... class MySettings(MethodSettings):
    ...     tau: float = setting(10.0, "initial Gumbel-softmax temperature")
    """
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


@dataclasses.dataclass
class MethodSettings:
    """A search method's own settings: the base of each strategy's `Settings` dataclass.

    A strategy declares the settings that only it has (DARTS's `order`,
    SP-DARTS's `t_sp`, ...) as a dataclass subclass with `setting(...)` fields
    and checks them in `validate`; `SearchConfig` holds the shared run
    settings and an instance of the method's `Settings`, and the command line
    makes one flag per field. Nothing else needs to change to add a setting.

    Attributes:
        presets: class attribute, `{preset name: {field: value}}`, the
            method's part of a `SearchConfig` preset (e.g. DARTS-PD's stage
            sizes on the `small` preset).
        constructor_fields: class attribute, the fields passed to the
            strategy's constructor (None: all of them).

    Example:

    >>> @dataclasses.dataclass
    ... class GumbelSettings(MethodSettings):
    ...     tau_max: float = setting(10.0, "initial temperature")
    ...     tau_min: float = setting(0.1, "final temperature")
    ...
    ...     def validate(self, config=None):
    ...         if not 0 < self.tau_min <= self.tau_max:
    ...             raise ValueError("need 0 < tau_min <= tau_max")
    ...         return self
    """

    presets: typing.ClassVar[dict] = {}
    constructor_fields: typing.ClassVar[tuple] = None

    def validate(self, config=None):
        """Checks the settings; returns self.

        Args:
            config: the `SearchConfig` they belong to, for checks against the
                shared settings (None when a strategy is built directly).

        Raises:
            ValueError: naming the bad setting.
        """
        return self

    @classmethod
    def names(cls):
        """The settings' names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self):
        """The settings as a JSON-ready dict."""
        return dataclasses.asdict(self)

    def strategy_kwargs(self):
        """The settings the strategy's constructor takes (`constructor_fields`)."""
        names = self.names() if self.constructor_fields is None else self.constructor_fields
        return {name: getattr(self, name) for name in names}

    def inner_method(self):
        """The method whose settings this method's runs also take (DARTS-PD's stage-1
        `base_method`), or None."""
        return None
