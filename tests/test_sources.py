"""Streaming sources on real files: a generated folder of JPEG and PNG photos of varied sizes,
and tfds's `testing.mock_data` for ImageNet and CIFAR-10 (the tfds path, offline). Searches and
stand-alone training stream from them, resume mid-epoch, and bad data is named with exit 2."""

import json
import os
import resource

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import keras_darts.networks  # noqa: F401  (registers the layers load_model needs)
from helpers import child_env, killed_and_restarted, run_cli
from keras_darts.cli import bad_image_message, main
from keras_darts.data import DatasetNotAvailableError, load_arrays, search_data
from keras_darts.data.datasets import dataset_info
from keras_darts.data.pipeline import (
    center_crop, class_subset, eval_data, preprocess, random_resized_crop, sample_images,
    spread_sample,
)
from keras_darts.data.sources import (
    CachedSource, ImageFolderSource, TFRecordSource, check_image_file, open_source,
)

CLASSES = ("boot", "coat", "shirt")
PER_CLASS = 30


def write_photos(root, per_class=PER_CLASS, seed=0):
    """Class folders of real Fashion-MNIST images, resized to 16-48 px, as RGB JPEG and PNG
    files; one grayscale JPEG and one RGBA PNG among them (converted when read)."""
    (x, y), _, _ = load_arrays("embedded")
    rng = np.random.default_rng(seed)
    for label, name in zip((9, 4, 6), CLASSES):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for k, i in enumerate(np.flatnonzero(y == label)[:per_class]):
            h, w = (int(v) for v in rng.integers(16, 49, 2))
            gray = tf.image.resize(x[i], (h, w)).numpy().astype(np.uint8)
            rgb = np.concatenate([gray, gray // 2, 255 - gray], -1)
            if k == 1:
                data = tf.io.encode_jpeg(gray)
            elif k == 2:
                data = tf.io.encode_png(np.concatenate([rgb, np.full_like(gray, 255)], -1))
            elif k % 3:
                data = tf.io.encode_jpeg(rgb)
            else:
                data = tf.io.encode_png(rgb)
            ext = "png" if k == 2 or (k % 3 == 0 and k != 1) else "jpg"
            with open(os.path.join(root, name, f"{k:03d}.{ext}"), "wb") as f:
                f.write(data.numpy())
    return str(root)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return write_photos(tmp_path_factory.mktemp("photos"))


def test_folder_source_classes_sizes_and_evaluation_split(photos, tmp_path):
    source = ImageFolderSource(photos, image_size=24)
    assert source.classes == list(CLASSES) and source.info.num_classes == 3
    assert source.info.image_shape == (24, 24, 3) and source.info.variable_size
    assert (source.size("train"), source.size("eval")) == (81, 9)  # every 10th image per class
    x, y = next(iter(eval_data(source, batch_size=9)[0]))
    assert x.shape == (9, 24, 24, 3) and sorted(y.numpy()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    # ImageNet's layout: train/ and val/ folders of the same classes.
    for name in CLASSES[:2]:
        files = sorted(os.listdir(os.path.join(photos, name)))
        for split, chosen in (("train", files[:4]), ("val", files[4:6])):
            os.makedirs(tmp_path / split / name)
            for f in chosen:
                os.link(os.path.join(photos, name, f), tmp_path / split / name / f)
    layout = ImageFolderSource(str(tmp_path), image_size=16)
    assert (layout.size("train"), layout.size("eval"), layout.classes) == (8, 4, list(CLASSES[:2]))


def _first_pixels(batch):
    return np.concatenate([t.numpy().ravel()[:64] for t in tf.nest.flatten(batch)
                           if t.dtype == tf.float32])


def test_folder_stream_is_seeded_disjoint_and_resumes_at_any_batch(photos):
    data = search_data(photos, batch_size=8, seed=1, image_size=24, augmentation=False)
    steps = data.steps_per_epoch
    assert steps == 40 // 8 and data.info.num_classes == 3
    (xw, yw), (xa, ya) = next(iter(data.train))
    assert xw.shape == (8, 24, 24, 3) and xa.shape == (8, 24, 24, 3) and yw.dtype == tf.int64
    halves = [set(), set()]
    for (a, _), (b, _) in data.train.take(steps):
        halves[0].update(map(bytes, a.numpy()))
        halves[1].update(map(bytes, b.numpy()))
    assert len(halves[0]) == len(halves[1]) == 40 and not halves[0] & halves[1]
    # Augmented: the stream is a function of the seed and the position.
    aug = search_data(photos, batch_size=8, seed=1, image_size=24)
    whole = [_first_pixels(b) for b in aug.train.take(2 * steps + 1)]
    resumed = [_first_pixels(b) for b in aug.train_from(1, 3).take(steps - 2)]  # into epoch 2
    for k, batch in enumerate(resumed):
        np.testing.assert_array_equal(batch, whole[steps + 3 + k])
    again = search_data(photos, batch_size=8, seed=1, image_size=24)
    other = search_data(photos, batch_size=8, seed=2, image_size=24)
    np.testing.assert_array_equal(_first_pixels(next(iter(again.train))), whole[0])
    assert not np.array_equal(_first_pixels(next(iter(other.train))), whole[0])
    assert not np.array_equal(whole[0], _first_pixels(next(iter(data.train))))


def test_evaluation_batches_divide_evenly_over_replicas(photos):
    # Keras reduces the first evaluation batch across replicas to build its metrics; a 9-image
    # split in one batch (5 + 4 images) failed there under MirroredStrategy.
    data = search_data(photos, batch_size=8, image_size=16, mode="split", eval_batch_size=4,
                       replicas=2)
    assert [int(y.shape[0]) for _, y in data.validation] == [4, 4]  # 9 images: the last is cut
    assert int(data.validation.cardinality()) == 2
    assert [int(y.shape[0]) for _, y in data.holdout] == [4] * 10  # 41 held-out images
    whole = search_data(photos, batch_size=8, image_size=16, mode="split", eval_batch_size=4)
    assert [int(y.shape[0]) for _, y in whole.validation] == [4, 4, 1]


def test_class_balanced_subset_of_a_folder_and_of_a_stream(photos):
    labels = np.repeat(np.arange(4), [40, 20, 10, 2])
    kept = class_subset(labels, 0.25, seed=3)
    assert np.bincount(labels[kept]).tolist() == [10, 5, 2, 1]  # at least one per class
    assert not np.array_equal(kept, class_subset(labels, 0.25, seed=4))
    # A folder (random access): 27 training images per class, a third of each searched.
    data = search_data(photos, batch_size=3, mode="single", seed=0, image_size=16,
                       train_subset=1 / 3)
    assert data.steps_per_epoch == 27 // 3
    seen = np.concatenate([y.numpy() for _, y in data.train.take(data.steps_per_epoch)])
    assert np.bincount(seen).tolist() == [9, 9, 9]
    # A stream: exactly the chosen examples, each once per epoch, split into two halves.
    (x, y), test, _ = load_arrays("digits")
    stream = tf.data.Dataset.from_tensor_slices((x, y))
    chosen = class_subset(y, 0.2, seed=0)
    data = search_data(stream, test=tf.data.Dataset.from_tensor_slices(test), batch_size=4,
                       seed=0, augmentation=False, train_subset=0.2, shuffle_window=32)
    steps = data.steps_per_epoch
    assert steps == (len(chosen) // 2) // 4
    images = set()
    for (a, _), (b, _) in data.train.take(steps):
        images.update(map(bytes, np.concatenate([a.numpy(), b.numpy()])))
    expected = {bytes(v.astype(np.float32)) for v in x[chosen]}  # a tf.data source: as given
    assert len(images) == 2 * 4 * steps and images <= expected
    with pytest.raises(ValueError, match="train_subset must be a fraction"):
        search_data("digits", train_subset=1.5)


@pytest.mark.parametrize("kind", ["folder", "stream"])
def test_input_pipelines_read_only_their_replicas_part_of_each_global_batch(photos, kind):
    # What `distribute_datasets_from_function` gives each input pipeline (worker): its
    # replicas' per-replica batches, in order. Together they are the one-device global batch,
    # augmentation included, and a pipeline reads only its own images.
    if kind == "folder":
        source, test, size = photos, None, 16
    else:
        (x, y), (xt, yt), _ = load_arrays("digits")
        source = tf.data.Dataset.from_tensor_slices((x, y))
        test, size = tf.data.Dataset.from_tensor_slices((xt, yt)), None
    data = search_data(source, test=test, batch_size=8, seed=2, image_size=size,
                       shuffle_window=64)
    whole = list(data.epoch_batches(1, 1))
    for pipelines, per_replica in ((2, 4), (2, 2), (1, 2)):  # 2 workers x 1 or 2 replicas; 4 on 1
        local = 8 // per_replica // pipelines
        parts = [list(data.epoch_batches(1, 1, (p, pipelines, per_replica)))
                 for p in range(pipelines)]
        assert all(len(part) == local * len(whole) for part in parts)
        for step, batch in enumerate(whole):
            pieces = [b for part in parts for b in part[step * local:(step + 1) * local]]
            for half in range(2):
                for k in range(2):  # images, labels
                    np.testing.assert_array_equal(
                        np.concatenate([p[half][k].numpy() for p in pieces]),
                        batch[half][k].numpy())


def write_tfrecords(photos, root, first_label=1):
    """The photo folder as ImageNet's TPU-style TFRecords: 2 training shards and 1 validation
    shard, JPEG/PNG bytes in `image/encoded`, labels from `first_label` (1 as ImageNet's) in
    `image/class/label`."""
    os.makedirs(root)
    files = [(os.path.join(photos, c, f), label) for label, c in enumerate(CLASSES)
             for f in sorted(os.listdir(os.path.join(photos, c)))]
    shards = {"train-00000-of-00002": files[0::3], "train-00001-of-00002": files[1::3],
              "validation-00000-of-00001": files[2::3]}
    for name, members in shards.items():
        with tf.io.TFRecordWriter(os.path.join(root, name)) as writer:
            for path, label in members:
                with open(path, "rb") as f:
                    feature = {
                        "image/encoded": tf.train.Feature(
                            bytes_list=tf.train.BytesList(value=[f.read()])),
                        "image/class/label": tf.train.Feature(
                            int64_list=tf.train.Int64List(value=[label + first_label]))}
                writer.write(tf.train.Example(
                    features=tf.train.Features(feature=feature)).SerializeToString())
    return str(root)


def test_tfrecord_files_stream_like_the_folder(photos, tmp_path):
    root = write_tfrecords(photos, tmp_path / "records")
    source = TFRecordSource(root, image_size=16, label_offset=1)
    assert (source.size("train"), source.size("eval"), source.info.num_classes) == (60, 30, 3)
    assert not source.random_access
    data = search_data(source, batch_size=6, seed=0, shuffle_window=16)
    steps = data.steps_per_epoch
    assert steps == 30 // 6
    (x, y), _ = next(iter(data.train))
    assert x.shape == (6, 16, 16, 3) and set(y.numpy()) <= {0, 1, 2}
    whole = [_first_pixels(b) for b in data.train.take(2 * steps)]
    resumed = [_first_pixels(b) for b in data.train_from(1, 2).take(steps - 2)]
    np.testing.assert_array_equal(resumed, whole[steps + 2:])
    assert next(iter(data.validation))[0].shape == (30, 16, 16, 3)
    # Labels from 1 with no 0 (ImageNet's TPU files) are read from 0; labels from 0 as stored.
    auto = open_source(f"tfrecord:{root}", image_size=16)
    assert (auto.label_offset, auto.info.num_classes) == (1, 3)
    np.testing.assert_array_equal(auto.labels("train"), source.labels("train"))
    assert TFRecordSource(root, image_size=16, label_offset=0).info.num_classes == 4
    from_zero = open_source(f"tfrecord:{write_tfrecords(photos, tmp_path / 'r0', 0)}",
                            image_size=16)
    assert (from_zero.label_offset, from_zero.info.num_classes) == (0, 3)
    with pytest.raises(ValueError, match="has train label 1, below label_offset=2"):
        TFRecordSource(root, image_size=16, label_offset=2)
    with pytest.raises(ValueError, match="has no train files matching train-"):
        TFRecordSource(str(tmp_path), image_size=16)
    with pytest.raises(ValueError, match=r"train-00000-of-00002 holds no 'image/jpeg' bytes"):
        TFRecordSource(root, image_size=16, image_key="image/jpeg")


def test_samples_spread_over_the_classes_of_every_kind_of_source(photos, tmp_path):
    labels = np.repeat([0, 1, 2, 3], [40, 3, 10, 1])
    chosen = spread_sample(labels, 12, seed=0)
    assert len(set(chosen.tolist())) == 12 and list(chosen) == sorted(chosen)
    # Rounds: every class gives one, then the three left one more each, ...
    assert np.bincount(labels[chosen]).tolist() == [4, 3, 4, 1]
    np.testing.assert_array_equal(chosen, spread_sample(labels, 12, seed=0))
    assert not np.array_equal(chosen, spread_sample(labels, 12, seed=1))
    assert len(spread_sample(labels, 1000, seed=0)) == len(labels)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="count must be a positive integer"):
            spread_sample(labels, bad)
    # A folder's training images in stored order are one class's; the sample has all three.
    source = open_source(photos, image_size=16)
    first = next(iter(eval_data(source, batch_size=9, split="train")[0]))[1].numpy()
    assert len(set(first.tolist())) == 1
    x, y = sample_images(source, 9, "train", seed=0)
    assert x.shape == (9, 16, 16, 3) and np.bincount(y).tolist() == [3, 3, 3]
    # The same images as the evaluation transform gives them, chosen at the sample's positions.
    whole = next(iter(eval_data(source, batch_size=81, split="train")[0]))[0].numpy()
    positions = spread_sample(source.labels("train"), 9, seed=0)
    np.testing.assert_array_equal(x, whole[positions])
    # Streams draw from their first `pool` records (TFRecords stored in class order here).
    stream = TFRecordSource(write_tfrecords(photos, tmp_path / "records"), image_size=16,
                            label_offset=1)
    xs, ys = sample_images(stream, 6, "train", seed=0, pool=60)
    assert xs.shape == (6, 16, 16, 3) and np.bincount(ys).tolist() == [2, 2, 2]
    assert set(sample_images(stream, 6, "train", seed=0, pool=20)[1].tolist()) == {0}
    xe, ye = sample_images(stream, 9, "eval", seed=2)
    assert np.bincount(ye).tolist() == [3, 3, 3]


def _epochs(data, epochs=2):
    """Every training batch of `epochs` epochs and the evaluation batches, as pixel arrays."""
    batches = list(data.train_from(0, 0, epochs=epochs))
    return ([np.asarray(x) for x in tf.nest.flatten(batches)]
            + [np.asarray(x) for x, _ in data.validation])


def test_cached_sources_give_the_same_batches_without_reading_the_files_again(photos,
                                                                             tmp_path):
    import shutil

    folder = shutil.copytree(photos, tmp_path / "photos")
    records = write_tfrecords(photos, tmp_path / "records")
    for kind, open_it in (("folder", lambda: open_source(str(folder), image_size=16)),
                          ("stream", lambda: TFRecordSource(records, image_size=16))):
        plain = _epochs(search_data(open_it(), batch_size=6, seed=3, shuffle_window=16))
        cached = CachedSource(open_it())
        assert cached.random_access == (kind == "folder") and cached.cached_bytes > 0
        # The files are gone: every batch comes from memory, bit for bit the same.
        shutil.rmtree(folder if kind == "folder" else records)
        again = _epochs(search_data(cached, batch_size=6, seed=3, shuffle_window=16))
        assert len(again) == len(plain)
        assert all(np.array_equal(a, b) for a, b in zip(plain, again)), kind
        np.testing.assert_array_equal(cached.labels("train"), cached.source.labels("train"))
    with pytest.raises(ValueError, match=r"Cannot cache 'photos\d*': its records pass the memory "
                                         r"limit of 0.0 MB in the train split"):
        CachedSource(open_source(photos, image_size=16), memory_limit=1000)
    with pytest.raises(ValueError, match="Cannot cache ArraySource 'digits': it is in memory"):
        CachedSource(open_source("digits"))
    assert open_source("digits", cache=True).in_memory  # arrays: nothing to cache
    assert isinstance(open_source(photos, image_size=16, cache=True), CachedSource)


def test_imagenet_transforms():
    image = tf.cast(tf.reshape(tf.range(60 * 90 * 3) % 251, (60, 90, 3)), tf.float32)
    # Evaluation: shorter side to 16 / 0.875 = 18 (18 x 27), then the centre 16 x 16.
    crop = center_crop(image, (16, 16)).numpy()
    resized = tf.image.resize(image, (18, 27)).numpy()
    np.testing.assert_allclose(crop, resized[1:17, 5:21], atol=1e-4)
    seeds = [tf.constant([0, s], tf.int64) for s in range(8)]
    crops = [random_resized_crop(image, s, (16, 16)).numpy() for s in seeds]
    assert all(c.shape == (16, 16, 3) for c in crops)
    assert len({c.tobytes() for c in crops}) == 8  # different crops
    np.testing.assert_array_equal(crops[3], random_resized_crop(image, seeds[3], (16, 16)))
    info = dataset_info("imagenet2012").resized(32)
    photo = tf.cast(image, tf.uint8)
    augmented = preprocess(photo, info, seeds[0], cutout=8)
    assert augmented.shape == (32, 32, 3) and augmented.dtype == tf.float32
    assert float(tf.reduce_max(tf.abs(augmented))) < 3  # normalised with ImageNet's statistics
    assert preprocess(photo, info).shape == (32, 32, 3)


def test_tfds_mock_imagenet_and_cifar10_stream():
    with tfds.testing.mock_data(num_examples=48):
        data = search_data("imagenet2012", batch_size=8, seed=0, image_size=32, shuffle_window=16)
        assert data.info.num_classes == 1000 and data.steps_per_epoch == 3
        (x, y), _ = next(iter(data.train))
        assert x.shape == (8, 32, 32, 3) and y.dtype == tf.int64
        whole = [_first_pixels(b) for b in data.train.take(2 * 3)]
        resumed = [_first_pixels(b) for b in data.train_from(1, 1).take(2)]
        np.testing.assert_array_equal(resumed, whole[4:6])
        assert not np.array_equal(whole[0], whole[3])  # reshuffled each epoch
        xv, _ = next(iter(data.validation))
        assert xv.shape == (48, 32, 32, 3)  # ImageNet's 'validation' split
        cifar = search_data("cifar10", batch_size=8, mode="single", seed=0)
        assert cifar.info.image_shape == (32, 32, 3) and cifar.steps_per_epoch == 6
        assert next(iter(cifar.train))[0].shape == (8, 32, 32, 3)
        any_name = open_source("tfds:cifar10")
        assert any_name.info.num_classes == 10 and not any_name.random_access


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


def test_memory_stays_flat_while_streaming_many_more_images_than_a_batch():
    # 2 epochs of 1200 ImageNet images at 128 px: 1.2 GB of float images pass through; a
    # pipeline that kept them (or materialised the dataset) would grow by far more than 150 MB.
    with tfds.testing.mock_data(num_examples=1200):
        data = search_data("imagenet2012", batch_size=40, mode="single", seed=0,
                           image_size=128, shuffle_window=256)
        stream = iter(data.train_from(0, 0, epochs=2))
        for _ in range(5):
            next(stream)
        start = _rss_mb()
        count = 5 + sum(1 for _ in stream)
    assert count == 2 * 30
    assert _rss_mb() - start < 150


@pytest.mark.parametrize("case,match", [
    ("empty", "has no class folders"),
    ("no_images", "Class folder .*empty_class has no images"),
    ("not_an_image", r"Corrupt image .*bad\.jpg: not a JPEG"),
    ("truncated", r"Corrupt image .*bad\.jpg: the JPEG data is truncated"),
    ("empty_file", r"Corrupt image .*bad\.png: an empty file"),
    ("missing", "does not exist"),
])
def test_bad_folders_are_named_with_exit_2_and_nothing_written(photos, tmp_path, capsys, case,
                                                               match):
    root = tmp_path / "data"
    if case != "missing":
        os.makedirs(root)
    if case in ("no_images", "not_an_image", "truncated", "empty_file"):
        os.makedirs(root / "good")
        for f in sorted(os.listdir(os.path.join(photos, "boot")))[:12]:
            os.link(os.path.join(photos, "boot", f), root / "good" / f)
        os.makedirs(root / ("empty_class" if case == "no_images" else "bad"))
    with open(os.path.join(photos, "coat", "004.jpg"), "rb") as f:
        jpeg = f.read()
    if case == "not_an_image":
        (root / "bad" / "bad.jpg").write_bytes(b"GIF? no: plain text\n" * 10)
    elif case == "truncated":
        (root / "bad" / "bad.jpg").write_bytes(jpeg[:len(jpeg) // 2])
    elif case == "empty_file":
        (root / "bad" / "bad.png").write_bytes(b"")
    with pytest.raises(ValueError, match=match):
        open_source(str(root))
    out = tmp_path / "run"
    code = main(["search", "--preset", "small", "--dataset", str(root), "--image-size", "16",
                 "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    assert len(err) == 1 and "search: error:" in err[0] and str(root) in err[0], err


def test_unchecked_bad_file_is_named_when_read(photos, tmp_path):
    root = tmp_path / "data"
    os.makedirs(root / "a")
    os.makedirs(root / "b")
    for name, folder in (("boot", "a"), ("coat", "b")):
        for f in sorted(os.listdir(os.path.join(photos, name)))[:3]:
            os.link(os.path.join(photos, name, f), root / folder / f)
    (root / "b" / "x.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="x.jpg"):
        check_image_file(str(root / "b" / "x.jpg"))
    source = ImageFolderSource(str(root), image_size=16, eval_every=2, verify=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Not a JPEG.*b/x\.jpg") as error:
        for _ in eval_data(source, batch_size=2)[0]:
            pass
    # The command line turns it into its one-line error (exit code 2).
    assert bad_image_message(error.value) == (
        f"Corrupt image {root / 'b' / 'x.jpg'}: not a JPEG, PNG, BMP or GIF image.")
    assert bad_image_message(ValueError("x.jpg")) is None
    truncated = (root / "a" / sorted(os.listdir(root / "a"))[0]).read_bytes()[:200]
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        tf.io.decode_image(truncated, channels=3)
    assert bad_image_message(error.value).startswith("an image could not be decoded (")
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        tf.reshape(tf.zeros((2, 3)), (4, 4))  # an error about tensors, not image files
    assert bad_image_message(error.value) is None


def test_missing_tfds_dataset_is_named_with_exit_2(tmp_path, capsys):
    with pytest.raises(DatasetNotAvailableError, match="'imagenet2012' is not prepared"):
        open_source("imagenet2012", data_dir=str(tmp_path))
    out = tmp_path / "run"
    code = main(["train", "--preset", "imagenet", "--data-dir", str(tmp_path), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists() and len(err) == 1 and "imagenet2012" in err[0]


def test_image_size_is_refused_for_fixed_size_images():
    with pytest.raises(ValueError, match="image_size applies to datasets of varying image sizes"):
        open_source("digits", image_size=32)
    with pytest.raises(ValueError, match="image_size must be an integer of at least 8"):
        open_source("imagenet2012", image_size=4)


# Command lines at test size: a tiny supernet, and a stand-alone ImageNet-preset network.
TINY_SEARCH = ["--space", "s3", "--layers", "3", "--channels", "4", "--steps", "1",
               "--multiplier", "1", "--stem-multiplier", "1", "--batch-size", "8",
               "--epochs", "1", "--image-size", "16", "--verbose", "0"]
TINY_TRAIN = ["--preset", "imagenet", "--genotype", "DARTS_V2", "--layers", "2", "--channels",
              "4", "--batch-size", "8", "--epochs", "2", "--image-size", "64", "--verbose", "0"]

MOCKED_CLI = """
import sys
import tensorflow_datasets as tfds
from keras_darts.cli import bad_image_message, main
with tfds.testing.mock_data(num_examples=int(sys.argv[1])):
    sys.exit(main(sys.argv[2:]))
"""


def _mocked_cli(num_examples, *args):
    """`keras-darts ARGS` in a child process under tfds's mock data (all splits `num_examples`)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", MOCKED_CLI, str(num_examples), *args],
                         capture_output=True, text=True, timeout=900, env=child_env())
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.slow
def test_cli_search_streams_a_folder_under_the_default_and_the_mirrored_strategy(photos,
                                                                                 tmp_path):
    genotypes = {}
    for name, extra in (("default", []),
                        ("mirrored", ["--distribute", "mirrored", "--devices", "/cpu:0,/cpu:1",
                                      "--cache"])):
        out = tmp_path / name
        run_cli("search", "--preset", "small", "--dataset", photos, *TINY_SEARCH, *extra,
                "--out", str(out))
        with open(out / "summary.json") as f:
            summary = json.load(f)
        genotypes[name] = summary["genotype"]
        with open(out / "config.json") as f:
            assert json.load(f)["dataset"] == photos
    # The same global batches, each replica's half read by the replicas' input pipeline (from
    # the cache): the two replicas derive the one device's genotype (their alphas differ by
    # float rounding).
    assert genotypes["default"] == genotypes["mirrored"]


@pytest.mark.slow
def test_imagenet_training_streams_mock_imagenet_and_a_folder_and_resumes_mid_epoch(photos,
                                                                                  tmp_path):
    _mocked_cli(64, "train", *TINY_TRAIN, "--out", str(tmp_path / "mock"))
    # An ImageNet search as PC-DARTS's: the ImageNet stem takes 32 px to 4 px.
    _mocked_cli(64, "search", "--preset", "small", "--dataset", "imagenet2012", *TINY_SEARCH,
                "--image-size", "32", "--stem", "imagenet", "--distribute", "mirrored",
                "--devices", "/cpu:0,/cpu:1", "--out", str(tmp_path / "mock-search"))
    for name in ("mock", "mock-search"):
        assert (tmp_path / name / "summary.json").exists()
    with open(tmp_path / "mock-search" / "config.json") as f:
        assert json.load(f)["stem"] == "imagenet"
    args = ["train", *TINY_TRAIN, "--dataset", photos, "--checkpoint-every", "3", "--seed", "1"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    run_cli(*args, "--out", str(whole))
    # Export from the folder: parity images and int8 calibration are spread over the classes.
    run_cli("export", "--model", str(whole / "model.keras"), "--dataset", photos, "--out",
            str(tmp_path / "export"), "--formats", "tflite", "--quantizations", "int8",
            "--num-images", "30", "--calibration-images", "30")
    with open(tmp_path / "export" / "model_int8.tflite.parity.json") as f:
        report = json.load(f)
    assert report["passed"] and report["num_images"] == 9  # the whole evaluation split
    state = killed_and_restarted([*args, "--out", str(cut)], str(cut), 13)
    assert state["step"] > 0  # 10 steps per epoch: killed inside the second
    assert (cut / "history.csv").read_text() == (whole / "history.csv").read_text()
    a = keras.models.load_model(str(whole / "model.keras"), compile=False)
    b = keras.models.load_model(str(cut / "model.keras"), compile=False)
    assert all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))
