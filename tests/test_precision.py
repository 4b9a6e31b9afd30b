"""Mixed precision searches: what computes in bfloat16 / float16, what stays float32, float16's
loss scaling, bad settings, and the genotype of a short search against float32's."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import SEARCH, TINY

from keras_darts.search import SearchConfig, run_search
from keras_darts.strategies import create_search_model
from keras_darts.utils.precision import PRECISIONS, DynamicLossScale, precision_policy


def test_unknown_precision_and_float16_across_devices_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown precision 'half'"):
        SearchConfig(precision="half").validate()
    with pytest.raises(ValueError, match="Unknown precision 'float64'"):
        create_search_model("darts", num_classes=10, input_shape=(8, 8, 1), precision="float64",
                            **TINY)
    with pytest.raises(ValueError, match="mixed_float16.*one device"):
        SearchConfig(precision="mixed_float16", distribute="mirrored").validate()
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="Unknown precision"):
        run_search(SearchConfig.from_preset("small", **SEARCH, precision="fp8"), str(out))
    assert not out.exists()


def test_precision_policy_is_scoped_to_the_block():
    before = keras.config.dtype_policy().name
    with precision_policy("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
    assert keras.config.dtype_policy().name == before
    assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    with pytest.raises(ValueError, match="Unknown precision"):
        with precision_policy("bf16"):
            pass
    assert keras.config.dtype_policy().name == before


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_search_model_computes_low_and_keeps_the_architecture_float32(precision):
    model = create_search_model("darts", num_classes=10, input_shape=(8, 8, 1), seed=0,
                                precision=precision, **TINY)
    low = precision.split("_")[1]
    computes = {layer.compute_dtype for layer in model.network._flatten_layers()
                if layer.weights}
    assert computes == {low}
    # Every variable is float32: weights (Keras' mixed policies), BatchNorm statistics, alphas.
    assert {v.dtype for v in model.network.variables} == {"float32"}
    assert {v.dtype for v in model.arch_variables} == {"float32"}
    assert all(w.dtype == "float32" for w in model.architecture.mixing_weights())
    x = tf.random.stateless_normal((4, 8, 8, 1), seed=(1, 2))
    logits = model(x, training=False)
    assert logits.dtype == "float32"  # the losses see float32
    assert (model.loss_scale is not None) == (precision == "mixed_float16")
    assert model.get_config()["precision"] == precision


def _step(model, x, y):
    if getattr(model, "step", None) is None:
        model.compile(epochs=1, steps_per_epoch=1)
        model.step = tf.function(model.train_step)  # one bi-level step, traced as fit traces it
    alphas = [v.numpy() for v in model.arch_variables]
    weights = [v.numpy() for v in model.weight_variables]
    logs = {k: float(v) for k, v in model.step(((x, y), (x, y))).items()}
    moved = lambda now, then: any(not np.array_equal(a.numpy(), b) for a, b in zip(now, then))
    return logs, moved(model.arch_variables, alphas), moved(model.weight_variables, weights)


def test_float16_loss_scaling_skips_overflowing_updates_and_adjusts_the_scale():
    x = tf.random.stateless_normal((8, 8, 8, 1), seed=(3, 4))
    y = tf.constant(np.arange(8) % 10)
    model = create_search_model("darts", num_classes=10, input_shape=(8, 8, 1), seed=0,
                                precision="mixed_float16", **TINY)
    model.loss_scale.growth_interval = 1  # every finite update doubles the scale
    model.loss_scale.scale.assign(16.0)  # far from float16's overflow at 65504
    logs, alphas_moved, weights_moved = _step(model, x, y)
    assert np.isfinite(logs["loss"]) and alphas_moved and weights_moved
    # Two finite updates (architecture, then weights): the scale doubled twice.
    assert float(model.loss_scale.scale.numpy()) == 64.0
    # A scale that overflows float16 in the backward pass: both updates are skipped.
    model.loss_scale.scale.assign(2.0 ** 60)
    logs, alphas_moved, weights_moved = _step(model, x, y)
    assert not alphas_moved and not weights_moved
    assert float(model.loss_scale.scale.numpy()) == 2.0 ** 58
    assert int(model.loss_scale.good_steps.numpy()) == 0


def test_dynamic_loss_scale_gradients_equal_unscaled_ones():
    owner = keras.layers.Layer()
    scale = DynamicLossScale(owner, initial_scale=1024.0)
    v = keras.Variable([1.0, -2.0])
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(tf.convert_to_tensor(v) ** 2)
    np.testing.assert_allclose(scale.gradients(tape, loss, [v])[0].numpy(),
                               tape.gradient(loss, [v])[0].numpy())


@pytest.fixture(scope="module")
def digits_batch():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = tf.constant((digits.images[:32, :, :, None] / 16.0).astype("float32"))
    return x, tf.constant(digits.target[:32])


def _first_gradients(method, precision, x, y):
    keras.utils.set_random_seed(0)  # the same initial weights in every precision
    model = create_search_model(method, num_classes=10, input_shape=(8, 8, 1), seed=0,
                                precision=precision, alpha_init_scale=0.5, **TINY)
    model.compile(epochs=1, steps_per_epoch=1)
    if model.loss_scale is not None:
        model.loss_scale.scale.assign(256.0)  # D-DARTS's removed-cell passes overflow at 2**15
    with tf.GradientTape() as tape:
        loss, scaled, _ = model.compute_search_loss(x, y)
    grads = model.gradients(tape, scaled, model.arch_variables + model.weight_variables)
    n = len(model.arch_variables)
    flat = [np.concatenate([np.ravel(g) for g in part if g is not None])
            for part in (grads[:n], grads[n:])]
    return float(loss), flat


@pytest.mark.parametrize("method", ["darts", "d-darts"])
def test_mixed_precision_gradients_point_where_float32s_do(digits_batch, method):
    """From the same weights, the architecture and weight gradients of one batch agree with
    float32's up to the precision's rounding: cosine similarity 0.98 (bfloat16, 8 bits of
    mantissa) and 0.998 (float16, 11 bits). Measured: 0.987-0.996 and 0.999-0.9998."""
    x, y = digits_batch
    loss32, grads32 = _first_gradients(method, "float32", x, y)
    for precision, cos_min in (("mixed_bfloat16", 0.98), ("mixed_float16", 0.998)):
        loss, grads = _first_gradients(method, precision, x, y)
        assert abs(loss - loss32) < 0.01 * loss32
        for g, g32 in zip(grads, grads32):
            assert np.all(np.isfinite(g))
            cos = float(g @ g32 / np.linalg.norm(g) / np.linalg.norm(g32))
            assert cos > cos_min, (precision, cos)


@pytest.mark.slow
@pytest.mark.parametrize("method,settings", [("darts", {"order": 1}), ("d-darts", {})])
def test_short_mixed_precision_searches_run_end_to_end(tmp_path, method, settings):
    """Each precision searches, checkpoints and derives; the record names the precision.

    The genotype of a short search is not float32's in general: the alphas move by ~0.02
    in 12 steps and rounding sends the weights' trajectory elsewhere, as another seed does
    (benchmarks/precision.py measures how often genotypes agree, against that baseline).
    """
    for precision in PRECISIONS:
        config = SearchConfig.from_preset("small", method=method, **settings, **SEARCH,
                                          precision=precision)
        result = run_search(config, str(tmp_path / precision), verbose=0)
        assert np.isfinite(result.summary["final"]["loss"])
        assert {v.dtype for v in result.model.variables} <= {"float32", "int64"}
        assert result.model.get_config()["precision"] == precision
        with open(tmp_path / precision / "config.json") as f:
            assert f'"precision": "{precision}"' in f.read()


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_training_saves_its_precision_and_exports_float32(tmp_path, precision):
    from keras_darts.data import load_arrays, normalize
    from keras_darts.export import export_all
    from keras_darts.export.verify import TFLiteRunner
    from keras_darts.networks import inference_model
    from keras_darts.training import TrainConfig, run_training

    config = TrainConfig.from_preset("small", genotype="DARTS_V2", layers=3, channels=4,
                                     epochs=1, max_train=128, batch_size=32,
                                     precision=precision)
    model, summary = run_training(config, str(tmp_path / "run"), verbose=0)
    assert np.isfinite(summary["history"]["loss"][-1])
    low = precision.split("_")[1]
    assert model.get_layer("logits").compute_dtype == low
    assert {v.dtype for v in model.weights} == {"float32"}
    # Keras loss-scales float16 itself; bfloat16 needs no scaling.
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (
        precision == "mixed_float16")
    loaded = keras.models.load_model(tmp_path / "run" / "model.keras", compile=False)
    assert loaded.get_layer("logits").compute_dtype == low
    (_, _), (xt, _), info = load_arrays("embedded")
    images = normalize(xt[:64], info).numpy()
    reports = export_all(model, str(tmp_path / "export"), images, quantizations=(None,))
    # The artifacts are float32 graphs of the same weights: they agree with a float32
    # model's outputs, and the low-precision network's predictions are mostly theirs.
    assert set(reports) == {"savedmodel", "onnx", "tflite_float32"}
    low_logits = np.asarray(inference_model(model)(images, training=False)).astype("float32")
    tflite = TFLiteRunner(str(tmp_path / "export" / "model_float32.tflite"))(images)
    assert np.mean(low_logits.argmax(-1) == np.asarray(tflite).argmax(-1)) >= 0.9
    assert (tmp_path / "run" / "config.json").read_text().count(f'"{precision}"') == 1
