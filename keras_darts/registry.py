"""One registry mechanism for everything looked up by name: ops, activations, search spaces,
search strategies, pipelines and reference networks.

Each kind of thing has one `Registry`. Built-in entries register themselves where they are
defined (a decorator beside the definition); third-party packages register theirs through a
Python entry point in the registry's group, so that `keras-darts search --method theirs`
works without editing this package:

```toml
# pyproject.toml of the third-party package
[project.entry-points."keras_darts.strategies"]
theirs = "their_package.search:TheirSearch"
```

An entry point is loaded the first time its name is looked up (a broken plugin fails only
the run that asks for it, with its name and its distribution in the error). The object it
names is registered under the entry point's name, unless importing its module registered
that name already.
"""

import importlib
import importlib.metadata
import pkgutil


class Registry:
    """Named entries of one kind, with clear errors and entry-point plugins.

    Args:
        kind: what an entry is, for messages (`"op"`, `"search method"`).
        group: the entry-point group of third-party entries
            (`"keras_darts.strategies"`); None: built-in entries only.
        plural: the plural of `kind` for messages (default: `kind + "s"`).
        check: optional `check(name, value)` that raises `ValueError` for a
            value that is not an entry of this kind (e.g. not a `SearchModel`).
        adapt: optional `adapt(name, obj)` turning the object an entry point
            loads into the value to register (e.g. an op builder into an
            `OpSpec`); default: the object itself.

    Example:

    >>> widgets = Registry("widget", group="keras_darts.widgets")
    >>> @widgets.register("round")
    ... def _round(x):
    ...     return round(x)
    >>> widgets.get("round")(2.6)
    3
    >>> widgets.get("square")
    Traceback (most recent call last):
    ValueError: Unknown widget 'square'. Known widgets: ['round'].
    """

    def __init__(self, kind, group=None, plural=None, check=None, adapt=None):
        self.kind = kind
        self.group = group
        self.plural = plural or kind + "s"
        self._check = check
        self._adapt = adapt
        self._entries = {}

    def register(self, name, value=None, *, overwrite=False):
        """Registers `value` under `name`; without `value`, a decorator that does.

        Args:
            name: a non-empty string.
            value: the entry (None: return a decorator registering what it decorates).
            overwrite: allow replacing an entry of that name.

        Returns:
            `value`, or a decorator returning what it decorates unchanged.

        Raises:
            ValueError: for a bad name, a taken name without `overwrite`, or a
                value the registry's `check` refuses.

        Example:

        >>> STRATEGIES.register("my-method")(MySearch)  # doctest: +SKIP
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"A {self.kind} name must be a non-empty string. "
                             f"Received: name={name!r}")
        if value is None:
            def decorator(obj):
                self.register(name, obj, overwrite=overwrite)
                return obj
            return decorator
        if self._check is not None:
            self._check(name, value)
        if name in self._entries and not overwrite and self._entries[name] is not value:
            raise ValueError(f"{self.kind[0].upper() + self.kind[1:]} {name!r} is already "
                             "registered. Pass overwrite=True to replace it.")
        self._entries[name] = value
        return value

    def unregister(self, name):
        """Removes `name` (a no-op if absent); for tests and interactive sessions."""
        self._entries.pop(name, None)

    def get(self, name):
        """Returns the entry `name`, loading a third-party entry point of that name if needed.

        Raises:
            ValueError: for an unknown name (listing the known ones), or an
                entry point that fails to load (naming it and its package).

        Example:

        >>> STRATEGIES.get("darts").__name__  # doctest: +SKIP
        'BilevelSearch'
        """
        if isinstance(name, str) and name not in self._entries:
            self._load_entry_point(name)
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ValueError(f"Unknown {self.kind} {name!r}. "
                             f"Known {self.plural}: {self.names()}.") from None

    def __contains__(self, name):
        try:
            self.get(name)
        except ValueError:
            return False
        return True

    def names(self):
        """Sorted names: the registered entries and the installed entry points (not loaded)."""
        return sorted(set(self._entries) | {ep.name for ep in self._entry_points()})

    def registered(self):
        """A dict `{name: entry}` of the entries registered so far (no entry point is loaded)."""
        return dict(self._entries)

    def _entry_points(self):
        if self.group is None:
            return ()
        return importlib.metadata.entry_points(group=self.group)

    def _load_entry_point(self, name):
        for ep in self._entry_points():
            if ep.name != name:
                continue
            where = f"entry point {ep.name!r} ({ep.value}) of group {self.group!r}"
            if ep.dist is not None:
                where += f", package {ep.dist.name!r}"
            try:
                obj = ep.load()
            except Exception as e:  # any import error of a plugin: say which plugin
                raise ValueError(f"Could not load {self.kind} {name!r} from {where}: "
                                 f"{type(e).__name__}: {e}") from e
            if name not in self._entries:
                value = self._adapt(name, obj) if self._adapt is not None else obj
                try:
                    self.register(name, value)
                except ValueError as e:
                    raise ValueError(f"{where}: {e}") from None
            return


def import_modules(package, path):
    """Imports every module of a package, so that the entries they define register themselves.

    A package of built-in entries (`keras_darts.strategies`, `keras_darts.pipelines`) calls
    this from its `__init__`: a new module there is found without a hand-kept import list.

    Args:
        package: the package's name (`__name__` in its `__init__`).
        path: its `__path__`.

    Example:

    >>> import_modules(__name__, __path__)  # doctest: +SKIP
    """
    for info in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{info.name}")
