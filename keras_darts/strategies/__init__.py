"""Search strategies: `keras.Model` subclasses whose `train_step` is the method.

Strategies are registered by name where they are defined (`register_strategy`, one
`keras_darts.registry.Registry`); `get_strategy(name)` returns the class and
`create_search_model(name, **kwargs)` an instance.
"""

from keras_darts.registry import import_modules
from keras_darts.strategies.base import STRATEGIES, SearchModel, register_strategy
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



def get_strategy(name):
    """Returns the strategy class registered as `name`.

    Built-in strategies register where they are defined; third-party ones
    through the `keras_darts.strategies` entry-point group
    (`keras_darts.registry`), loaded the first time their name is asked for.

    Args:
        name: a registered method name.

    Returns:
        The `SearchModel` subclass.

    Raises:
        ValueError: for an unknown name, or an entry point that fails to load.

    Example:

    >>> get_strategy("darts").__name__
    'BilevelSearch'
    """
    return STRATEGIES.get(name)


def registered_strategies():
    """Sorted names of the registered strategies (built-in and installed plugins).

    Example:

    >>> "sp-darts" in registered_strategies()
    True
    """
    return STRATEGIES.names()


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


# Every module of this package registers its strategy where it is defined; a new module is
# found here without being listed.
import_modules(__name__, __path__)

__all__ = ["SearchModel", "BilevelSearch", "SingleLevelSearch", "SingleDartsSearch",
           "SparseMixSearch", "DistributedCellSearch", "PathwiseFairSearch",
           "prune_supernet", "top_k_ops", "copy_supernet_weights", "ablation_losses", "zero_one_loss",
           "MixingProbabilitySchedule", "mixing_probability", "sparse_draw",
           "STRATEGIES", "register_strategy", "get_strategy", "registered_strategies", "create_search_model"]
