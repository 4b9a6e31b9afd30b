"""tf.data pipelines: preprocessing, augmentation, the search split, evaluation data."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_darts.data.datasets import DatasetInfo, dataset_info, info_from_arrays, load_arrays


@dataclasses.dataclass
class SearchData:
    """Everything `fit()` needs for a search.

    The training stream is a pure function of the seed and the position: the
    batches of epoch `e` are shuffled and augmented with seeds derived from
    `(seed, e)`, so a run resumed at epoch `e`, step `s` (`train_from(e, s)`)
    sees exactly the batches the uninterrupted run saw there.

    Attributes:
        train: the search stream from the start (`train_from(0)`): one epoch
            of `steps_per_epoch` batches after the other, without end, so pass
            `steps_per_epoch=data.steps_per_epoch` to `fit()`. Batches are
            `((x_t, y_t), (x_v, y_v))` (`mode="bilevel"` or `"paired"`) or
            `(x, y)` (`mode="single"` or `"split"`).
        validation: `(x, y)` batches of the test split, for
            `fit(validation_data=...)` and `evaluate`.
        steps_per_epoch: batches per epoch of `train`.
        info: the dataset's `DatasetInfo`.
        mode: `"bilevel"`, `"single"`, `"paired"` or `"split"`.
        holdout: `"split"` mode only: `(x, y)` batches of the held-out part
            of the training set, normalised and not augmented (DARTS-PD scores
            paths on it); None otherwise.
        epoch_batches: `epoch -> tf.data.Dataset` of that epoch's batches.

    Example:

    >>> data = search_data("embedded", batch_size=32)
    >>> data.steps_per_epoch
    78
    >>> model.fit(data.train, epochs=3, steps_per_epoch=data.steps_per_epoch)  # doctest: +SKIP
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    steps_per_epoch: int
    info: DatasetInfo
    mode: str
    holdout: tf.data.Dataset = None
    epoch_batches: object = None

    def __post_init__(self):
        if self.train is None and self.epoch_batches is not None:
            self.train = self.train_from(0)

    def train_from(self, epoch, step=0, epochs=None):
        """The training stream from batch `step` of epoch `epoch` on.

        Args:
            epoch: the (0-based) epoch to start in.
            step: the batch of that epoch to start at (0-based).
            epochs: end the stream after this many epochs (counting the one
                it starts in); None: without end. A stream that ends where
                `fit()` does leaves no read-ahead running when `fit()` returns.

        Returns:
            A `tf.data.Dataset` of batches, endless unless `epochs` is given.

        Raises:
            ValueError: for a negative position or `step >= steps_per_epoch`.

        Example:

        >>> resumed = data.train_from(2, 5)  # the 6th batch of the 3rd epoch onwards
        """
        if epoch < 0 or not 0 <= step < self.steps_per_epoch:
            raise ValueError(f"No batch {step} of epoch {epoch}: epochs count from 0 and have "
                             f"{self.steps_per_epoch} batches.")
        ds = tf.data.Dataset.counter(epoch)
        if epochs is not None:
            ds = ds.take(epochs)
        return prefetched(ds.flat_map(self.epoch_batches).skip(step))


def prefetched(ds):
    """`ds` with its next batches prepared in the background, without tf.data's autotuner.

    The autotuner's background thread (`tf_data_model`) runs until the
    iterator is deleted, and deleting it waits for that thread's current
    pass: `fit()` then returned up to 42 s after its last epoch (6 of 12
    one-minute trainings of the `small` preset on 2 cores waited over 10 s;
    `benchmarks/fit_exit.py`: 2 of 5 waited 29-30 s with the autotuner, 0 of
    5 without, the same training time either way). These pipelines make a
    batch in 3-7 ms, far less than a training step, so tuning buys nothing.

    Args:
        ds: a `tf.data.Dataset`.

    Returns:
        The dataset, prefetching, with autotuning off.

    Example:

    >>> prefetched(tf.data.Dataset.range(4).batch(2))  # doctest: +SKIP
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)


def normalize(x, info):
    """Scales raw pixels to [0, 1] and standardises them per channel.

    Args:
        x: raw images (any shape ending in channels).
        info: the `DatasetInfo` (scale, mean, std).

    Returns:
        A float32 tensor.

    Example:

    >>> (x, _), _, info = load_arrays("embedded")
    >>> normalize(x[:8], info).shape
    TensorShape([8, 28, 28, 1])
    """
    x = tf.cast(x, tf.float32) / info.scale
    return (x - tf.constant(info.mean, tf.float32)) / tf.constant(info.std, tf.float32)


def augment(x, seed, info, cutout=0):
    """Random crop with zero padding, horizontal flip (if valid) and cutout; stateless.

    Args:
        x: one normalised image `(H, W, C)`.
        seed: a `(2,)` int tensor; the same seed gives the same augmentation.
        info: the `DatasetInfo` (crop padding, flip).
        cutout: side of the square zeroed by cutout (0: off).

    Returns:
        The augmented image.

    Example:

    >>> augment(image, tf.constant([1, 2], tf.int64), dataset_info("cifar10"), cutout=16)  # doctest: +SKIP
    """
    h, w, c = info.image_shape
    seeds = tf.random.experimental.stateless_split(seed, 4)
    if info.crop_padding:
        p = info.crop_padding
        x = tf.pad(x, [[p, p], [p, p], [0, 0]])
        x = tf.image.stateless_random_crop(x, (h, w, c), seed=seeds[0])
    if info.flip:
        x = tf.image.stateless_random_flip_left_right(x, seed=seeds[1])
    if cutout:
        cy = tf.random.stateless_uniform((), seeds[2], 0, h, tf.int32)
        cx = tf.random.stateless_uniform((), seeds[3], 0, w, tf.int32)
        ys = tf.range(h)[:, None]
        xs = tf.range(w)[None, :]
        top, left = cy - cutout // 2, cx - cutout // 2
        inside = (ys >= top) & (ys < top + cutout) & (xs >= left) & (xs < left + cutout)
        x = x * tf.cast(~inside, x.dtype)[:, :, None]
    return x


def _source(source, test, data_dir):
    """Resolves a source to `(train_ds, test_ds, n_train, info)` of unbatched raw examples."""
    if isinstance(source, str):
        (x, y), (xt, yt), info = load_arrays(source, data_dir)
    elif isinstance(source, tf.data.Dataset):
        if test is None or not isinstance(test, tf.data.Dataset):
            raise ValueError("With a tf.data.Dataset source, pass test=<tf.data.Dataset> too.")
        spec = source.element_spec
        shape = tuple(spec[0].shape)
        info = DatasetInfo("dataset", shape, _num_classes(source), (0.0,) * shape[-1],
                           (1.0,) * shape[-1], False, 0, 1.0)
        n = int(source.cardinality())
        if n < 0:
            n = sum(1 for _ in source)
        return source, test, n, info
    else:
        try:
            x, y = source
        except (TypeError, ValueError):
            raise ValueError(
                "source must be a dataset name, (x, y) numpy arrays or a tf.data.Dataset. "
                f"Received: {type(source).__name__}"
            ) from None
        info = info_from_arrays(x, y)
        x = np.asarray(x)
        x = x[..., None] if x.ndim == 3 else x
        y = np.asarray(y, np.int64)
        if test is None:
            raise ValueError("With numpy arrays, pass test=(x_test, y_test) too.")
        xt, yt = test
        xt = np.asarray(xt)
        xt = xt[..., None] if xt.ndim == 3 else xt
        yt = np.asarray(yt, np.int64)
    return (tf.data.Dataset.from_tensor_slices((x, y)), tf.data.Dataset.from_tensor_slices((xt, yt)),
            len(x), info)


def _num_classes(ds):
    return int(max(int(y) for _, y in ds.as_numpy_iterator())) + 1


def _augmented(ds, info, seed, augmentation, cutout, epoch, count):
    """Normalises and augments one epoch; example `i` of epoch `e` gets the seed `(seed, e*count+i)`."""

    def fn(i, example):
        x, y = example
        x = normalize(x, info)
        if len(x.shape) == 2:
            x = x[..., None]
        if augmentation:
            example_seed = tf.stack([tf.constant(seed, tf.int64), epoch * count + i])
            x = augment(x, example_seed, info, cutout)
        return x, y

    return ds.enumerate().map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def eval_data(source="fashion_mnist_subset", batch_size=256, test=None, data_dir=None):
    """Batches of the test split, normalised, not augmented.

    Args:
        source: a dataset name, `(x, y)` arrays (with `test`), or a tf.data.Dataset.
        batch_size: batch size.
        test: test data for array / tf.data sources.
        data_dir: tensorflow_datasets directory.

    Returns:
        `(dataset, info)`.

    Example:

    >>> ds, info = eval_data("digits", batch_size=64)
    """
    _, test_ds, _, info = _source(source, test, data_dir)
    ds = test_ds.map(lambda x, y: (normalize(x, info), y)).batch(batch_size)
    return prefetched(ds), info


def search_data(source="fashion_mnist_subset", batch_size=64, mode="bilevel", train_portion=0.5,
                seed=0, augmentation=True, max_train=None, test=None, data_dir=None,
                eval_batch_size=256, cutout=0):
    """Builds the search dataset: the training set split into weight and architecture halves.

    In `"bilevel"` mode the training set (after an optional seeded
    subsample to `max_train` examples) is shuffled with `seed` once and split
    into a weight part (`train_portion`) and an architecture part (the rest),
    as the DARTS reference does; each part is reshuffled every epoch as a
    function of `(seed, epoch)`, augmented (crop, flip) and batched, and the two are zipped into
    `((x_t, y_t), (x_v, y_v))` batches. In `"single"` mode the whole training
    set gives `(x, y)` batches. In `"paired"` mode two independently shuffled
    passes over the whole training set are zipped into `((x_1, y_1), (x_2, y_2))`
    batches (two different batches of the same subset: the Single-DARTS
    ablation). Incomplete batches are dropped so every step
    has the same shape.

    Args:
        source: a dataset name (see `dataset_names()`), `(x_train, y_train)`
            numpy arrays (pass `test` too), or an unbatched tf.data.Dataset of
            `(image, label)` (pass `test` too).
        batch_size: batch size of each half.
        mode: `"bilevel"`, `"single"`, `"paired"` or `"split"`.
        train_portion: share of the training set used for weights (0.5).
        seed: shuffling and augmentation seed.
        augmentation: apply random crop and flip.
        max_train: use at most this many training examples (a seeded subset).
        test: test data for array / tf.data sources.
        data_dir: tensorflow_datasets directory.
        eval_batch_size: batch size of `validation`.
        cutout: side of the cutout square (0: off; 16 for CIFAR training).

    Returns:
        A `SearchData`.

    Raises:
        ValueError: for a bad mode, portion or batch size, or too little data
            for one batch.
        DatasetNotAvailableError: if a named dataset is not on this machine.

    Example:

    >>> data = search_data("embedded", batch_size=32, seed=0)
    >>> model.fit(data.train, validation_data=data.validation, epochs=2)  # doctest: +SKIP
    """
    if mode not in ("bilevel", "single", "paired", "split"):
        raise ValueError("mode must be 'bilevel', 'single', 'paired' or 'split'. "
                         f"Received: mode={mode!r}")
    if not 0 < train_portion < 1:
        raise ValueError(f"train_portion must be in (0, 1). Received: {train_portion!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: {batch_size!r}")
    if not isinstance(cutout, int) or cutout < 0:
        raise ValueError(f"cutout must be a non-negative integer. Received: cutout={cutout!r}")
    if isinstance(source, str):
        dataset_info(source)  # unknown names fail before any loading
    train_ds, test_ds, n, info = _source(source, test, data_dir)
    if max_train is not None and max_train < n:
        train_ds = train_ds.shuffle(n, seed=seed + 1, reshuffle_each_iteration=False).take(max_train)
        n = max_train
    train_ds = train_ds.cache().shuffle(n, seed=seed, reshuffle_each_iteration=False)

    def batches(ds, count, offset):
        """`epoch -> batches of that epoch`: reshuffled and augmented as a function of (seed, epoch)."""
        if count < batch_size:
            raise ValueError(
                f"Only {count} examples for a batch of {batch_size}: lower batch_size or "
                "raise max_train."
            )

        def permute(x, y, epoch):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(count), tf.stack([tf.constant(seed + offset, tf.int64), epoch]))
            return tf.gather(x, order), tf.gather(y, order)

        def epoch_batches(epoch):
            # A full shuffle whose order is a function of (seed, epoch): tf.data's
            # shuffle cannot take a per-epoch seed tensor under a global seed.
            d = ds.batch(count).map(lambda x, y: permute(x, y, epoch)).unbatch()
            d = _augmented(d, info, seed + 100 + offset, augmentation, cutout, epoch, count)
            return d.batch(batch_size, drop_remainder=True)

        return epoch_batches, count // batch_size

    holdout = None
    if mode == "bilevel":
        n_w = int(np.floor(train_portion * n))
        w_batches, steps_w = batches(train_ds.take(n_w), n_w, 2)
        a_batches, steps_a = batches(train_ds.skip(n_w), n - n_w, 3)
        steps = min(steps_w, steps_a)

        def epoch_batches(e):
            return tf.data.Dataset.zip((w_batches(e), a_batches(e))).take(steps)
    elif mode == "split":
        n_w = int(np.floor(train_portion * n))
        epoch_batches, steps = batches(train_ds.take(n_w), n_w, 2)
        holdout = train_ds.skip(n_w).map(lambda x, y: (normalize(x, info), y))
        holdout = prefetched(holdout.batch(eval_batch_size).cache())
    elif mode == "paired":
        first, steps = batches(train_ds, n, 2)
        second, _ = batches(train_ds, n, 3)

        def epoch_batches(e):
            return tf.data.Dataset.zip((first(e), second(e)))
    else:
        epoch_batches, steps = batches(train_ds, n, 2)
    val = test_ds.map(lambda x, y: (normalize(x, info), y)).batch(eval_batch_size)
    return SearchData(None, prefetched(val.cache()), steps, info, mode, holdout,
                      epoch_batches)


def train_data(source="fashion_mnist_subset", batch_size=96, seed=0, augmentation=True,
               cutout=0, max_train=None, test=None, data_dir=None, eval_batch_size=256):
    """`(x, y)` batches of the whole training set for stand-alone training.

    The same pipeline as `search_data(mode="single")`, with cutout.

    Args:
        source: a dataset name, `(x, y)` arrays or a tf.data.Dataset (see `search_data`).
        batch_size: batch size.
        seed: shuffling and augmentation seed.
        augmentation: random crop and flip.
        cutout: side of the cutout square (16 for CIFAR; 0: off).
        max_train: use at most this many training examples.
        test: test data for array / tf.data sources.
        data_dir: tensorflow_datasets directory.
        eval_batch_size: batch size of the test batches.

    Returns:
        A `SearchData` with `mode="single"`.

    Example:

    >>> data = train_data("embedded", batch_size=64, cutout=8)
    """
    return search_data(source, batch_size, "single", seed=seed, augmentation=augmentation,
                       max_train=max_train, test=test, data_dir=data_dir,
                       eval_batch_size=eval_batch_size, cutout=cutout)
