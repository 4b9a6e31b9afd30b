"""Where a dataset's examples come from, read lazily: arrays, image folders, tfds, tf.data.

A `Source` gives the examples of its `"train"` and `"eval"` splits as
`(record, label)` pairs, and `decode(record)` turns a record into the image's
raw pixels `(H, W, C)`. The records of files stay encoded until the pipeline
(`keras_darts.data.pipeline`) decodes the few it is about to use, so a source
never holds more than its file list in memory, however large the dataset.

Two kinds of source:

- **random access** (`random_access=True`): arrays in memory and image
  folders. The pipeline draws a full seeded permutation of the examples every
  epoch and reads only those at its position.
- **streams** (`random_access=False`): tfds datasets and user `tf.data`
  datasets, read in their stored order from `stream(split, start, stop)`. The
  pipeline shuffles them within windows (`shuffle_window` examples) with
  seeds drawn from the run's seed and the epoch, and splits them into
  contiguous ranges.
"""

import os

import numpy as np
import tensorflow as tf

from keras_darts.data.datasets import (
    IMAGENET_MEAN, IMAGENET_STD, DatasetInfo, DatasetNotAvailableError, check_image_size,
    dataset_info, dataset_names, info_from_arrays, load_arrays, tfds_builder,
)

SPLITS = ("train", "eval")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
# First bytes of the formats tf.io.decode_image reads.
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"GIF87a", b"GIF89a")
# Folders with at most this many images are checked file by file when opened.
VERIFY_LIMIT = 50_000


class Source:
    """Base class: a dataset's `"train"` and `"eval"` splits, read lazily.

    Subclasses set `info` (a `DatasetInfo`) and `_sizes` (examples per
    split; or implement `size`), implement either `records` (random access)
    or `stream`, and `decode` if records are not pixels already.

    Attributes:
        info: the dataset's `DatasetInfo` (the image size the network takes).
        random_access: whether `records` can read any examples by index.
        in_memory: whether the data already sits in memory (the pipeline
            then caches its evaluation batches).

    Example:

    >>> source = open_source("digits")
    >>> source.size("train"), source.random_access
    (1437, True)
    """

    info = None
    random_access = True
    in_memory = False

    def size(self, split):
        """Number of examples of a split (`"train"` or `"eval"`; by default from `_sizes`)."""
        _check_split(split)
        return int(self._sizes[split])

    def _stop(self, split, stop):
        """`stop`, or the end of the split; checks the split's name."""
        return self.size(split) if stop is None else stop

    def records(self, split, indices):
        """`(record, label)` of the examples at `indices` (an int64 tensor), in that order."""
        raise NotImplementedError(f"{type(self).__name__} is read as a stream")

    def stream(self, split, start=0, stop=None):
        """`(record, label)` of examples `start` to `stop` of a split in stored order."""
        return self.records(split, tf.range(start, self._stop(split, stop), dtype=tf.int64))

    def decode(self, record):
        """The raw pixels `(H, W, C)` of a record (uint8, or float for float arrays)."""
        return record

    def labels(self, split):
        """The labels of a split in stored order, as numpy (a stream reads the split once)."""
        batches = self.stream(split).map(lambda record, y: y).batch(1 << 16)
        return np.concatenate([b.numpy() for b in batches]).astype(np.int64)


def _photo_statistics(channels):
    """`(mean, std)` used for photos of unknown statistics: ImageNet's for RGB."""
    return (IMAGENET_MEAN, IMAGENET_STD) if channels == 3 else ((0.5,), (0.25,))


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: {split!r}")


class _TensorSource(Source):
    """A source whose splits are held as tensors: `_splits[split] = (records, labels)`.

    Sizes and labels come from the label tensors; `records` gathers the
    records at the indices, one example at a time, in parallel.
    """

    def size(self, split):
        _check_split(split)
        return int(self._splits[split][1].shape[0])

    def labels(self, split):
        _check_split(split)
        return self._splits[split][1].numpy()

    def records(self, split, indices):
        _check_split(split)
        held = self._splits[split]

        def gather(i):
            return tf.nest.map_structure(lambda t: tf.gather(t, i), held)

        return tf.data.Dataset.from_tensor_slices(indices).map(
            gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


class ArraySource(_TensorSource):
    """Images and labels in memory.

    Args:
        train: `(x, y)`: images `(N, H, W[, C])` and integer labels.
        test: `(x, y)` of the evaluation split.
        info: the `DatasetInfo`; None: inferred from `train`.

    Example:

    >>> (x, y), test, info = load_arrays("embedded")
    >>> ArraySource((x, y), test, info).size("eval")
    1000
    """

    in_memory = True

    def __init__(self, train, test, info=None):
        if test is None:
            raise ValueError("With numpy arrays, pass test=(x_test, y_test) too.")
        self.info = info or info_from_arrays(*train)
        self._splits = {}
        for split, (x, y) in zip(SPLITS, (train, test)):
            x = np.asarray(x)
            x = x[..., None] if x.ndim == 3 else x
            self._splits[split] = (tf.constant(x), tf.constant(np.asarray(y, np.int64)))

    def records(self, split, indices):
        # The pixels of all the indices in one gather: arrays are small and decoded already.
        _check_split(split)
        x, y = self._splits[split]
        return tf.data.Dataset.from_tensors(indices).map(
            lambda i: (tf.gather(x, i), tf.gather(y, i))).unbatch()


def _decode_file(path, contents, channels):
    """Decodes an encoded image; a file that is no image fails naming its path."""
    head = tf.strings.substr(contents, 0, 8)
    known = tf.reduce_any([tf.strings.substr(head, 0, len(s)) == s for s in _SIGNATURES])
    check = tf.debugging.Assert(known, ["Not a JPEG, PNG, BMP or GIF image:", path])
    with tf.control_dependencies([check]):
        image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def check_image_file(path):
    """Checks that a file is a whole JPEG, PNG, BMP or GIF image, by its first and last bytes.

    Reads 16 bytes of the file, so a folder of thousands is checked in a
    moment; it finds files that are not images, empty files and truncated
    JPEG and PNG files.

    Args:
        path: the image file.

    Raises:
        ValueError: naming the file and what is wrong with it.

    Example:

    >>> check_image_file("photos/cat/001.jpg")  # doctest: +SKIP
    """
    with open(path, "rb") as f:
        head = f.read(8)
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 8))
        tail = f.read()
    if not any(head.startswith(s) for s in _SIGNATURES):
        what = "an empty file" if not size else "not a JPEG, PNG, BMP or GIF image"
        raise ValueError(f"Corrupt image {path}: {what}.")
    # A JPEG ends with its end-of-image marker (a few writers pad after it), a PNG with IEND.
    if head.startswith(b"\xff\xd8") and b"\xff\xd9" not in tail:
        raise ValueError(f"Corrupt image {path}: the JPEG data is truncated (no end marker).")
    if head.startswith(b"\x89PNG") and not tail.endswith(b"IEND\xaeB`\x82"):
        raise ValueError(f"Corrupt image {path}: the PNG data is truncated (no IEND chunk).")


def _image_files(directory):
    return sorted(f for f in os.listdir(directory)
                  if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith("."))


def _class_folders(directory):
    return sorted(d for d in os.listdir(directory)
                  if not d.startswith(".") and os.path.isdir(os.path.join(directory, d)))


class ImageFolderSource(_TensorSource):
    """A folder of class folders of JPEG, PNG, BMP or GIF files (Keras's `image_dataset_from_directory` layout).

    Two layouts:

    - `root/train/<class>/*.jpg` with `root/val/<class>/...` (or
      `validation/`, `test/`): ImageNet's layout; the second folder is the
      evaluation split.
    - `root/<class>/*.jpg`: every `eval_every`-th image of each class (in
      file-name order) is held out for evaluation.

    Classes are the class folders' names in sorted order. Images of any size
    are cropped and resized to `image_size` by the pipeline, and decoded with
    `channels` channels: grayscale photos in a colour folder are converted to
    RGB and an alpha channel is dropped, as Keras's `image_dataset_from_directory`
    does. Only the file list is kept in memory.

    Args:
        directory: the root folder.
        image_size: side of the square images the network takes (224).
        channels: 3 (RGB) or 1 (grayscale).
        eval_every: hold out every this-many-th image per class when there
            is no evaluation folder.
        verify: check every file's first and last bytes when the source is
            opened (`check_image_file`); None: when there are at most
            `VERIFY_LIMIT` images. Unchecked files are still checked to be
            images when read, and a bad one fails naming its path.

    Raises:
        ValueError: for a missing or empty folder, a class folder without
            images, an evaluation class the training split lacks, a corrupt
            image (naming the folder or file), or a bad argument.

    Example:

    >>> source = ImageFolderSource("photos", image_size=64)  # doctest: +SKIP
    >>> source.info.num_classes, source.size("train")  # doctest: +SKIP
    (5, 3120)
    """

    def __init__(self, directory, image_size=224, channels=3, eval_every=10, verify=None):
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3. Received: channels={channels!r}")
        check_image_size(image_size)
        if not isinstance(eval_every, int) or eval_every < 2:
            raise ValueError(f"eval_every must be an integer of at least 2. "
                             f"Received: eval_every={eval_every!r}")
        if not os.path.isdir(directory):
            raise ValueError(f"Dataset folder {directory} does not exist or is not a folder.")
        self.directory = directory
        self.channels = channels
        subdirs = _class_folders(directory)
        eval_dir = next((d for d in ("val", "validation", "test") if d in subdirs), None)
        if "train" in subdirs and eval_dir:
            self.classes, train = self._scan(os.path.join(directory, "train"))
            eval_classes, evaluation = self._scan(os.path.join(directory, eval_dir))
            unknown = sorted(set(eval_classes) - set(self.classes))
            if unknown:
                raise ValueError(f"Dataset folder {os.path.join(directory, eval_dir)} has classes "
                                 f"its training folder lacks: {unknown}.")
            index = {c: i for i, c in enumerate(self.classes)}
            evaluation = (evaluation[0], np.array([index[eval_classes[k]] for k in evaluation[1]],
                                                  np.int64))
        else:
            self.classes, (paths, labels) = self._scan(directory)
            held = np.zeros(len(paths), bool)
            for c in range(len(self.classes)):
                held[np.flatnonzero(labels == c)[eval_every - 1::eval_every]] = True
            train, evaluation = (paths[~held], labels[~held]), (paths[held], labels[held])
        files = dict(zip(SPLITS, (train, evaluation)))
        total = len(train[0]) + len(evaluation[0])
        if verify or (verify is None and total <= VERIFY_LIMIT):
            for split in SPLITS:
                for path in files[split][0]:
                    check_image_file(path)
        for split in SPLITS:
            if not len(files[split][0]):
                raise ValueError(f"Dataset folder {directory} has no images for its {split} "
                                 f"split: every {eval_every}th image of a class is held out for "
                                 "evaluation; add images, lower eval_every or add a val/ folder.")
        # Only these tensors stay: about 100 bytes per image (ImageNet's 1.28 M: ~130 MB).
        self._splits = {s: (tf.constant(files[s][0].astype(bytes)), tf.constant(files[s][1]))
                        for s in SPLITS}
        mean, std = _photo_statistics(channels)
        self.info = DatasetInfo(os.path.basename(os.path.normpath(directory)),
                                (image_size, image_size, channels), len(self.classes), mean, std,
                                True, 0, variable_size=True)

    @staticmethod
    def _scan(directory):
        """`(classes, (paths, labels))` of a folder of class folders."""
        classes = _class_folders(directory)
        if not classes:
            raise ValueError(f"Dataset folder {directory} has no class folders (expected "
                             f"{directory}/<class>/<image>.jpg).")
        paths, labels = [], []
        for label, name in enumerate(classes):
            folder = os.path.join(directory, name)
            files = _image_files(folder)
            if not files:
                raise ValueError(f"Class folder {folder} has no images "
                                 f"({', '.join(IMAGE_EXTENSIONS)}).")
            paths += [os.path.join(folder, f) for f in files]
            labels += [label] * len(files)
        return classes, (np.array(paths, dtype=object), np.array(labels, np.int64))

    def records(self, split, indices):
        # Gathers the path and reads the file in the same parallel map.
        _check_split(split)
        paths, labels = self._splits[split]

        def read(i):
            path = tf.gather(paths, i)
            return (path, tf.io.read_file(path)), tf.gather(labels, i)

        return tf.data.Dataset.from_tensor_slices(indices).map(
            read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def decode(self, record):
        return _decode_file(record[0], record[1], self.channels)


class TfdsSource(Source):
    """A `tensorflow_datasets` dataset that is prepared on this machine, streamed from its files.

    Images stay encoded until the pipeline decodes them. The dataset is read
    in its stored order (tfds shuffles it once when it prepares it), so the
    search's weight and architecture halves are contiguous ranges of the
    training split.

    Args:
        info: the dataset's `DatasetInfo` (its `tfds_name` and `eval_split`).
        data_dir: the tensorflow_datasets directory (tfds's default if None).

    Raises:
        DatasetNotAvailableError: if tensorflow_datasets is missing or the
            dataset is not prepared in `data_dir` (keras_darts never
            downloads).

    Example:

    >>> source = TfdsSource(dataset_info("imagenet2012"), "/data/tfds")  # doctest: +SKIP
    >>> source.size("train")  # doctest: +SKIP
    1281167
    """

    random_access = False

    def __init__(self, info, data_dir=None):
        self.info = info
        self._builder = tfds_builder(info, data_dir)  # names a missing tfds or dataset
        import tensorflow_datasets as tfds

        self._tfds = tfds
        self._split_names = {"train": "train", "eval": info.eval_split}
        features = self._builder.info.features
        self._channels = int(features["image"].shape[-1] or info.image_shape[-1])
        self._sizes = {split: self._read(split).cardinality().numpy() for split in SPLITS}
        for split, n in self._sizes.items():
            if n < 0:  # not recorded: ask the dataset's info
                self._sizes[split] = self._builder.info.splits[self._split_names[split]].num_examples

    @classmethod
    def from_name(cls, name, data_dir=None):
        """A source for any tfds image-classification dataset with `image` and `label` features.

        Args:
            name: the tfds name (e.g. `"imagenette/320px"`).
            data_dir: the tensorflow_datasets directory.

        Returns:
            A `TfdsSource`.

        Raises:
            DatasetNotAvailableError: if the dataset is not prepared here.
            ValueError: if it has no `image` and `label` features.
        """
        try:
            info = dataset_info(name)
        except ValueError:
            info = DatasetInfo(name, (224, 224, 3), 0, IMAGENET_MEAN, IMAGENET_STD,
                               tfds_name=name)
        builder = tfds_builder(info, data_dir)
        features = builder.info.features
        if "image" not in features or "label" not in features:
            raise ValueError(f"tfds dataset {name!r} has no 'image' and 'label' features "
                             f"(it has {sorted(features)}).")
        if not info.num_classes:
            shape = tuple(features["image"].shape)
            channels = shape[-1] or 3
            fixed = None not in shape
            splits = builder.info.splits
            eval_split = next((s for s in ("test", "validation") if s in splits), "test")
            info = DatasetInfo(name, shape if fixed else (224, 224, channels),
                               int(features["label"].num_classes),
                               *_photo_statistics(channels), True,
                               max(1, shape[0] // 8) if fixed else 0, tfds_name=name,
                               variable_size=not fixed, eval_split=eval_split)
        return cls(info, data_dir)

    def _read(self, split, start=None, stop=None):
        name = self._split_names[split]
        if start is not None:
            name = f"{name}[{start}:{stop}]"
        try:
            return self._builder.as_dataset(
                split=name, shuffle_files=False,
                decoders={"image": self._tfds.decode.SkipDecoding()},
                read_config=self._tfds.ReadConfig(add_tfds_id=True))
        except Exception as e:  # noqa: BLE001 - tfds raises many kinds
            raise DatasetNotAvailableError(
                f"tfds dataset {self.info.tfds_name!r} has no readable split {name!r} "
                f"({type(e).__name__}: {e}).") from None

    def stream(self, split, start=0, stop=None):
        stop = self._stop(split, stop)
        ds = self._read(split, start, stop).take(stop - start)  # a mock ignores the range
        return ds.map(lambda ex: ((ex["tfds_id"], ex["image"]), ex["label"]))

    def decode(self, record):
        image = _decode_file(record[0], record[1], self._channels)
        if not self.info.variable_size:
            image = tf.ensure_shape(image, self.info.image_shape)
        return image


class TFRecordSource(Source):
    """TFRecord files of `tf.train.Example`s holding encoded images and labels, streamed.

    The layout of ImageNet's TFRecords as TensorFlow's TPU and slim scripts
    write them: `DIR/train-00000-of-01024 ...` and `DIR/validation-00000-of-00128 ...`,
    with the JPEG in `image/encoded` and the class in `image/class/label`
    (1 to 1000 there, which `label_offset="auto"` reads as 0 to 999). Files
    are read in name order, `parallel_reads` at a time (deterministically interleaved), and images
    stay encoded until the pipeline decodes them.

    Args:
        directory: the folder of the files.
        train_pattern, eval_pattern: glob patterns of the training and
            evaluation files in it (`eval_pattern` also tries `test-*`).
        image_size: side of the square images the network takes.
        num_classes: the number of classes; None: one more than the largest
            label (a pass over the training labels).
        image_key, label_key: the `tf.train.Example` features.
        label_offset: subtracted from every label. `"auto"` (the default):
            1 when no split has a label 0 and the training labels start at 1
            (ImageNet's TPU files: classes 1 to 1000, 0 unused), else 0.
        channels: 3 or 1.
        parallel_reads: files read at once.

    Raises:
        ValueError: for a missing folder, no files matching a pattern,
            records without the features (naming the file), or negative labels.

    Example:

    >>> source = TFRecordSource("/data/imagenet-tfrecords")  # doctest: +SKIP
    >>> source.label_offset, source.info.num_classes  # doctest: +SKIP
    (1, 1000)
    """

    random_access = False

    def __init__(self, directory, train_pattern="train-*", eval_pattern="validation-*",
                 image_size=224, num_classes=None, image_key="image/encoded",
                 label_key="image/class/label", label_offset="auto", channels=3,
                 parallel_reads=8):
        check_image_size(image_size)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3. Received: channels={channels!r}")
        if not os.path.isdir(directory):
            raise ValueError(f"TFRecord folder {directory} does not exist or is not a folder.")
        self._files = {}
        for split, patterns in (("train", [train_pattern]), ("eval", [eval_pattern, "test-*"])):
            for pattern in patterns:
                files = sorted(tf.io.gfile.glob(os.path.join(directory, pattern)))
                if files:
                    break
            if not files:
                raise ValueError(f"TFRecord folder {directory} has no {split} files matching "
                                 f"{' or '.join(patterns)}.")
            self._files[split] = files
        self._features = {image_key: tf.io.FixedLenFeature([], tf.string),
                          label_key: tf.io.FixedLenFeature([], tf.int64)}
        if label_offset != "auto" and (not isinstance(label_offset, int)
                                       or isinstance(label_offset, bool)):
            raise ValueError(f"label_offset must be an integer or 'auto'. "
                             f"Received: label_offset={label_offset!r}")
        self._keys = (image_key, label_key)
        self._channels, self._parallel = channels, parallel_reads
        for split, files in self._files.items():  # the first record of each split must parse
            first = next(iter(tf.data.TFRecordDataset(files[:1]).take(1)), None)
            if first is None:
                raise ValueError(f"TFRecord file {files[0]} is empty.")
            try:
                tf.io.parse_single_example(first, self._features)
            except tf.errors.InvalidArgumentError:
                raise ValueError(f"TFRecord file {files[0]} holds no {image_key!r} bytes and "
                                 f"{label_key!r} integer features (pass image_key and "
                                 "label_key).") from None
        # One pass over each split's labels gives its size, the offset and, if not given,
        # the classes.
        stored = {split: self._stored_labels(split) for split in SPLITS}
        if label_offset == "auto":
            starts_at_1 = stored["train"].size and stored["train"].min() == 1
            label_offset = int(bool(starts_at_1 and all((v != 0).all()
                                                        for v in stored.values())))
        #: the offset subtracted from the stored labels.
        self.label_offset = label_offset
        self._labels = {split: v - label_offset for split, v in stored.items()}
        for split, labels in self._labels.items():
            if labels.size and labels.min() < 0:
                raise ValueError(f"TFRecord folder {directory} has {split} label "
                                 f"{labels.min() + label_offset}, below label_offset="
                                 f"{label_offset}: labels must be 0 or more after the offset.")
        self._sizes = {split: len(labels) for split, labels in self._labels.items()}
        if num_classes is None:
            num_classes = int(self._labels["train"].max()) + 1
        self.info = DatasetInfo(os.path.basename(os.path.normpath(directory)),
                                (image_size, image_size, channels), num_classes,
                                *_photo_statistics(channels), True, 0, variable_size=True)

    def _stored_labels(self, split):
        """A split's labels as the files store them (before `label_offset`)."""
        label_key = self._keys[1]
        feature = {label_key: self._features[label_key]}
        batches = self._raw(split).batch(1 << 14).map(
            lambda s: tf.io.parse_example(s, feature)[label_key])
        return np.concatenate([b.numpy() for b in batches] or [np.zeros(0, np.int64)])

    def labels(self, split):
        _check_split(split)
        return self._labels[split]

    def _raw(self, split):
        return tf.data.TFRecordDataset(self._files[split], num_parallel_reads=self._parallel)

    def stream(self, split, start=0, stop=None):
        stop = self._stop(split, stop)
        image_key, label_key = self._keys

        def parse(serialized):
            example = tf.io.parse_single_example(serialized, self._features)
            return ((tf.constant("a TFRecord example"), example[image_key]),
                    example[label_key] - self.label_offset)

        return self._raw(split).skip(start).take(stop - start).map(
            parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def decode(self, record):
        return _decode_file(record[0], record[1], self._channels)


class DatasetSource(Source):
    """A user's unbatched `tf.data.Dataset`s of `(image, label)`, streamed.

    Args:
        train: the training split.
        test: the evaluation split.

    Raises:
        ValueError: if `test` is not a `tf.data.Dataset`.

    Example:

    >>> source = DatasetSource(train_ds, test_ds)  # doctest: +SKIP
    """

    random_access = False

    def __init__(self, train, test):
        if test is None or not isinstance(test, tf.data.Dataset):
            raise ValueError("With a tf.data.Dataset source, pass test=<tf.data.Dataset> too.")
        self._data = dict(zip(SPLITS, (train, test)))
        shape = tuple(train.element_spec[0].shape)
        labels = train.map(lambda x, y: y).reduce(tf.constant(-1, tf.int64),
                                                  lambda m, y: tf.maximum(m, tf.cast(y, tf.int64)))
        self.info = DatasetInfo("dataset", shape, int(labels) + 1, (0.0,) * shape[-1],
                                (1.0,) * shape[-1], False, 0, 1.0)
        self._sizes = {}
        for split, ds in self._data.items():
            n = int(ds.cardinality())
            self._sizes[split] = n if n >= 0 else int(ds.reduce(0, lambda c, _: c + 1))

    def stream(self, split, start=0, stop=None):
        stop = self._stop(split, stop)
        return self._data[split].skip(start).take(stop - start)


def _available_memory():
    """Bytes of memory available to a new allocation (Linux: MemAvailable)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


class CachedSource(_TensorSource):
    """Another source's records, read once when opened and then served from memory.

    Every file of an image folder is read once, and every record of a tfds or
    TFRecord stream parsed once. The images stay encoded (JPEG/PNG bytes):
    decoding and augmentation still run every epoch, so the batches are the
    wrapped source's, bit for bit (a stream stays a stream: its halves and
    windows do not change). Worth it when the files sit on a slow or shared
    disk and the encoded dataset fits in memory: the embedded-size folders
    and ImageNet subsets of a search, not ImageNet's 140 GB.

    Args:
        source: a `Source` read from files (a folder, tfds, TFRecords).
        memory_limit: most bytes of records to hold (None: a third of the
            memory available when opened). Reading stops with an error, and
            nothing is kept, as soon as the records pass it.

    Raises:
        ValueError: for a source that is in memory already or a user
            `tf.data` pipeline (cache that with `Dataset.cache()`), or records
            over `memory_limit` (naming the split and the sizes).

    Example:

    >>> source = CachedSource(open_source("photos/", image_size=64))  # doctest: +SKIP
    >>> source.cached_bytes  # doctest: +SKIP
    4718592
    """

    def __init__(self, source, memory_limit=None):
        if source.in_memory or isinstance(source, (CachedSource, DatasetSource)):
            raise ValueError(f"Cannot cache {type(source).__name__} {source.info.name!r}: it "
                             "is in memory already or a tf.data pipeline of its own (call "
                             ".cache() on the pipeline).")
        self.source, self.info = source, source.info
        self.random_access = source.random_access
        limit = _available_memory() // 3 if memory_limit is None else memory_limit
        self._splits, self.cached_bytes = {}, 0
        for split in SPLITS:
            chunks = []
            for chunk in source.stream(split).batch(4096):
                chunks.append(chunk)
                self.cached_bytes += sum(
                    int(tf.reduce_sum(tf.strings.length(t))) if t.dtype == tf.string
                    else t.numpy().nbytes for t in tf.nest.flatten(chunk))
                if self.cached_bytes > limit:
                    self._splits = {}
                    raise ValueError(
                        f"Cannot cache {self.info.name!r}: its records pass the memory limit of "
                        f"{limit / 2 ** 20:.1f} MB in the {split} split "
                        f"({self.cached_bytes / 2 ** 20:.1f} MB read). Leave the cache off, or "
                        "free memory.")
            if not chunks:
                raise ValueError(f"Cannot cache {self.info.name!r}: its {split} split is empty.")
            self._splits[split] = tf.nest.map_structure(lambda *t: tf.concat(t, 0), *chunks)

    def decode(self, record):
        return self.source.decode(record)


def open_source(dataset, test=None, data_dir=None, image_size=None, cache=False):
    """Resolves a dataset argument to a `Source`.

    Args:
        dataset: a dataset name (see `keras_darts.data.dataset_names()`),
            `"tfds:NAME"` for any prepared tfds image-classification dataset,
            `"tfrecord:DIR"` for TFRecord files of encoded images (`TFRecordSource`),
            a folder of class folders of images (`ImageFolderSource`), `(x, y)`
            numpy arrays, an unbatched `tf.data.Dataset` of `(image, label)`,
            or a `Source`.
        test: the evaluation split for arrays and tf.data sources.
        data_dir: the tensorflow_datasets directory.
        image_size: side of the images the network takes, for datasets of
            varying image sizes (folders: 224 if None; ImageNet: 224).
        cache: keep the records of a file source in memory once read
            (`CachedSource`); ignored for arrays (in memory already) and
            `tf.data` pipelines (cache those with `Dataset.cache()`).

    Returns:
        A `Source`.

    Raises:
        ValueError: for an unknown name, a bad folder or bad arrays (naming
            the problem), an `image_size` for fixed-size images, or a cache
            that does not fit (`CachedSource`).
        DatasetNotAvailableError: if a named dataset is not on this machine.

    Example:

    >>> open_source("embedded").info.image_shape
    (28, 28, 1)
    >>> open_source("photos/", image_size=64).info.image_shape  # doctest: +SKIP
    (64, 64, 3)
    """
    check_image_size(image_size)  # a bad size fails before any data is opened
    if image_size is not None and isinstance(dataset, str) and dataset in dataset_names():
        dataset_info(dataset).resized(image_size)
    if isinstance(dataset, Source):
        source = dataset
    elif isinstance(dataset, tf.data.Dataset):
        source = DatasetSource(dataset, test)
    elif isinstance(dataset, str) and dataset.startswith("tfds:"):
        source = TfdsSource.from_name(dataset[len("tfds:"):], data_dir)
    elif isinstance(dataset, str) and dataset.startswith("tfrecord:"):
        source = TFRecordSource(dataset[len("tfrecord:"):],
                                image_size=224 if image_size is None else image_size)
        image_size = None
    elif isinstance(dataset, str) and (os.sep in dataset or os.path.isdir(dataset)):
        source = ImageFolderSource(dataset, 224 if image_size is None else image_size)
        image_size = None
    elif isinstance(dataset, str):
        info = dataset_info(dataset)
        if info.tfds_name and (info.variable_size or not _local_arrays(info)):
            source = TfdsSource(info, data_dir)
        else:
            train, test, info = load_arrays(dataset, data_dir)
            source = ArraySource(train, test, info)
    else:
        try:
            x, y = dataset
        except (TypeError, ValueError):
            raise ValueError(
                "source must be a dataset name, a folder, (x, y) numpy arrays or a "
                f"tf.data.Dataset. Received: {type(dataset).__name__}") from None
        source = ArraySource((x, y), test)
    if image_size is not None:
        source.info = source.info.resized(image_size)
    if cache and not source.in_memory and not isinstance(source, (CachedSource, DatasetSource)):
        source = CachedSource(source)
    return source


def config_source(config):
    """Opens a config's dataset (`dataset`, `data_dir`, `image_size`) as a `Source`.

    Args:
        config: a `SearchConfig` or a `TrainConfig`.

    Returns:
        A `keras_darts.data.sources.Source`; its `info` is what the network takes.

    Raises:
        ValueError: for an unknown dataset or a bad folder or image (naming it).
        DatasetNotAvailableError: if the dataset is not on this machine.

    Example:

    >>> from keras_darts.search import SearchConfig
    >>> config_source(SearchConfig.from_preset("small")).info.image_shape
    (28, 28, 1)
    """
    return open_source(config.dataset, data_dir=config.data_dir, image_size=config.image_size,
                       cache=config.cache)


def _local_arrays(info):
    """Whether `load_arrays` reads this tfds-named dataset from local files, not tfds."""
    from keras_darts.data.datasets import _fashion_mnist_files

    return info.name == "fashion_mnist" and _fashion_mnist_files() is not None


__all__ = ["ArraySource", "CachedSource", "DatasetNotAvailableError", "DatasetSource",
           "ImageFolderSource", "Source", "TFRecordSource", "TfdsSource", "check_image_file",
           "config_source", "open_source"]
