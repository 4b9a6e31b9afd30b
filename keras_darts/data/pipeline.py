"""tf.data pipelines: preprocessing, augmentation, the search split, evaluation data."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_darts.data.datasets import DatasetInfo
from keras_darts.data.sources import open_source


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
        epoch_batches: `(epoch, skip=0, shard=None) -> tf.data.Dataset` of
            that epoch's batches from batch `skip` on; `shard=(pipeline,
            pipelines, per_replica_batch)` gives one input pipeline's
            per-replica batches.
        batch_size: the global batch size of `train`.
        strategy: the `tf.distribute` strategy `train_from` feeds (None: the
            current one); with several replicas it returns a distributed
            dataset whose input pipelines each read only their replicas' part
            of every batch (`distribute_datasets_from_function`).

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
    batch_size: int = None
    strategy: object = None

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
            A `tf.data.Dataset` of batches, endless unless `epochs` is given;
            under a `strategy` of several replicas, a distributed dataset of
            the same global batches.

        Raises:
            ValueError: for a negative position or `step >= steps_per_epoch`.

        Example:

        >>> resumed = data.train_from(2, 5)  # the 6th batch of the 3rd epoch onwards
        """
        if epoch < 0 or not 0 <= step < self.steps_per_epoch:
            raise ValueError(f"No batch {step} of epoch {epoch}: epochs count from 0 and have "
                             f"{self.steps_per_epoch} batches.")
        if self.strategy is not None and self.strategy.num_replicas_in_sync > 1:
            return self.strategy.distribute_datasets_from_function(
                lambda context: self._stream(epoch, step, epochs, (
                    context.input_pipeline_id, context.num_input_pipelines,
                    context.get_per_replica_batch_size(self.batch_size))))
        return self._stream(epoch, step, epochs)

    def _stream(self, epoch, step, epochs, shard=None):
        first = self.epoch_batches(epoch, step, shard)  # skips the examples, reads none of them
        rest = tf.data.Dataset.counter(epoch + 1)
        if epochs is not None:
            rest = rest.take(max(0, epochs - 1))
        return prefetched(first.concatenate(rest.flat_map(
            lambda e: self.epoch_batches(e, 0, shard))))


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
        x = _cutout(x, seeds[2:], cutout)
    return x


def _cutout(x, seeds, cutout):
    """Zeroes a `cutout`-sided square centred at a random pixel (seeds: two `(2,)` seeds)."""
    h, w = x.shape[0], x.shape[1]
    cy = tf.random.stateless_uniform((), seeds[0], 0, h, tf.int32)
    cx = tf.random.stateless_uniform((), seeds[1], 0, w, tf.int32)
    ys = tf.range(h)[:, None]
    xs = tf.range(w)[None, :]
    top, left = cy - cutout // 2, cx - cutout // 2
    inside = (ys >= top) & (ys < top + cutout) & (xs >= left) & (xs < left + cutout)
    return x * tf.cast(~inside, x.dtype)[:, :, None]


def random_resized_crop(x, seed, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    """A random crop of 8% to 100% of the image's area and aspect 3/4 to 4/3, resized; stateless.

    The training crop of the ImageNet references (Inception's). After ten
    draws that do not fit, the whole image is taken.

    Args:
        x: one image `(H, W, C)` of any size, float.
        seed: a `(2,)` int tensor.
        size: `(height, width)` of the result.
        scale: range of the crop's share of the image's area.
        ratio: range of the crop's aspect ratio.

    Returns:
        A `(height, width, C)` float32 image.

    Example:

    >>> random_resized_crop(tf.zeros((300, 400, 3)), tf.constant([0, 1]), (224, 224)).shape
    TensorShape([224, 224, 3])
    """
    begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(x), tf.constant([[[0.0, 0.0, 1.0, 1.0]]]), seed, min_object_covered=0.0,
        aspect_ratio_range=ratio, area_range=scale, max_attempts=10,
        use_image_if_no_bounding_boxes=True)
    crop = tf.slice(x, begin, extent)
    return tf.image.resize(crop, size, method="bilinear", antialias=False)


def center_crop(x, size, crop_fraction=0.875):
    """Resizes the shorter side to `size / crop_fraction` and takes the centre crop.

    The evaluation transform of the ImageNet references: 256 then 224.

    Args:
        x: one image `(H, W, C)` of any size, float.
        size: `(height, width)` of the result.
        crop_fraction: the crop's share of the resized shorter side.

    Returns:
        A `(height, width, C)` float32 image.

    Example:

    >>> center_crop(tf.zeros((300, 400, 3)), (224, 224)).shape
    TensorShape([224, 224, 3])
    """
    h, w = size
    shape = tf.cast(tf.shape(x)[:2], tf.float32)
    short = tf.round(max(h, w) / crop_fraction)
    factor = short / tf.reduce_min(shape)
    new = tf.maximum(tf.cast(tf.round(shape * factor), tf.int32), [h, w])
    x = tf.image.resize(x, new, method="bilinear", antialias=False)
    top, left = (new[0] - h) // 2, (new[1] - w) // 2
    return tf.image.crop_to_bounding_box(x, top, left, h, w)


def color_jitter(x, seed, strength):
    """Random brightness, contrast and saturation (factors in `[1 - s, 1 + s]`), hue `s / 2`; stateless.

    Args:
        x: one image in [0, 1], `(H, W, C)`; saturation and hue need 3 channels.
        seed: a `(2,)` int tensor.
        strength: `s` (0.4 for ImageNet).

    Returns:
        The image, clipped to [0, 1].

    Example:

    >>> color_jitter(tf.fill((4, 4, 3), 0.5), tf.constant([0, 1]), 0.4).shape
    TensorShape([4, 4, 3])
    """
    seeds = tf.random.experimental.stateless_split(seed, 4)
    x = x * tf.random.stateless_uniform((), seeds[0], 1 - strength, 1 + strength)
    x = tf.image.stateless_random_contrast(x, 1 - strength, 1 + strength, seeds[1])
    if x.shape[-1] == 3:
        x = tf.image.stateless_random_saturation(x, 1 - strength, 1 + strength, seeds[2])
        x = tf.image.stateless_random_hue(tf.clip_by_value(x, 0, 1), strength / 2, seeds[3])
    return tf.clip_by_value(x, 0.0, 1.0)


def preprocess(image, info, seed=None, cutout=0):
    """One decoded image made ready for the network: augmented (with a seed) or not.

    Images of one fixed size are normalised, then (with a seed) padded and
    randomly cropped, flipped and cut out (`augment`). Images of varying
    sizes (`info.variable_size`) get the ImageNet transform: with a seed a
    random resized crop, a flip and `info.color_jitter`, else the resize and
    centre crop; then normalisation and (with a seed) cutout.

    Args:
        image: raw pixels `(H, W[, C])`.
        info: the `DatasetInfo`.
        seed: a `(2,)` int tensor to augment with; None: the evaluation transform.
        cutout: side of the cutout square (0: off).

    Returns:
        A float32 image of `info.image_shape`.

    Example:

    >>> preprocess(tf.zeros((300, 200, 3), tf.uint8), dataset_info("imagenet2012")).shape
    TensorShape([224, 224, 3])
    """
    if not info.variable_size:
        x = normalize(image, info)
        if len(x.shape) == 2:
            x = x[..., None]
        return x if seed is None else augment(x, seed, info, cutout)
    size = info.image_shape[:2]
    x = tf.cast(image, tf.float32) / info.scale
    if seed is None:
        x = center_crop(x, size)
    else:
        seeds = tf.random.experimental.stateless_split(seed, 5)
        x = random_resized_crop(x, seeds[0], size)
        if info.flip:
            x = tf.image.stateless_random_flip_left_right(x, seed=seeds[1])
        if info.color_jitter:
            x = color_jitter(x, seeds[2], info.color_jitter)
    x = (x - tf.constant(info.mean, tf.float32)) / tf.constant(info.std, tf.float32)
    if seed is not None and cutout:
        x = _cutout(x, seeds[3:], cutout)
    return x


def _evaluation_batches(source, ds, count, batch_size, replicas=1):
    """Decoded, not augmented, batched examples of a split (`count` of them); cached in memory
    when the data is in memory.

    With `replicas > 1` every batch is cut to a multiple of `replicas`: Keras
    (3.15) reduces the first evaluation batch across replicas to build its
    metrics, which fails when the replicas' shares differ in size, as those of
    an odd split smaller than one batch do. At most `replicas - 1` images of
    the last batch are left out.
    """
    info = source.info
    ds = ds.map(lambda record, y: (preprocess(source.decode(record), info), y),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)
    if replicas > 1:
        def even(x, y):
            k = tf.shape(y)[0] // replicas * replicas
            return x[:k], y[:k]

        ds = ds.map(even).take(count // batch_size + (count % batch_size >= replicas))
    return prefetched(ds.cache() if source.in_memory else ds)


def class_subset(labels, fraction, seed):
    """A seeded, class-balanced sample: `fraction` of each class's examples (at least one).

    PC-DARTS searches ImageNet on 10% (weights) and 2.5% (architecture) of
    each class's training images.

    Args:
        labels: integer labels of the examples, numpy.
        fraction: share of each class to keep, in (0, 1].
        seed: the sample's seed.

    Returns:
        The kept examples' positions, sorted (int64 numpy).

    Raises:
        ValueError: for a fraction outside (0, 1].

    Example:

    >>> class_subset(np.repeat([0, 1], 10), 0.2, seed=0)  # two of each class
    array([ 2,  9, 11, 12])
    """
    if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) \
            or not 0 < fraction <= 1:
        raise ValueError(f"train_subset must be a fraction in (0, 1]. Received: {fraction!r}")
    rng = np.random.default_rng([seed, 18])
    kept = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = max(1, int(round(fraction * len(members))))
        kept.append(rng.choice(members, k, replace=False))
    return np.sort(np.concatenate(kept)).astype(np.int64)


def _split_order(n, seed, max_train, chosen=None):
    """The seeded order of the training examples (of `chosen` positions, else all `n`; a
    seeded subset of `max_train` first)."""
    ds = tf.data.Dataset.range(n) if chosen is None else tf.data.Dataset.from_tensor_slices(chosen)
    n = n if chosen is None else len(chosen)
    if max_train is not None and max_train < n:
        ds = ds.shuffle(n, seed=seed + 1, reshuffle_each_iteration=False).take(max_train)
        n = max_train
    return ds.shuffle(n, seed=seed, reshuffle_each_iteration=False).batch(n).get_single_element()


def _window_shuffled(ds, window, seed):
    """`ds` shuffled within consecutive windows of `window` examples; window `k` with seed `fold_in(seed, k)`."""

    def permute(k, examples):
        n = tf.shape(tf.nest.flatten(examples)[0])[0]
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n), tf.random.experimental.stateless_fold_in(seed, k))
        return tf.nest.map_structure(lambda t: tf.gather(t, order), examples)

    return ds.batch(window).enumerate().map(permute).unbatch()

def eval_data(source="fashion_mnist_subset", batch_size=256, test=None, data_dir=None,
              image_size=None, split="eval"):
    """Batches of a split (the evaluation split by default), normalised, not augmented.

    Args:
        source: a dataset name, a folder, `(x, y)` arrays (with `test`), a
            tf.data.Dataset or a `Source` (see `search_data`).
        batch_size: batch size.
        test: test data for array / tf.data sources.
        data_dir: tensorflow_datasets directory.
        image_size: image side for datasets of varying image sizes.
        split: `"eval"` or `"train"` (in stored order; e.g. int8 calibration images).

    Returns:
        `(dataset, info)`.

    Example:

    >>> ds, info = eval_data("digits", batch_size=64)
    """
    source = open_source(source, test, data_dir, image_size)
    return (_evaluation_batches(source, source.stream(split), source.size(split), batch_size),
            source.info)


def spread_sample(labels, count, seed=0):
    """A seeded sample of `count` positions spread evenly over the classes.

    The classes take turns: each gives one seeded-random example per round
    until `count` are chosen (a class that runs out drops out), so any
    `count >= classes` covers every class. Used for int8 calibration and
    parity images, where a folder's first images would all be one class.

    Args:
        labels: integer labels of the examples, numpy.
        count: positions wanted (at most `len(labels)` are returned).
        seed: the sample's seed.

    Returns:
        The chosen positions, sorted (int64 numpy).

    Raises:
        ValueError: for a `count` that is not a positive integer.

    Example:

    >>> spread_sample(np.repeat([0, 1, 2], 5), 3, seed=0).size  # one per class
    3
    """
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 1:
        raise ValueError(f"count must be a positive integer. Received: {count!r}")
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, 19])
    order = rng.permutation(len(labels))
    # Each example's round: its rank among the shuffled examples of its class.
    ranks = np.empty(len(labels), np.int64)
    for c in np.unique(labels):
        members = order[labels[order] == c]
        ranks[members] = np.arange(len(members))
    by_round = order[np.argsort(ranks[order], kind="stable")]
    return np.sort(by_round[:count]).astype(np.int64)


def sample_images(source="fashion_mnist_subset", count=200, split="train", seed=0, test=None,
                  data_dir=None, image_size=None, pool=None):
    """`count` normalised, not augmented images of a split, spread over its classes.

    The sample is drawn with `spread_sample` from the whole split of a
    random-access source (arrays, folders), and from the first `pool`
    records of a stream (tfds, TFRecords, tf.data): a stream's labels are
    read for those records only, and only the chosen records are decoded.

    Args:
        source: a dataset name, a folder, `(x, y)` arrays (with `test`), a
            tf.data.Dataset or a `Source` (see `search_data`).
        count: images wanted (fewer if the split or pool is smaller).
        split: `"train"` (e.g. int8 calibration) or `"eval"` (parity checks).
        seed: the sample's seed.
        test: test data for array / tf.data sources.
        data_dir: tensorflow_datasets directory.
        image_size: image side for datasets of varying image sizes.
        pool: records of a stream the sample is drawn from (default:
            `max(10 * count, 1000)`).

    Returns:
        `(images, labels)`: float32 and int64 numpy arrays, in stored order.

    Raises:
        ValueError: for a bad `count` or `split`.

    Example:

    >>> x, y = sample_images("digits", 20, split="train", seed=0)
    >>> x.shape, len(set(y.tolist()))
    ((20, 8, 8, 1), 10)
    """
    source = open_source(source, test, data_dir, image_size)
    size = source.size(split)
    if source.random_access:
        chosen = spread_sample(source.labels(split), count, seed)
        records = source.records(split, tf.constant(chosen))
    else:
        pool = min(size, max(10 * count, 1000) if pool is None else pool)
        head = source.stream(split, 0, pool)
        labels = np.concatenate([b.numpy() for b in head.map(lambda r, y: y).batch(4096)])
        chosen = spread_sample(labels, count, seed)
        keep = tf.constant(chosen)

        def chosen_record(i, example):
            return tf.reduce_any(tf.equal(i, keep))

        def drop_index(i, example):
            return example

        records = head.enumerate().filter(chosen_record).map(drop_index)
    batches = _evaluation_batches(source, records, len(chosen), len(chosen))
    x, y = next(iter(batches))
    return x.numpy(), y.numpy().astype(np.int64)


def search_data(source="fashion_mnist_subset", batch_size=64, mode="bilevel", train_portion=0.5,
                seed=0, augmentation=True, max_train=None, test=None, data_dir=None,
                eval_batch_size=256, cutout=0, image_size=None, shuffle_window=1024, replicas=1,
                train_subset=None):
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

    Nothing is loaded whole unless it is in memory already: image folders and
    tfds datasets (ImageNet included) are streamed from their files and only
    the images of the next batches are decoded (`keras_darts.data.sources`).
    Streams (tfds, tf.data) are split into contiguous ranges of their stored
    order and reshuffled within windows of `shuffle_window` examples; arrays
    and folders are split and reshuffled whole, as above. Images of varying
    sizes get the ImageNet transform (`preprocess`).

    Args:
        source: a dataset name (see `dataset_names()`), `"tfds:NAME"`, a
            folder of class folders of images, `(x_train, y_train)` numpy
            arrays (pass `test` too), an unbatched tf.data.Dataset of
            `(image, label)` (pass `test` too), or a `Source`.
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
        image_size: side of the images the network takes, for datasets of
            varying image sizes (image folders, ImageNet; default 224).
        shuffle_window: examples per shuffle window of a stream (each holds
            this many encoded images in memory: ~110 MB for ImageNet at 1024).
        replicas: the replicas the data is shared by (`tf.distribute`):
            evaluation batches are cut to a multiple of it.
        train_subset: search on this fraction of each class's training
            images (`class_subset`, seeded; PC-DARTS: 0.1 of ImageNet), taken
            before `max_train` and the split. A stream's labels are read once
            for it.

    Returns:
        A `SearchData`.

    Raises:
        ValueError: for a bad mode, portion, batch size or window, too little
            data for one batch, or a bad folder or image (naming it).
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
    if not isinstance(shuffle_window, int) or shuffle_window < 1:
        raise ValueError(f"shuffle_window must be a positive integer. "
                         f"Received: shuffle_window={shuffle_window!r}")
    source = open_source(source, test, data_dir, image_size)
    info = source.info
    n = source.size("train")
    chosen = None
    if train_subset is not None and train_subset != 1:
        chosen = class_subset(source.labels("train"), train_subset, seed)
    order = _split_order(n, seed, max_train, chosen) if source.random_access else None
    n = n if chosen is None else len(chosen)
    n = min(n, max_train) if max_train is not None else n

    def part_stream(lo, hi):
        """Examples lo..hi of a stream (of its `chosen` examples with a subset), stored order."""
        if chosen is None:
            return source.stream("train", lo, hi)
        start, stop = int(chosen[lo]), int(chosen[hi - 1]) + 1
        keep = np.zeros(stop, bool)
        keep[chosen[lo:hi]] = True
        keep = tf.constant(keep)

        def kept(i, example):
            return tf.gather(keep, i)

        def example_only(i, example):
            return example

        return source.stream("train", start, stop).enumerate(start).filter(kept).map(example_only)

    def batches(lo, hi, offset):
        """`(epoch, skip) -> batches of that epoch from batch `skip` on`, for examples lo..hi
        of the seeded order (random access) or of the stored order (streams)."""
        count = hi - lo
        if count < batch_size:
            raise ValueError(
                f"Only {count} examples for a batch of {batch_size}: lower batch_size or "
                "raise max_train."
            )
        part = order[lo:hi] if order is not None else None
        stream = part_stream(lo, hi) if order is None else None  # made once, eagerly

        def example(i, record, y, epoch):
            example_seed = tf.stack([tf.constant(seed + 100 + offset, tf.int64), epoch * count + i])
            return preprocess(source.decode(record), info,
                              example_seed if augmentation else None, cutout), y

        def epoch_batches(epoch, skip=0, shard=None):
            epoch = tf.cast(epoch, tf.int64)
            epoch_seed = tf.stack([tf.constant(seed + offset, tf.int64), epoch])
            first, end = skip * batch_size, count // batch_size * batch_size
            pipeline, pipelines, per_replica = shard or (0, 1, batch_size)
            share = batch_size // pipelines  # this input pipeline's slice of each batch

            def mine(i):
                return (i % batch_size) // share == pipeline

            if part is not None:  # a full reshuffle, a function of (seed, epoch)
                permuted = tf.gather(part, tf.random.experimental.stateless_shuffle(
                    tf.range(count), epoch_seed))[first:end]
                positions = tf.range(first, end, dtype=tf.int64)
                if pipelines > 1:  # read only this pipeline's images
                    keep = mine(positions)
                    permuted = tf.boolean_mask(permuted, keep)
                    positions = tf.boolean_mask(positions, keep)
                d = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(positions),
                                         source.records("train", permuted)))
            else:  # windows of the stored order reshuffled as a function of (seed, epoch)
                d = _window_shuffled(stream, shuffle_window, epoch_seed)
                d = d.skip(first).take(end - first).enumerate(first)
                if pipelines > 1:  # decode only this pipeline's images
                    d = d.filter(lambda i, ex: mine(i))
            d = d.map(lambda i, ex: example(i, *ex, epoch),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            return d.batch(per_replica, drop_remainder=True)

        return epoch_batches, count // batch_size

    holdout = None
    if mode == "bilevel":
        n_w = int(np.floor(train_portion * n))
        w_batches, steps_w = batches(0, n_w, 2)
        a_batches, steps_a = batches(n_w, n, 3)
        steps = min(steps_w, steps_a)

        def epoch_batches(e, skip=0, shard=None):
            per_step = 1 if shard is None else batch_size // shard[2] // shard[1]  # replicas
            return tf.data.Dataset.zip((w_batches(e, skip, shard), a_batches(e, skip, shard))
                                       ).take((steps - skip) * per_step)
    elif mode == "split":
        n_w = int(np.floor(train_portion * n))
        epoch_batches, steps = batches(0, n_w, 2)
        held = (source.records("train", order[n_w:]) if order is not None
                else part_stream(n_w, n))
        holdout = _evaluation_batches(source, held, n - n_w, eval_batch_size, replicas)
    elif mode == "paired":
        first, steps = batches(0, n, 2)
        second, _ = batches(0, n, 3)

        def epoch_batches(e, skip=0, shard=None):
            return tf.data.Dataset.zip((first(e, skip, shard), second(e, skip, shard)))
    else:
        epoch_batches, steps = batches(0, n, 2)
    val = _evaluation_batches(source, source.stream("eval"), source.size("eval"),
                              eval_batch_size, replicas)
    return SearchData(None, val, steps, info, mode, holdout, epoch_batches, batch_size)

def train_data(source="fashion_mnist_subset", batch_size=96, seed=0, augmentation=True,
               cutout=0, max_train=None, test=None, data_dir=None, eval_batch_size=256,
               image_size=None, shuffle_window=1024, replicas=1, train_subset=None):
    """`(x, y)` batches of the whole training set for stand-alone training.

    The same pipeline as `search_data(mode="single")`, with cutout.

    Args:
        source: a dataset name, a folder, `(x, y)` arrays, a tf.data.Dataset or
            a `Source` (see `search_data`).
        batch_size: batch size.
        seed: shuffling and augmentation seed.
        augmentation: random crop and flip.
        cutout: side of the cutout square (16 for CIFAR; 0: off).
        max_train: use at most this many training examples.
        test: test data for array / tf.data sources.
        data_dir: tensorflow_datasets directory.
        eval_batch_size: batch size of the test batches.
        image_size: image side for datasets of varying image sizes.
        shuffle_window: examples per shuffle window of a stream.
        replicas: the replicas the data is shared by (see `search_data`).
        train_subset: train on this fraction of each class's images (see `search_data`).

    Returns:
        A `SearchData` with `mode="single"`.

    Example:

    >>> data = train_data("embedded", batch_size=64, cutout=8)
    """
    return search_data(source, batch_size, "single", seed=seed, augmentation=augmentation,
                       max_train=max_train, test=test, data_dir=data_dir,
                       eval_batch_size=eval_batch_size, cutout=cutout, image_size=image_size,
                       shuffle_window=shuffle_window, replicas=replicas,
                       train_subset=train_subset)
