"""Hardware-aware search: measured latency tables, predicted network latency, a latency loss.

* `NetworkLayout` and `Unit` (`units.py`): what a stand-alone network is made
  of, unit by unit (candidate ops at their shapes, the fixed parts).
* `LatencyTable` (`table.py`): milliseconds per unit and precision, with the
  device; JSON files, CSV import of times taken elsewhere.
* `measure_table`, `time_tflite` (`measure.py`): timing units with the TFLite
  interpreter, each on what it reads in a network (`reference_activations`).
* `GenotypeLatency` (`genotypes.py`): a finished genotype's latency,
  predicted from a table and measured (DARTS-PD's path search, the random
  baseline).
* `ExpectedLatency`, `LatencyObjective` (`objective.py`): the expected latency
  of the derived network under a supernet's mixing weights, and the latency
  loss every search strategy can add.
"""

from keras_darts.latency.measure import (
    TFLiteTimer, convert_tflite, device_description, graph_ends, mark_units, measure_network,
    measure_table, reference_activations, time_tflite, unit_inputs, unit_model,
    write_unit_models,
)
from keras_darts.latency.genotypes import GenotypeLatency
from keras_darts.latency.objective import ExpectedLatency, LatencyObjective
from keras_darts.latency.table import MARKS, PRECISIONS, LatencyTable, LatencyTableError
from keras_darts.latency.units import (
    FIXED_UNITS, CellSlots, NetworkLayout, Unit, is_free, pair_unit,
)

__all__ = ["FIXED_UNITS", "MARKS", "PRECISIONS", "CellSlots", "ExpectedLatency",
           "GenotypeLatency", "LatencyObjective", "LatencyTable", "LatencyTableError",
           "NetworkLayout", "TFLiteTimer", "Unit", "convert_tflite", "device_description",
           "graph_ends", "is_free", "mark_units", "measure_network", "measure_table",
           "pair_unit", "reference_activations", "time_tflite", "unit_inputs", "unit_model",
           "write_unit_models"]
