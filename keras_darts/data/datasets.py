"""Dataset sources: the embedded subset, scikit-learn digits, local files and tfds names.

Every source yields uint8-or-float images `(N, H, W, C)` and integer labels.
Nothing here downloads at run time unless asked to: a dataset that is not on
the machine fails at once with a message saying how to get it.
"""

import dataclasses
import gzip
import os

import numpy as np

EMBEDDED_PATH = os.path.join(os.path.dirname(__file__), "embedded", "fashion_mnist_subset.npz")
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


class DatasetNotAvailableError(ValueError):
    """The dataset is not available offline on this machine (the message says how to get it).

    Example:

    >>> try:
    ...     load_arrays("cifar10")
    ... except DatasetNotAvailableError as e:
    ...     print(e)  # "... is not prepared in ... download_and_prepare ..."  # doctest: +SKIP
    """


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Static facts about a dataset.

    Attributes:
        name: dataset name.
        image_shape: `(height, width, channels)` after preprocessing.
        num_classes: number of classes.
        mean: per-channel mean of images scaled to [0, 1].
        std: per-channel standard deviation.
        flip: whether horizontal flips are a valid augmentation.
        crop_padding: zero padding before the random crop (0: no crop).
        scale: divisor that maps raw pixel values to [0, 1].
        tfds_name: the `tensorflow_datasets` name, if any.
        variable_size: the images come in varying sizes (photos, ImageNet):
            training takes a random resized crop to `image_shape`, evaluation
            resizes the shorter side to `image_shape[0] / 0.875` (256 for 224)
            and takes the centre crop, as the ImageNet references do.
            Otherwise every image already has `image_shape`, and training pads
            by `crop_padding` and crops back (the CIFAR references).
        color_jitter: brightness, contrast and saturation jitter (factors in
            `[1 - j, 1 + j]`) and hue jitter `j / 2` of training images with
            `variable_size` (0.4 for ImageNet, as DARTS trains it); 0: off.
        eval_split: the tfds split evaluated on (`"validation"` for ImageNet).

    Example:

    >>> dataset_info("cifar10").num_classes
    10
    """

    name: str
    image_shape: tuple
    num_classes: int
    mean: tuple
    std: tuple
    flip: bool = True
    crop_padding: int = 4
    scale: float = 255.0
    tfds_name: str = None
    variable_size: bool = False
    color_jitter: float = 0.0
    eval_split: str = "test"

    def resized(self, image_size):
        """This dataset at another square size (for datasets of varying image sizes).

        Args:
            image_size: side of the images the network takes, or None (unchanged).

        Returns:
            A `DatasetInfo`.

        Raises:
            ValueError: if the images have one fixed size (resizing them would
                change the dataset, not its preprocessing) or the size is not a
                positive integer.

        Example:

        >>> dataset_info("imagenet2012").resized(64).image_shape
        (64, 64, 3)
        """
        if image_size is None or (image_size, image_size) == tuple(self.image_shape[:2]):
            return self
        check_image_size(image_size)
        if not self.variable_size:
            raise ValueError(f"image_size applies to datasets of varying image sizes (image "
                             f"folders, ImageNet); every image of {self.name!r} is "
                             f"{self.image_shape[0]}x{self.image_shape[1]}. "
                             f"Received: image_size={image_size}")
        return dataclasses.replace(self, image_shape=(image_size, image_size,
                                                      self.image_shape[2]))


def check_image_size(image_size):
    """Raises `ValueError` unless `image_size` is an integer of at least 8 (or None).

    Example:

    >>> check_image_size(224)
    """
    if image_size is not None and (not isinstance(image_size, int) or isinstance(image_size, bool)
                                   or image_size < 8):
        raise ValueError(f"image_size must be an integer of at least 8. "
                         f"Received: image_size={image_size!r}")


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_INFO = {
    "fashion_mnist_subset": DatasetInfo("fashion_mnist_subset", (28, 28, 1), 10, (0.2860,),
                                        (0.3530,), True, 2),
    "digits": DatasetInfo("digits", (8, 8, 1), 10, (0.3053,), (0.3760,), False, 1, 16.0),
    "fashion_mnist": DatasetInfo("fashion_mnist", (28, 28, 1), 10, (0.2860,), (0.3530,), True, 2,
                                 tfds_name="fashion_mnist"),
    "mnist": DatasetInfo("mnist", (28, 28, 1), 10, (0.1307,), (0.3081,), False, 2,
                         tfds_name="mnist"),
    "cifar10": DatasetInfo("cifar10", (32, 32, 3), 10, (0.4914, 0.4822, 0.4465),
                           (0.2470, 0.2435, 0.2616), True, 4, tfds_name="cifar10"),
    "cifar100": DatasetInfo("cifar100", (32, 32, 3), 100, (0.5071, 0.4865, 0.4409),
                            (0.2673, 0.2564, 0.2762), True, 4, tfds_name="cifar100"),
    "svhn_cropped": DatasetInfo("svhn_cropped", (32, 32, 3), 10, (0.4377, 0.4438, 0.4728),
                                (0.1980, 0.2010, 0.1970), False, 4, tfds_name="svhn_cropped"),
    "imagenet2012": DatasetInfo("imagenet2012", (224, 224, 3), 1000, IMAGENET_MEAN, IMAGENET_STD,
                                True, 0, tfds_name="imagenet2012", variable_size=True,
                                color_jitter=0.4, eval_split="validation"),
}
_ALIASES = {"embedded": "fashion_mnist_subset", "sklearn_digits": "digits"}

DEFAULT_DATASET = "fashion_mnist_subset"


def dataset_names():
    """Names accepted by `dataset_info` and `load_arrays` (aliases included).

    Example:

    >>> "embedded" in dataset_names()
    True
    """
    return sorted(set(_INFO) | set(_ALIASES))


def dataset_info(name):
    """Returns the `DatasetInfo` of a named dataset.

    Args:
        name: one of `dataset_names()`.

    Returns:
        A `DatasetInfo`.

    Raises:
        ValueError: for an unknown name.

    Example:

    >>> dataset_info("embedded").image_shape
    (28, 28, 1)
    """
    key = _ALIASES.get(name, name)
    if key not in _INFO:
        raise ValueError(f"Unknown dataset {name!r}. Known datasets: {dataset_names()}; "
                         "or pass numpy arrays or a tf.data.Dataset.")
    return _INFO[key]


def info_from_arrays(x, y, name="arrays"):
    """Infers a `DatasetInfo` (shape, classes, mean, std) from numpy arrays.

    Args:
        x: images `(N, H, W)` or `(N, H, W, C)`.
        y: integer labels `(N,)`.
        name: a name for logs.

    Returns:
        A `DatasetInfo` with no flips and a padding of 1/8 of the height.

    Raises:
        ValueError: if the shapes do not fit together or labels are not integers.

    Example:

    >>> info_from_arrays(np.zeros((4, 8, 8), np.uint8), np.arange(4)).num_classes
    4
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"Expected images (N, H, W[, C]) and N labels. Received: x {x.shape}, "
                         f"y {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"Labels must be integers. Received dtype {y.dtype}")
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    xs = x.astype(np.float32) / scale
    return DatasetInfo(name, tuple(x.shape[1:]), int(y.max()) + 1,
                       tuple(float(v) for v in xs.mean(axis=(0, 1, 2))),
                       tuple(float(max(v, 1e-3)) for v in xs.std(axis=(0, 1, 2))),
                       False, max(1, x.shape[1] // 8), scale)


def _read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def _fashion_mnist_files():
    candidates = [DEBIAN_FASHION_MNIST,
                  os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")),
                               "datasets", "fashion-mnist")]
    for d in candidates:
        if os.path.exists(os.path.join(d, "train-images-idx3-ubyte.gz")):
            return d
    return None


def load_arrays(name, data_dir=None):
    """Loads a dataset that fits in memory as numpy arrays.

    Args:
        name: `"fashion_mnist_subset"` (alias `"embedded"`), `"digits"`,
            `"fashion_mnist"` (from Debian's `dataset-fashion-mnist` or the
            Keras cache) or `"mnist"` (Keras cache), else a tfds name that is
            already prepared in `data_dir`.
        data_dir: the tensorflow_datasets directory.

    Returns:
        `((x_train, y_train), (x_test, y_test), info)`; images are
        `(N, H, W, C)`.

    Raises:
        ValueError: for an unknown name.
        DatasetNotAvailableError: if the dataset is not on this machine.

    Example:

    >>> (x, y), (xt, yt), info = load_arrays("embedded")
    >>> x.shape, xt.shape
    ((5000, 28, 28, 1), (1000, 28, 28, 1))
    """
    info = dataset_info(name)
    if info.name == "fashion_mnist_subset":
        with np.load(EMBEDDED_PATH) as d:
            train, test = (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])
    elif info.name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = digits.images.astype(np.float32), digits.target.astype(np.int64)
        rng = np.random.default_rng(0)
        idx = rng.permutation(len(x))
        cut = int(0.8 * len(x))
        train, test = (x[idx[:cut]], y[idx[:cut]]), (x[idx[cut:]], y[idx[cut:]])
    elif info.name == "fashion_mnist" and _fashion_mnist_files():
        d = _fashion_mnist_files()
        train = (_read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28),
                 _read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), 8))
        test = (_read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), 16).reshape(-1, 28, 28),
                _read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 8))
    else:
        train, test = _load_tfds_arrays(info, data_dir)
    train = (_with_channels(train[0]), np.asarray(train[1], np.int64))
    test = (_with_channels(test[0]), np.asarray(test[1], np.int64))
    return train, test, info


def _with_channels(x):
    x = np.asarray(x)
    return x[..., None] if x.ndim == 3 else x


def tfds_builder(info, data_dir=None):
    """Returns a prepared tfds builder, or raises `DatasetNotAvailableError` at once.

    Never touches the network: tfds is only asked whether the data is already
    prepared in `data_dir`.

    Args:
        info: the dataset's `DatasetInfo` (with a `tfds_name`).
        data_dir: the tensorflow_datasets directory (default tfds's).

    Returns:
        A `tfds.core.DatasetBuilder` whose data is prepared.

    Raises:
        DatasetNotAvailableError: if tfds is missing or the data is not prepared.

    Example:

    >>> builder = tfds_builder(dataset_info("cifar10"), "/data/tfds")  # doctest: +SKIP
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DatasetNotAvailableError(
            f"Dataset {info.name!r} needs tensorflow_datasets: pip install tensorflow-datasets."
        ) from None
    try:
        builder = tfds.builder(info.tfds_name, data_dir=data_dir)
        prepared = builder.is_prepared() or _readable(builder)
    except Exception as e:  # noqa: BLE001 - tfds raises many kinds
        prepared, builder = False, None
        reason = f" ({type(e).__name__}: {e})"
    else:
        reason = ""
    if not prepared:
        where = data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
        manual = (" ImageNet must be downloaded by hand from image-net.org into "
                  "<data_dir>/downloads/manual first." if info.name == "imagenet2012" else "")
        raise DatasetNotAvailableError(
            f"Dataset {info.name!r} is not prepared in {where}{reason}. keras_darts never "
            "downloads at run time. On a machine with internet run `python -c \"import "
            f"tensorflow_datasets as tfds; tfds.builder('{info.tfds_name}').download_and_prepare()\"` "
            f"and copy the directory here, or pass --data-dir.{manual} Without it, use the "
            "embedded dataset ('fashion_mnist_subset'), 'digits', or your own numpy arrays."
        )
    return builder


def _readable(builder):
    """Whether a builder that is not prepared still reads (tfds's `testing.mock_data`)."""
    try:
        builder.as_dataset(split="train")
    except Exception:  # noqa: BLE001 - an unprepared builder raises AssertionError, others vary
        return False
    return True


def _load_tfds_arrays(info, data_dir):
    from keras_darts.data.sources import TfdsSource

    if info.variable_size:
        raise ValueError(f"Dataset {info.name!r} has images of varying sizes and does not fit "
                         "in memory: stream it with keras_darts.data.search_data or train_data.")
    source = TfdsSource(info, data_dir)
    out = []
    for split in ("train", "eval"):
        decoded = source.stream(split).map(lambda record, y: (source.decode(record), y))
        x, y = zip(*((a.numpy(), b.numpy()) for a, b in decoded.batch(4096)))
        out.append((np.concatenate(x), np.concatenate(y)))
    return out
