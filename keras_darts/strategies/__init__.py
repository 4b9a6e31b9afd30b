"""Search strategies: `keras.Model` subclasses whose `train_step` is the method.

Strategies are registered by name; `get_strategy(name)` returns the class and
`create_search_model(name, **kwargs)` an instance.
"""

from keras_darts.strategies.base import SearchModel
from keras_darts.strategies.darts_pd import (
    PathwiseFairSearch, copy_supernet_weights, prune_supernet, top_k_ops,
)
from keras_darts.strategies.d_darts import DistributedCellSearch, ablation_losses, zero_one_loss
from keras_darts.strategies.bilevel import BilevelSearch
from keras_darts.strategies.single_darts import SingleDartsSearch
from keras_darts.strategies.single_level import SingleLevelSearch
from keras_darts.strategies.sp_darts import (
    MixingProbabilitySchedule, SparseMixSearch, mixing_probability, sparse_draw,
)

_STRATEGIES = {}


def register_strategy(name, overwrite=False):
    """Registers a `SearchModel` subclass under `name` (a decorator).

    Args:
        name: the method's name (used by `--method` and `SearchConfig.method`).
        overwrite: allow replacing a registered strategy.

    Returns:
        A class decorator.

    Raises:
        ValueError: if the name is taken (and `overwrite` is False) or the
            class is not a `SearchModel`.

    Example:

    >>> @register_strategy("my-method")
    ... class MySearch(SearchModel):
    ...     def train_step(self, data): ...
    """

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, SearchModel)):
            raise ValueError(f"A strategy must subclass SearchModel. Received: {cls!r}")
        if name in _STRATEGIES and not overwrite:
            raise ValueError(f"Strategy {name!r} is already registered.")
        _STRATEGIES[name] = cls
        return cls

    return decorator


def get_strategy(name):
    """Returns the strategy class registered as `name`.

    Args:
        name: a registered method name.

    Returns:
        The `SearchModel` subclass.

    Raises:
        ValueError: for an unknown name.

    Example:

    >>> get_strategy("darts").__name__
    'BilevelSearch'
    """
    try:
        return _STRATEGIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown search method {name!r}. Known: {sorted(_STRATEGIES)}.") from None


def registered_strategies():
    """Sorted names of the registered strategies.

    Example:

    >>> registered_strategies()
    ['d-darts', 'darts', 'darts-pd', 'single-darts', 'single-level', 'sp-darts']
    """
    return sorted(_STRATEGIES)


def create_search_model(name, **kwargs):
    """Instantiates the strategy `name` with `kwargs`.

    Args:
        name: a registered method name.
        **kwargs: the strategy's constructor arguments.

    Returns:
        The search model.

    Example:

    >>> model = create_search_model("darts", order=1, num_classes=10, input_shape=(28, 28, 1),
    ...                             layers=3, channels=4, steps=2, multiplier=2)
    """
    return get_strategy(name)(**kwargs)


register_strategy("darts")(BilevelSearch)
register_strategy("single-level")(SingleLevelSearch)
register_strategy("single-darts")(SingleDartsSearch)
register_strategy("sp-darts")(SparseMixSearch)
register_strategy("d-darts")(DistributedCellSearch)
register_strategy("darts-pd")(PathwiseFairSearch)

__all__ = ["SearchModel", "BilevelSearch", "SingleLevelSearch", "SingleDartsSearch",
           "SparseMixSearch", "DistributedCellSearch", "PathwiseFairSearch",
           "prune_supernet", "top_k_ops", "copy_supernet_weights", "ablation_losses", "zero_one_loss",
           "MixingProbabilitySchedule", "mixing_probability", "sparse_draw",
           "register_strategy", "get_strategy", "registered_strategies", "create_search_model"]
