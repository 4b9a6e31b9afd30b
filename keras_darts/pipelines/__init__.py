"""Pipelines: search methods made of stages (`Pipeline`), registered beside the strategies.

`get_pipeline(name)` returns the class; `run_search` runs a config whose method is a
pipeline. Built-in: `darts-pd` (`DartsPD`).
"""

from keras_darts.registry import import_modules
from keras_darts.pipelines.base import PIPELINES, Pipeline, register_pipeline
from keras_darts.pipelines.darts_pd import DartsPD, DartsPDSettings


def get_pipeline(name):
    """Returns the pipeline class registered as `name`.

    Raises:
        ValueError: for an unknown name (listing the known ones).

    Example:

    >>> get_pipeline("darts-pd").stages
    ('search', 'prune', 'train_paths', 'search_paths')
    """
    return PIPELINES.get(name)


# Every module of this package registers its pipeline where it is defined; a new module is
# found here without being listed.
import_modules(__name__, __path__)

__all__ = ["PIPELINES", "Pipeline", "register_pipeline", "get_pipeline", "DartsPD",
           "DartsPDSettings"]
