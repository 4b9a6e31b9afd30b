import numpy as np
import pytest
import tensorflow as tf

from keras_darts.data import (
    DatasetNotAvailableError, dataset_info, eval_data, load_arrays, search_data,
)


def test_embedded_dataset_is_stratified_real_fashion_mnist():
    (x, y), (xt, yt), info = load_arrays("embedded")
    assert x.shape == (5000, 28, 28, 1) and xt.shape == (1000, 28, 28, 1)
    assert x.dtype == np.uint8 and info.num_classes == 10
    assert (np.bincount(y) == 500).all() and (np.bincount(yt) == 100).all()
    assert 0.2 < x.mean() / 255 < 0.4  # real images, not noise


def test_bilevel_split_shapes_sizes_and_disjoint_halves():
    data = search_data("digits", batch_size=16, seed=0, augmentation=False)
    n_train = 1437  # 80% of sklearn digits
    assert data.steps_per_epoch == (n_train // 2) // 16
    (xt, yt), (xv, yv) = next(iter(data.train))
    assert xt.shape == (16, 8, 8, 1) and xv.shape == (16, 8, 8, 1) and yt.dtype == tf.int64
    halves = [set(), set()]
    for (a, _), (b, _) in data.train.take(data.steps_per_epoch):
        halves[0].update(map(bytes, a.numpy()))
        halves[1].update(map(bytes, b.numpy()))
    assert not halves[0] & halves[1]


def test_same_seed_same_batches_and_other_seed_differs():
    first = [next(iter(search_data("embedded", batch_size=8, seed=s, max_train=64).train))
             for s in (3, 3, 4)]
    a, b, c = (f[0][0].numpy() for f in first)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_single_mode_and_normalisation():
    data = search_data("embedded", batch_size=32, mode="single", seed=0, augmentation=False)
    x, y = next(iter(data.train))
    assert x.shape == (32, 28, 28, 1) and data.steps_per_epoch == 5000 // 32
    assert abs(float(tf.reduce_mean(x))) < 0.5
    xv, yv = next(iter(data.validation))
    assert xv.shape[1:] == (28, 28, 1)


def test_augmentation_changes_images_but_keeps_shape():
    plain = next(iter(search_data("embedded", batch_size=8, seed=0, augmentation=False).train))
    aug = next(iter(search_data("embedded", batch_size=8, seed=0, augmentation=True).train))
    assert plain[0][0].shape == aug[0][0].shape
    assert not np.allclose(plain[0][0].numpy(), aug[0][0].numpy())


def test_numpy_arrays_and_tf_data_sources():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (40, 12, 12, 3)).astype(np.uint8)
    y = rng.integers(0, 4, 40)
    data = search_data((x, y), test=(x[:8], y[:8]), batch_size=4, seed=0)
    assert data.info.num_classes == 4 and data.steps_per_epoch == 5
    ds = tf.data.Dataset.from_tensor_slices((x.astype("float32") / 255, y))
    data = search_data(ds, test=ds.take(8), batch_size=4, mode="single", seed=0)
    assert next(iter(data.train))[0].shape == (4, 12, 12, 3)


def test_unavailable_tfds_dataset_fails_at_once_with_instructions(tmp_path):
    with pytest.raises(DatasetNotAvailableError, match=r"not prepared.*download_and_prepare"):
        load_arrays("cifar10", data_dir=str(tmp_path))


@pytest.mark.parametrize("kwargs,match", [
    ({"source": "cifar11"}, "Unknown dataset 'cifar11'"),
    ({"mode": "trilevel"}, "mode must be"),
    ({"train_portion": 1.0}, "train_portion"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 64, "max_train": 100}, "Only 50 examples for a batch of 64"),
    ({"source": [1, 2, 3]}, "source must be"),
])
def test_bad_data_arguments(kwargs, match):
    args = {"source": "embedded", **kwargs}
    with pytest.raises(ValueError, match=match):
        search_data(**args)


def test_dataset_info_and_eval_data():
    assert dataset_info("cifar10").image_shape == (32, 32, 3)
    ds, info = eval_data("digits", batch_size=50)
    assert next(iter(ds))[0].shape == (50, 8, 8, 1) and info.name == "digits"


def test_streams_run_without_the_autotuner():
    # Deleting an autotuned iterator waits for the autotuner's current pass: `fit()` returned
    # up to 42 s after its last epoch (benchmarks/fit_exit.py). Every stream `fit()` and
    # `evaluate()` iterate is built without it, and still yields its batches.
    data = search_data("digits", batch_size=32, mode="split", seed=0)
    streams = {"train": data.train, "resumed": data.train_from(1, 2, epochs=1),
               "validation": data.validation, "holdout": data.holdout,
               "eval_data": eval_data("digits", batch_size=50)[0]}
    for name, ds in streams.items():
        assert ds.options().autotune.enabled is False, name
        assert next(iter(ds))[0].shape[1:] == (8, 8, 1), name
