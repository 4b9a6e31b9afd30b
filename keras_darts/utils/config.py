"""Shared helpers of the run configurations (`SearchConfig`, `TrainConfig`)."""

import dataclasses


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
