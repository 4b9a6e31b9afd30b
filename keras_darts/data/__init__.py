"""Data: the embedded dataset, digits, tfds names, user arrays; search splits and augmentation."""

from keras_darts.data.datasets import (
    DEFAULT_DATASET, DatasetInfo, DatasetNotAvailableError, dataset_info, dataset_names,
    load_arrays,
)
from keras_darts.data.pipeline import (
    SearchData, augment, eval_data, normalize, search_data, train_data,
)

__all__ = ["DEFAULT_DATASET", "DatasetInfo", "DatasetNotAvailableError", "SearchData", "augment",
           "dataset_info", "dataset_names", "eval_data", "load_arrays", "normalize",
           "search_data", "train_data"]
