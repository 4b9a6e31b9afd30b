"""keras_darts: differentiable neural architecture search for Keras 3.

The search space (`keras_darts.search_space`), the architecture parameters and
genotypes (`keras_darts.architecture`), the training strategies
(`keras_darts.strategies`), derivation rules (`keras_darts.derivation`), data
(`keras_darts.data`) and callbacks (`keras_darts.callbacks`) are separate
modules; data flows one way: space -> strategy -> derivation -> network.

Example:

>>> import keras_darts as kd
>>> data = kd.data.search_data("embedded", batch_size=32)
>>> model = kd.BilevelSearch(num_classes=10, input_shape=(28, 28, 1), layers=5, channels=8)
>>> model.compile(epochs=3, steps_per_epoch=data.steps_per_epoch)
>>> model.fit(data.train, validation_data=data.validation, epochs=3,
...           steps_per_epoch=data.steps_per_epoch,
...           callbacks=[kd.callbacks.GenotypeCheckpoint("run")])  # doctest: +SKIP
>>> print(model.genotype())  # doctest: +SKIP
"""

from keras_darts import (
    architecture, callbacks, data, derivation, optimizers, resume, search_space, strategies,
)
from keras_darts.architecture import Genotype, NB201Genotype, get_genotype
from keras_darts.search import SearchConfig, run_search
from keras_darts.strategies import (
    BilevelSearch, SearchModel, SingleDartsSearch, SingleLevelSearch, SparseMixSearch,
    create_search_model, get_strategy, register_strategy,
)
from keras_darts.search_space.spaces import SearchSpace, get_search_space
from keras_darts.utils import set_seed
from keras_darts.version import __version__

__all__ = [
    "BilevelSearch", "Genotype", "NB201Genotype", "SearchConfig", "SearchModel",
    "SearchSpace", "SingleDartsSearch", "SingleLevelSearch", "SparseMixSearch",
    "get_search_space",
    "__version__", "architecture", "callbacks", "create_search_model", "data", "derivation",
    "get_genotype", "get_strategy", "optimizers", "register_strategy", "resume", "run_search",
    "search_space", "set_seed", "strategies",
]
