"""Export to SavedModel, ONNX and TFLite with parity verification."""

from keras_darts.export.verify import (
    THRESHOLDS, OnnxRunner, ParityError, SavedModelRunner, TFLiteRunner, compare,
)
from keras_darts.export.writers import (
    FORMATS, QUANTIZATIONS, export_all, export_onnx, export_savedmodel, export_tflite,
    write_tflite_source,
)

__all__ = ["FORMATS", "QUANTIZATIONS", "THRESHOLDS", "OnnxRunner", "ParityError",
           "SavedModelRunner", "TFLiteRunner", "compare", "export_all", "export_onnx",
           "export_savedmodel", "export_tflite", "write_tflite_source"]
