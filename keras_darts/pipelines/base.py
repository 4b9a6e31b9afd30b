"""`Pipeline`: a search method made of stages run in order (DARTS-PD: search, prune, train
paths, search paths), registered by name beside the strategies."""

import types

from keras_darts.registry import Registry
from keras_darts.utils.config import MethodSettings
from keras_darts.utils.seed import restores_determinism


class Pipeline:
    """Base class of the multi-stage search methods.

    A pipeline is a search method (`--method`, `SearchConfig.method`) whose run
    is a sequence of stages rather than one `fit` of one `SearchModel`: each
    stage is a method of the pipeline named in `stages`, run in order on a
    shared `run` namespace (the config, the directories, what earlier stages
    left in it). A pipeline declares its settings as a strategy does
    (`Settings`, a `MethodSettings` dataclass); a stage that needs a
    differentiable search runs one with `run_search` (e.g. on
    `config.inner_config()`), so every strategy can be a pipeline's first
    stage. `run_search` runs a pipeline when its method names one.

    Attributes:
        Settings: the pipeline's own settings (class attribute).
        stages: the names of its stage methods, in order (class attribute).

    Example:

    >>> @register_pipeline("search-twice")
    ... class SearchTwice(Pipeline):
    ...     stages = ("first", "second")
    ...
    ...     def first(self, run):
    ...         run.first = run_search(run.config.inner_config(), run.out_dir + "/first")
    ...
    ...     def second(self, run): ...
    ...
    ...     def finish(self, run):
    ...         return run.second
    """

    Settings = MethodSettings
    stages = ()

    @restores_determinism
    def run(self, config, out_dir, verbose=1, callbacks=()):
        """Runs the stages in order; returns `finish(run)` (a `SearchResult`).

        Args:
            config: a `SearchConfig` whose method is this pipeline.
            out_dir: the run directory.
            verbose: Keras progress output.
            callbacks: extra callbacks for the stages that train.

        Raises:
            ValueError: for invalid settings (checked before any stage runs).
        """
        config.validate()
        run = types.SimpleNamespace(config=config, out_dir=out_dir, verbose=verbose,
                                    callbacks=list(callbacks))
        self.start(run)
        for name in self.stages:
            getattr(self, name)(run)
        return self.finish(run)

    def start(self, run):
        """Prepares a run before its first stage (directories, the saved config); nothing by
        default."""

    def finish(self, run):
        """The run's `SearchResult`, after its last stage."""
        raise NotImplementedError(f"{type(self).__name__} must define finish(run).")


def _check_pipeline(name, cls):
    if not (isinstance(cls, type) and issubclass(cls, Pipeline)):
        raise ValueError(f"Pipeline {name!r} must subclass Pipeline. Received: {cls!r}")
    from keras_darts.strategies.base import STRATEGIES

    if name in STRATEGIES.registered():  # `--method` names a strategy or a pipeline, never both
        raise ValueError(f"Pipeline {name!r}: {name!r} is already a search strategy's name.")
    missing = [s for s in cls.stages if not callable(getattr(cls, s, None))]
    if missing:
        raise ValueError(f"Pipeline {name!r} names stages {missing} it does not define.")


PIPELINES = Registry("pipeline", group="keras_darts.pipelines", check=_check_pipeline)
"""Multi-stage search methods by name (`keras_darts.registry.Registry` of `Pipeline`
subclasses); third-party pipelines register through the `keras_darts.pipelines`
entry-point group."""


def register_pipeline(name, overwrite=False):
    """Registers a `Pipeline` subclass as the search method `name` (a decorator).

    Args:
        name: the method's name (`--method`); it must not be a strategy's.
        overwrite: allow replacing a registered pipeline.

    Returns:
        A class decorator.

    Raises:
        ValueError: if the name is taken (by a pipeline or a strategy), the class
            is not a `Pipeline`, or a stage it names is not one of its methods.

    Example:

    >>> @register_pipeline("my-pipeline")
    ... class MyPipeline(Pipeline): ...
    """
    return PIPELINES.register(name, overwrite=overwrite)
