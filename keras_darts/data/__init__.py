"""Data: named datasets, image folders, tfds streams, user arrays; search splits and augmentation."""

from keras_darts.data.datasets import (
    DEFAULT_DATASET, DatasetInfo, DatasetNotAvailableError, dataset_info, dataset_names,
    load_arrays,
)
from keras_darts.data.pipeline import (
    SearchData, augment, center_crop, color_jitter, eval_data, normalize, preprocess,
    random_resized_crop, sample_images, search_data, spread_sample, train_data,
)
from keras_darts.data.sources import (
    ArraySource, CachedSource, DatasetSource, ImageFolderSource, Source, TFRecordSource,
    TfdsSource, check_image_file, open_source,
)

__all__ = ["DEFAULT_DATASET", "ArraySource", "CachedSource", "DatasetInfo",
           "DatasetNotAvailableError", "DatasetSource", "ImageFolderSource", "SearchData",
           "Source", "TFRecordSource", "TfdsSource", "augment", "center_crop", "check_image_file",
           "color_jitter", "dataset_info", "dataset_names", "eval_data", "load_arrays",
           "normalize", "open_source", "preprocess", "random_resized_crop", "sample_images",
           "search_data", "spread_sample", "train_data"]
