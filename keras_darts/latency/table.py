"""Latency lookup tables: measured milliseconds per network unit, saved as JSON.

A table holds, per precision (`"float32"`, `"int8"`), the latency of every
unit (`keras_darts.latency.Unit`: a candidate op at a shape and stride, or a
fixed part) of a `NetworkLayout`, with the device it was measured on and how.
`keras_darts.latency.measure_table` measures one with the TFLite
interpreter; `LatencyTable.from_csv` imports one timed elsewhere (e.g. the
unit models of `write_unit_models` timed on a phone with TFLite's benchmark
tool).
"""

import csv
import json
import math
import os

from keras_darts.latency.units import FIXED_UNITS, NetworkLayout, Unit, is_free, pair_unit

FORMAT = "keras_darts.latency_table"
PRECISIONS = ("float32", "int8")
"""Precisions a table can hold: float32 TFLite, and full-integer int8 TFLite."""

MARKS = 2
"""Version of the graph marks (`keras_darts.latency.graph_ends`) a table's entries hold.
2: a `relu_first` unit reads its input through the ReLU alone (version 1 also marked
NAS-Bench-201's residual reduction, whose shortcut reads the input unrectified)."""


class LatencyTableError(ValueError):
    """A latency table that cannot serve a request: missing units, another space, bad values."""


def _check_ms(key, precision, value, field="ms"):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LatencyTableError(f"Latency of {key!r} ({precision}) is not a number: "
                                f"{field}={value!r}.") from None
    if not math.isfinite(v) or v < 0:
        raise LatencyTableError(f"Latency of {key!r} ({precision}) must be a finite "
                                f"non-negative number of milliseconds. Received: {field}={value!r}")
    return v


class LatencyTable:
    """Measured per-unit latencies of a network layout on one device.

    Args:
        layout: the `NetworkLayout` it was measured for (or its dict).
        space: the search space's name.
        primitives: the space's candidate ops.
        entries: `{precision: {unit key: {"ms": median, "spread_ms": IQR, ...}}}`.
        device: a description of the device (`device_description()`).
        settings: how it was measured (threads, runs, warm-up ...).

    Raises:
        LatencyTableError: for an unknown precision, a malformed unit key, or a
            negative or non-finite latency (naming the unit).

    Example:

    >>> table = LatencyTable.load("latency/darts_small.json")  # doctest: +SKIP
    >>> table.predict(get_genotype("DARTS_V2"), "float32")  # doctest: +SKIP
    1.84
    """

    def __init__(self, layout, space, primitives, entries, device=None, settings=None):
        if not isinstance(layout, NetworkLayout):
            layout = NetworkLayout.from_dict(layout)
        self.layout = layout
        self.space = str(space)
        self.primitives = tuple(primitives)
        self.device = dict(device or {})
        self.settings = dict(settings or {})
        self.entries = {}
        for precision, units in entries.items():
            if precision not in PRECISIONS:
                raise LatencyTableError(f"Unknown precision {precision!r} in the latency table; "
                                        f"known: {list(PRECISIONS)}.")
            checked = {}
            for key, stats in units.items():
                Unit.from_key(key)  # a malformed key fails here
                stats = dict(stats) if isinstance(stats, dict) else {"ms": stats}
                if "ms" not in stats:
                    raise LatencyTableError(
                        f"Latency table entry {key!r} ({precision}) has no 'ms'.")
                stats["ms"] = _check_ms(key, precision, stats["ms"])
                if stats.get("spread_ms") is not None:
                    stats["spread_ms"] = _check_ms(key, precision, stats["spread_ms"], "spread_ms")
                checked[key] = stats
            self.entries[precision] = checked
        if self.marks_outdated:
            import warnings

            warnings.warn("This latency table was measured under older graph marks (version "
                          f"{self.settings.get('marks', 1)}, now {MARKS}): its predictions may "
                          "be off. Run keras-darts latency-table again with the same --out (no "
                          "unit is timed again), or keras_darts.latency.mark_units(table).",
                          stacklevel=2)

    # ------------------------------------------------------------------ lookups
    @property
    def marks_outdated(self):
        """Whether the table was measured under older graph marks than `MARKS` (its times
        stay good; `keras_darts.latency.mark_units` brings the marks up to date)."""
        return "timing" in self.settings and self.settings.get("marks", 1) < MARKS

    @property
    def threads(self):
        """The interpreter threads the table was measured with (1 if it does not say)."""
        return int(self.settings.get("threads", 1))

    @property
    def precisions(self):
        """The precisions the table holds."""
        return [p for p in PRECISIONS if p in self.entries]

    def _units(self, precision):
        if precision not in self.entries:
            raise LatencyTableError(f"The latency table has no {precision!r} latencies; it has "
                                    f"{self.precisions}.")
        return self.entries[precision]

    def ms(self, unit, precision="float32"):
        """Milliseconds of one unit (0 for a unit that leaves no op, e.g. `none`).

        Raises:
            LatencyTableError: if the table lacks the unit.
        """
        if is_free(unit):
            return 0.0
        units = self._units(precision)
        if unit.key not in units:
            raise LatencyTableError(
                f"The latency table ({self.space!r}, {precision}) has no unit {unit.key!r}"
                f"{self._other_space_hint([unit.op])}.")
        return units[unit.key]["ms"]

    def _other_space_hint(self, ops):
        missing = sorted({o for o in ops if o not in self.primitives and o not in FIXED_UNITS})
        if missing:
            return (f": it was measured for space {self.space!r} (ops {list(self.primitives)}), "
                    f"which lacks {missing}")
        return ""

    def check(self, units, precision="float32", what="the network"):
        """Raises unless every unit is in the table (free units need none).

        Args:
            units: units (e.g. `layout.candidate_units(primitives)`).
            precision: the precision to check.
            what: what needs them, for the message.

        Raises:
            LatencyTableError: naming the missing units (the first few) and
                their count, and the ops the table lacks for another space.
        """
        have = self._units(precision)
        missing = sorted({u.key for u in units if not is_free(u) and u.key not in have})
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise LatencyTableError(
                f"The latency table ({self.space!r}, {precision}) lacks {len(missing)} unit(s) "
                f"that {what} needs: {shown}"
                f"{self._other_space_hint(Unit.from_key(k).op for k in missing)}. Measure a "
                "table for this space and layout (keras-darts latency-table).")

    def check_space(self, primitives, layout=None, precision="float32"):
        """Raises unless the table covers every unit a search over `primitives` may derive.

        Args:
            primitives: the space's candidate ops.
            layout: the network the search is for (default the table's).
            precision: the precision to check.

        Raises:
            LatencyTableError: as `check`.
        """
        layout = layout or self.layout
        self.check(layout.candidate_units(primitives), precision,
                   f"a {layout.family}-family network over {list(primitives)}")

    def predict(self, genotype, precision="float32", layout=None):
        """Predicted latency (ms) of a genotype's network: the sum of its units.

        As TFLite's converter computes a value once, ops without weights of
        the same tensors (pools, sums) count once, and units that start with a
        ReLU (`"relu_first"` in the table) and read the same tensor count that
        ReLU once, or not at all where every reader of the tensor starts with
        it and the op computing the tensor fuses it (`"fusable_output"`:
        a convolution, a sum) (`NetworkLayout.genotype_reads`); identical ops
        with weights on one tensor count at their pair's time per two
        (`pair_unit`). A table imported without those marks counts every
        unit in full.

        Args:
            genotype: a genotype (see `NetworkLayout.genotype_units`).
            precision: `"float32"` or `"int8"`.
            layout: the network (default the table's layout).

        Returns:
            Milliseconds.

        Raises:
            LatencyTableError: if the table lacks a unit of the network.
        """
        layout = layout or self.layout
        reads = layout.genotype_reads(genotype)
        self.check([u for u, _, _ in reads], precision, "this genotype's network")
        entries = self._units(precision)
        total, producer, readers = 0.0, {}, {}
        for u, sources, value in reads:
            if value in producer:  # computed already (an op without weights of the same tensors)
                continue
            producer[value] = u
            total += self.ms(u, precision)
            for source in sources:
                readers.setdefault(source, []).append(u)
        for source, units in readers.items():
            first = [u for u in units if entries[u.key].get("relu_first")]
            if first:
                total -= self._shared_relus(first, entries, layout, precision,
                                            fused=len(first) == len(units) and entries.get(
                                                getattr(producer.get(source), "key", None),
                                                {}).get("fusable_output", False))
        return float(total)

    def _shared_relus(self, units, entries, layout, precision, fused):
        """The time to take off for the ReLUs that `units` (all starting with one) apply to
        one tensor: the converter computes one ReLU, or none where every reader of the
        tensor starts with it and the op computing it fuses it (`fusable_output`);
        identical ops count at their pair's time, which holds one ReLU per two."""
        counted = 0.0
        extra = 0.0
        for key in sorted({u.key for u in units}):
            k = sum(1 for u in units if u.key == key)
            pair = pair_unit(Unit.from_key(key)).key
            if k > 1 and pair in entries:
                extra += k * (entries[key]["ms"] - entries[pair]["ms"] / 2)
                counted += k / 2
            else:
                counted += k
        keep = 0.0 if fused else 1.0
        return extra + max(0.0, counted - keep) * self.ms(layout.relu_unit(units[0]), precision)

    # ------------------------------------------------------------------ files
    def to_dict(self):
        """The JSON form (`from_dict`'s inverse)."""
        return {"format": FORMAT, "version": 1, "space": self.space,
                "primitives": list(self.primitives), "network": self.layout.to_dict(),
                "device": self.device, "settings": self.settings, "entries": self.entries}

    @classmethod
    def from_dict(cls, d):
        """A table from its JSON form.

        Raises:
            LatencyTableError: for a dict that is not a latency table, or bad entries.
        """
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise LatencyTableError(f"Not a latency table (its 'format' is not {FORMAT!r}).")
        missing = [k for k in ("space", "primitives", "network", "entries") if k not in d]
        if missing:
            raise LatencyTableError(f"The latency table lacks {missing}.")
        return cls(d["network"], d["space"], d["primitives"], d["entries"], d.get("device"),
                   d.get("settings"))

    def save(self, path):
        """Writes the table as JSON (atomically: a failed write leaves no file)."""
        from keras_darts.utils.io import atomic_write_json

        atomic_write_json(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path):
        """Reads a table written by `save`.

        Raises:
            LatencyTableError: for a file that is not a latency table or has bad entries.
            FileNotFoundError: for a missing file.
        """
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as e:
                raise LatencyTableError(f"{path} is not JSON: {e}") from None
        try:
            return cls.from_dict(d)
        except LatencyTableError as e:
            raise LatencyTableError(f"{path}: {e}") from None

    @classmethod
    def from_csv(cls, path, layout, space, primitives, device=None):
        """Imports latencies measured elsewhere from a CSV file.

        Columns: `unit` (a unit key, as `write_unit_models` names its files,
        with or without `.tflite`), `precision` (`float32` or `int8`), `ms`,
        and optionally `spread_ms`. Rows may come in any order.

        Args:
            path: the CSV file.
            layout: the `NetworkLayout` the units are of.
            space: the search space's name.
            primitives: its candidate ops.
            device: a description of the device the times come from.

        Returns:
            A `LatencyTable`.

        Raises:
            LatencyTableError: for missing columns, an unknown precision, a
                malformed unit, a negative latency or a unit given twice
                (naming the row).

        Example:

        >>> LatencyTable.from_csv("pixel7.csv", layout, "darts", DARTS_PRIMITIVES,
        ...                       {"name": "Pixel 7"})  # doctest: +SKIP
        """
        entries = {}
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            needed = {"unit", "precision", "ms"}
            if not reader.fieldnames or not needed <= set(reader.fieldnames):
                raise LatencyTableError(f"{path} needs the columns {sorted(needed)}; it has "
                                        f"{reader.fieldnames}.")
            for line, row in enumerate(reader, start=2):
                key = row["unit"].strip()
                if key.endswith(".tflite"):
                    key = os.path.basename(key)[:-len(".tflite")]
                precision = row["precision"].strip()
                try:
                    Unit.from_key(key)
                except ValueError as e:
                    raise LatencyTableError(f"{path}, line {line}: {e}") from None
                if precision not in PRECISIONS:
                    raise LatencyTableError(f"{path}, line {line}: unknown precision "
                                            f"{precision!r}; known: {list(PRECISIONS)}.")
                units = entries.setdefault(precision, {})
                if key in units:
                    raise LatencyTableError(f"{path}, line {line}: {key!r} ({precision}) is "
                                            "given twice.")
                stats = {"ms": row["ms"]}
                if row.get("spread_ms") not in (None, ""):
                    stats["spread_ms"] = row["spread_ms"]
                try:
                    units[key] = {k: _check_ms(key, precision, v, k) for k, v in stats.items()}
                except LatencyTableError as e:
                    raise LatencyTableError(f"{path}, line {line}: {e}") from None
        return cls(layout, space, primitives, entries, device,
                   {"source": f"imported from {os.path.basename(path)}"})

