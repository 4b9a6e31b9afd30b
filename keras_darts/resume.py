"""Resumable runs: atomic training-state checkpoints and a `fit` that continues from them.

A search, a DARTS-PD stage 2 and a stand-alone training all train through
`fit_resumable`. Its `RunCheckpoint` writes, at every epoch end and every
`every_steps` steps, the whole state a run needs to continue exactly where
it was:

- every model variable: network weights, alphas (and betas), BatchNorm
  statistics, the random generators' states (drop-path masks; `save_weights`
  leaves these out, the checkpoint stores them), and the optimizers' variables (the
  weight optimizer, the architecture optimizer, D-DARTS' per-cell
  optimizers), whose iteration counters drive the learning-rate schedules,
  SP-DARTS' sparse draws and DARTS-PD's path assignment;
- the position in the data: epoch and batch (the data stream is a function
  of the seed and the position, see `SearchData.train_from`);
- the running means of the epoch's metrics (for a mid-epoch position);
- the records of the history callbacks (`AlphaHistory`,
  `GenotypeCheckpoint`).

Epoch-based schedules (temperatures, SP-DARTS' mixing probability,
drop-path, architecture warm-up) are set again from the epoch number.
`history.csv` is cut back to the checkpoint's epoch before the run goes on.

A checkpoint is a weights file with a unique name plus `state.json`, which
names it; `state.json` is replaced atomically after the weights file is
complete, and older weights files are removed only afterwards, so a kill at
any instant leaves the previous or the new checkpoint, never a broken one.
"""

import csv
import dataclasses
import glob
import io
import json
import os

import keras
import numpy as np

from keras_darts.utils.distribute import keras_multi_worker
from keras_darts.utils.io import atomic_path, atomic_write_json, atomic_write_text, read_json

STATE_FILE = "state.json"


def _seed_states(model):
    """The states of the model's `keras.random.SeedGenerator`s (drop-path masks, noise ops).

    `save_weights` leaves them out, so a checkpoint stores them itself.
    """
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _values(variables):
    """JSON-ready values of variables."""
    return [np.asarray(keras.ops.convert_to_numpy(v)).tolist() for v in variables]


def _assign(variables, values):
    """Assigns `_values` output back to the same variables."""
    for v, value in zip(variables, values):
        v.assign(np.asarray(value, dtype=v.dtype))


class RunCheckpoint(keras.callbacks.Callback):
    """Saves a run's whole training state atomically, and restores it.

    Put it after every other callback of `fit()`, so the history files it
    records already hold the epoch it saves. `fit_resumable` does this for you.

    Args:
        directory: the checkpoint directory (created on the first save).
        steps_per_epoch: batches per epoch.
        every_steps: also save every this many training steps inside an
            epoch (None: at epoch ends only).
        callbacks: callbacks whose records are saved with the state: those
            with `get_resume_state()` / `set_resume_state(state)` methods
            (others are ignored).

    Raises:
        ValueError: for a non-positive `steps_per_epoch` or `every_steps`.

    Example:

    >>> ckpt = RunCheckpoint("run/checkpoints", steps_per_epoch=100, every_steps=25)
    >>> position = ckpt.restore(model)  # (epoch, step) or None on a fresh run
    """

    def __init__(self, directory, steps_per_epoch, every_steps=None, callbacks=()):
        super().__init__()
        if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be a positive integer. "
                             f"Received: {steps_per_epoch!r}")
        if every_steps is not None and (not isinstance(every_steps, int) or every_steps < 1):
            raise ValueError(f"every_steps must be a positive integer or None. "
                             f"Received: {every_steps!r}")
        self.directory = directory
        self.steps_per_epoch = steps_per_epoch
        self.every_steps = every_steps
        self.stateful = [cb for cb in callbacks if hasattr(cb, "get_resume_state")]
        self.step_offset = 0
        self._epoch = 0
        self._last_saved = None
        self._pending_metrics = None

    @property
    def state_path(self):
        """Path of `state.json`."""
        return os.path.join(self.directory, STATE_FILE)

    def read_state(self):
        """The saved state, or None when there is no checkpoint.

        Returns:
            A dict: `epoch`, `step`, `global_step`, `weights` (the file name),
            `metrics`, `seed_states`, `callbacks`.

        Raises:
            ValueError: if `state.json` is unreadable or names a missing weights file.
        """
        if not os.path.exists(self.state_path):
            return None
        try:
            with open(self.state_path, encoding="utf-8") as f:
                state = json.load(f)
            int(state["epoch"]), int(state["step"]), str(state["weights"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"The checkpoint {self.state_path} is unreadable ({e}); delete the "
                             "run directory to start again.") from None
        if not os.path.exists(os.path.join(self.directory, state["weights"])):
            raise ValueError(f"The checkpoint {self.state_path} names the weights file "
                             f"{state['weights']!r}, which is missing.")
        return state

    def restore(self, model):
        """Loads the last checkpoint into `model` and the callbacks.

        Args:
            model: the compiled model the checkpoint was written from (same
                architecture and optimizers).

        Returns:
            `(epoch, step)`: where training goes on, or None without a checkpoint.

        Raises:
            ValueError: for an unreadable checkpoint, or one of another model.
        """
        for stale in glob.glob(os.path.join(self.directory, ".tmp-*")):
            os.remove(stale)  # a write the previous process was killed in
        state = self.read_state()
        if state is None:
            return None
        model.load_weights(os.path.join(self.directory, state["weights"]))
        seeds = _seed_states(model)
        saved = state.get("seed_states") or []
        if len(saved) != len(seeds):
            raise ValueError(f"The checkpoint {self.state_path} has {len(saved)} random-generator "
                             f"states; the model has {len(seeds)}: it is of another model.")
        _assign(seeds, saved)
        records = _by_class(state.get("callbacks", {}))
        for key, cb in zip(_record_keys(self.stateful), self.stateful):
            if key in records:
                cb.set_resume_state(records[key])
        self._pending_metrics = state.get("metrics") if state["step"] else None
        self._last_saved = state["global_step"]
        return state["epoch"], state["step"]

    def save(self, epoch, step):
        """Writes a checkpoint for position `(epoch, step)`.

        Args:
            epoch: the epoch training goes on in.
            step: the batch of that epoch training goes on at.
        """
        global_step = epoch * self.steps_per_epoch + step
        if global_step == self._last_saved:
            return
        os.makedirs(self.directory, exist_ok=True)
        name = f"step-{global_step:09d}.weights.h5"
        path = os.path.join(self.directory, name)
        with atomic_path(path, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp, overwrite=True)
        atomic_write_json(self.state_path, {
            "epoch": epoch, "step": step, "global_step": global_step, "weights": name,
            "metrics": _values(self.model.metrics_variables) if step else None,
            "seed_states": _values(_seed_states(self.model)),
            "callbacks": {key: cb.get_resume_state()
                          for key, cb in zip(_record_keys(self.stateful), self.stateful)},
        })
        for old in glob.glob(os.path.join(self.directory, "step-*.weights.h5")):
            if os.path.basename(old) != name:
                os.remove(old)
        self._last_saved = global_step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._pending_metrics is not None:
            variables = self.model.metrics_variables
            if (len(variables) == len(self._pending_metrics)
                    and self.model.distribute_strategy.num_replicas_in_sync == 1):
                _assign(variables, self._pending_metrics)
            self._pending_metrics = None

    def on_train_batch_end(self, batch, logs=None):
        step = self.step_offset + batch + 1
        if not self.every_steps or step >= self.steps_per_epoch:
            return
        global_step = self._epoch * self.steps_per_epoch + step
        last = self._last_saved or 0
        if global_step // self.every_steps > last // self.every_steps:
            self.save(self._epoch, step)

    def on_epoch_end(self, epoch, logs=None):
        self.step_offset = 0
        self.save(epoch + 1, 0)


def truncate_csv(path, epochs):
    """Keeps the header and the rows of the first `epochs` epochs of a `CSVLogger` file.

    Args:
        path: the CSV file (nothing happens if it does not exist).
        epochs: rows whose `epoch` column is below this are kept.

    Example:

    >>> truncate_csv("run/history.csv", 3)  # doctest: +SKIP
    """
    if not os.path.exists(path):
        return
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) < epochs]
    if len(kept) != len(rows):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(kept)
        atomic_write_text(path, buf.getvalue())


def read_csv_history(path):
    """A `CSVLogger` file as a Keras-style history dict (`{metric: [per epoch]}`).

    Args:
        path: the CSV file.

    Returns:
        A dict of float lists (empty if the file is missing).

    Example:

    >>> read_csv_history("run/history.csv")["loss"]  # doctest: +SKIP
    """
    if not os.path.exists(path):
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    history = {}
    for row in rows:
        for key, value in row.items():
            if key == "epoch" or key is None:
                continue
            try:
                history.setdefault(key, []).append(float(value))
            except (TypeError, ValueError):
                history.setdefault(key, []).append(float("nan"))
    return history


def describe_differences(saved, settings, ignore=()):
    """The settings that differ from saved ones, as `"key: saved -> current, ..."`.

    Args:
        saved: settings as a run saved them (a JSON dict).
        settings: the current settings: a dataclass config (`SearchConfig`,
            `TrainConfig`; a key missing from `saved`, a setting added to the
            library after it was saved, compares as its default) or a
            JSON-ready dict (compared as JSON would store it).
        ignore: keys that may differ.

    Returns:
        The description, keys sorted, or `""` when nothing differs.

    Example:

    >>> describe_differences({"epochs": 1, "seed": 0}, {"epochs": 2, "seed": 0})
    'epochs: 1 -> 2'
    """
    keys = set(saved)
    if dataclasses.is_dataclass(settings):
        saved = {**config_defaults(settings), **saved}
        settings = settings.to_dict()
        # A config compares the settings it has: a saved key it lacks is another method's
        # setting (files from before methods owned their settings held every method's).
        keys = set()
    current = json.loads(json.dumps(settings))
    differ = sorted(k for k in keys | set(current)
                    if k not in ignore and saved.get(k) != current.get(k))
    return ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in differ)


def config_defaults(config):
    """The defaults of a dataclass config's fields, JSON-ready (see `check_same_run`).

    Example:

    >>> config_defaults(SearchConfig())["min_node_inputs"]  # doctest: +SKIP
    1
    """
    if hasattr(config, "defaults"):  # a config whose settings are not all fields (SearchConfig)
        return json.loads(json.dumps(config.defaults(), default=str))
    out = {}
    for f in dataclasses.fields(config):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return json.loads(json.dumps(out, default=str))


def has_checkpoint(out_dir):
    """Whether `out_dir` holds a run checkpoint (anywhere below it): started again, the run
    resumes from it.

    Example:

    >>> has_checkpoint("runs/demo/train")  # doctest: +SKIP
    True
    """
    return bool(glob.glob(os.path.join(out_dir, "**", STATE_FILE), recursive=True))


def check_same_run(out_dir, settings, ignore=()):
    """Refuses to resume a run directory written with different settings.

    Args:
        out_dir: the run directory.
        settings: this run's config (a dataclass config with `to_dict`, such as
            `SearchConfig` or `TrainConfig`), or a JSON-ready settings dict as saved
            in `config.json`. For a config, a setting missing from the saved
            `config.json` was added to the library after the run was saved and
            compares as its default: such a run resumes under the default, and
            refuses any other value.
        ignore: keys that may differ (e.g. the device setup).

    Raises:
        ValueError: naming the settings that differ from `out_dir/config.json`
            while `out_dir` holds a checkpoint.

    Example:

    >>> check_same_run("runs/demo/search", cfg, ignore=("distribute", "devices"))
    """
    path = os.path.join(out_dir, "config.json")
    if not os.path.exists(path) or not has_checkpoint(out_dir):
        return
    detail = describe_differences(read_json(path), settings, ignore)
    if detail:
        raise ValueError(f"{out_dir} holds a checkpoint of a run with other settings ({detail}). "
                         "Use another output directory, or delete it to start again.")


def fit_resumable(model, data, epochs, checkpoint_dir, csv_path, callbacks=(),
                  validation_data=None, verbose=1, every_steps=None, map_fn=None):
    """`model.fit` over a `SearchData` stream that continues from the last checkpoint.

    On a fresh run this is one `fit()`. After an interruption it restores
    the checkpoint, cuts `csv_path` back to the checkpoint's epoch, runs the
    rest of the interrupted epoch from the exact batch it stopped at, then
    the remaining epochs. A finished run trains no further. A run whose
    length is decided by its first epoch (a time budget) runs that epoch
    alone, then the rest, in a second `fit()`.

    Args:
        model: a compiled model.
        data: a `SearchData` (its `train_from` and `steps_per_epoch`).
        epochs: total epochs of the run, or a callable returning them, called
            once after the first epoch (`TimeBudget.epochs`); a run restored
            past its first epoch must pass the number.
        checkpoint_dir: where `RunCheckpoint` writes.
        csv_path: the run's `history.csv` (a `CSVLogger` is added).
        callbacks: the run's other callbacks, in order.
        validation_data: passed to `fit()`.
        verbose: Keras progress output.
        every_steps: also checkpoint every this many steps inside an epoch.
        map_fn: applied to the training stream (e.g. to add targets).

    Returns:
        The whole run's history (`{metric: [per epoch]}`, read from `csv_path`).

    Raises:
        ValueError: for an unreadable checkpoint.

    Example:

    >>> history = fit_resumable(model, data, 50, "run/checkpoints", "run/history.csv",
    ...                         every_steps=200)  # doctest: +SKIP
    """
    spe = data.steps_per_epoch
    ckpt = RunCheckpoint(checkpoint_dir, spe, every_steps, callbacks)
    epoch, step = ckpt.restore(model) or (0, 0)
    truncate_csv(csv_path, epoch)
    cbs = [*callbacks, keras.callbacks.CSVLogger(csv_path, append=True), ckpt]

    def stream(e, s, last):
        ds = data.train_from(e, s, epochs=last - e)
        return ds.map(map_fn) if map_fn is not None else ds

    decide = epochs if callable(epochs) else None
    end = 1 if decide else epochs  # a run to be decided stops after its first epoch

    def fit(first, last):
        model.fit(stream(first, 0, last), initial_epoch=first, epochs=last, steps_per_epoch=spe,
                  validation_data=validation_data, callbacks=cbs, verbose=verbose)

    if epoch < end:
        sample = next(iter(stream(epoch, step, epoch + 1)))
        if step:  # compiled metrics are built lazily; build them to restore their running means
            # Private Keras API: `_symbolic_build` is the only way to build compiled metrics
            # (their variables) before `fit` runs a step; `Model.build` leaves them unbuilt.
            with model.distribute_strategy.scope():
                model._symbolic_build(data_batch=sample)
        with keras_multi_worker(model, sample):
            if step:
                ckpt.step_offset = step
                model.fit(stream(epoch, step, epoch + 1), initial_epoch=epoch, epochs=epoch + 1,
                          steps_per_epoch=spe - step, validation_data=validation_data,
                          callbacks=cbs, verbose=verbose)
                epoch += 1
            if epoch < end and not model.stop_training:
                fit(epoch, end)
                epoch = end
            if decide and not model.stop_training and epoch < decide():
                fit(epoch, decide())
    return read_csv_history(csv_path)


def _record_keys(callbacks):
    """A checkpoint's key for each stateful callback: its class name (`Name#2` for a second
    of one class), so a record survives a callback added or removed before it."""
    return _numbered(type(cb).__name__ for cb in callbacks)


def _by_class(records):
    """Checkpoint records keyed as `_record_keys` keys them; older checkpoints keyed them
    by position (`"0:AlphaHistory"`), which is read by class in the same order."""
    names = [key.partition(":")[2] for key in records if key.partition(":")[0].isdigit()]
    if len(names) < len(records):  # keyed by class already
        return records
    return dict(zip(_numbered(names), records.values()))


def _numbered(names):
    """`names`, a repeated one numbered from its second occurrence: `Name`, `Name#2`, ..."""
    seen, keys = {}, []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return keys
