import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_darts.search_space import ops as O
from keras_darts.search_space.mixed_op import MixedOp

rng = np.random.default_rng(0)


@pytest.mark.parametrize("name", O.DARTS_PRIMITIVES)
@pytest.mark.parametrize("stride", [1, 2])
def test_every_darts_op_shape(name, stride):
    x = rng.normal(size=(2, 8, 8, 6)).astype("float32")
    layer = O.build_op(name, 6, stride, affine=False)
    y = layer(x, training=True) if "training" in layer.call.__code__.co_varnames else layer(x)
    assert tuple(y.shape) == (2, 8 // stride, 8 // stride, 6)
    assert np.isfinite(keras.ops.convert_to_numpy(y)).all()


def test_avg_pool_excludes_padding_and_matches_reference_windows():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    y = keras.ops.convert_to_numpy(O.Pool("avg", stride=2)(x))[0, :, :, 0]
    # Reference: 3x3 windows centred at (0,0), (0,2), (2,0), (2,2), padding excluded.
    img = x[0, :, :, 0]
    expected = np.array([[img[0:2, 0:2].mean(), img[0:2, 1:4].mean()],
                         [img[1:4, 0:2].mean(), img[1:4, 1:4].mean()]])
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_max_pool_ignores_padding_for_negative_inputs():
    x = -np.ones((1, 4, 4, 1), "float32") - np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    y = keras.ops.convert_to_numpy(O.Pool("max", stride=1)(x))
    assert y.max() < 0  # zero padding would have produced 0


def test_sep_conv_stride2_equals_symmetric_padding_reference():
    x = rng.normal(size=(1, 8, 8, 3)).astype("float32")
    op = O.DilConv(3, 3, stride=2, padding=1, dilation=1, affine=True)
    y = keras.ops.convert_to_numpy(op(x, training=False))
    dw = keras.ops.convert_to_numpy(op.depthwise.kernel)
    pw = keras.ops.convert_to_numpy(op.pointwise.kernel)
    xp = np.pad(np.maximum(x, 0), [[0, 0], [1, 1], [1, 1], [0, 0]])
    out = np.zeros((1, 4, 4, 3), "float32")
    for i in range(4):
        for j in range(4):
            patch = xp[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :]  # centred at (2i, 2j)
            out[0, i, j] = (patch * dw[:, :, :, 0]).sum(axis=(0, 1))
    out = out @ pw[0, 0]
    bn = op.bn
    ref = out / np.sqrt(1 + 1e-5) * keras.ops.convert_to_numpy(bn.gamma)
    np.testing.assert_allclose(y, ref, atol=1e-5)


@pytest.mark.parametrize("kernel,padding,dilation", [(3, 1, 1), (5, 2, 1), (3, 2, 2), (5, 4, 2)])
def test_stride1_convs_equal_the_references_explicit_padding(kernel, padding, dilation):
    # The reference pads symmetrically, then convolves "valid".
    x = rng.normal(size=(2, 8, 8, 4)).astype("float32")
    op = O.DilConv(4, kernel, stride=1, padding=padding, dilation=dilation, affine=False)
    y = keras.ops.convert_to_numpy(op(x, training=False))
    xp = tf.pad(tf.nn.relu(x), [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    ref = tf.nn.depthwise_conv2d(xp, op.depthwise.kernel, [1, 1, 1, 1], "VALID",
                                 dilations=[dilation, dilation])
    ref = tf.nn.conv2d(ref, op.pointwise.kernel, 1, "VALID") / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(y, ref.numpy(), atol=1e-5)


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_stride1_relu_conv_bn_equals_the_references_explicit_padding(kernel):
    x = rng.normal(size=(2, 8, 8, 4)).astype("float32")
    half = (kernel - 1) // 2
    conv = O.ReLUConvBN(4, kernel, 1, half, affine=False)
    y = keras.ops.convert_to_numpy(conv(x, training=False))
    xp = tf.pad(tf.nn.relu(x), [[0, 0], [half, half], [half, half], [0, 0]])
    ref = tf.nn.conv2d(xp, conv.conv.kernel, 1, "VALID") / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(y, ref.numpy(), atol=1e-5)


def test_strided_dilated_conv_equals_reference_placement():
    x = rng.normal(size=(1, 8, 8, 2)).astype("float32")
    op = O.DilConv(2, 3, stride=2, padding=2, dilation=2, affine=False)
    y = keras.ops.convert_to_numpy(op(x, training=False))
    dw = keras.ops.convert_to_numpy(op.depthwise.kernel)
    pw = keras.ops.convert_to_numpy(op.pointwise.kernel)
    xp = np.pad(np.maximum(x, 0), [[0, 0], [2, 2], [2, 2], [0, 0]])
    out = np.zeros((4, 4, 2), "float32")
    for i in range(4):
        for j in range(4):
            patch = xp[0, 2 * i:2 * i + 5:2, 2 * j:2 * j + 5:2, :]
            out[i, j] = (patch * dw[:, :, :, 0]).sum(axis=(0, 1))
    np.testing.assert_allclose(y[0], (out @ pw[0, 0]) / np.sqrt(1 + 1e-5), atol=1e-5)


@pytest.mark.parametrize("size", [8, 7])
def test_factorized_reduce_even_and_odd_sizes(size):
    x = rng.normal(size=(2, size, size, 4)).astype("float32")
    y = O.FactorizedReduce(6)(x, training=True)
    assert tuple(y.shape) == (2, (size + 1) // 2, (size + 1) // 2, 6)


def test_factorized_reduce_rejects_odd_channels():
    with pytest.raises(ValueError, match="even number of channels"):
        O.FactorizedReduce(5)


def test_batch_norm_matches_pytorch_semantics():
    x = rng.normal(2.0, 3.0, size=(4, 5, 5, 3)).astype("float32")
    bn = O.BatchNorm(affine=False)
    y = keras.ops.convert_to_numpy(bn(x, training=True))
    flat = x.reshape(-1, 3)
    np.testing.assert_allclose(y, (x - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-5), atol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), 0.1 * flat.mean(0),
                               rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance),
                               0.9 + 0.1 * flat.var(0, ddof=1), rtol=1e-5)
    z = keras.ops.convert_to_numpy(bn(x, training=False))
    mm = keras.ops.convert_to_numpy(bn.moving_mean)
    mv = keras.ops.convert_to_numpy(bn.moving_variance)
    np.testing.assert_allclose(z, (x - mm) / np.sqrt(mv + 1e-5), atol=1e-5)


def test_registry_unknown_op_names_known_ops():
    with pytest.raises(ValueError, match=r"Unknown op 'conv_9x9'.*sep_conv_3x3"):
        O.build_op("conv_9x9", 4)


def test_registry_rejects_duplicate_and_accepts_user_op():
    with pytest.raises(ValueError, match="already registered"):
        O.register_op("sep_conv_3x3")(lambda c, s, a: None)

    @O.register_op("test_conv_1x1", overwrite=True)
    def _conv(channels, stride, affine):
        return O.ReLUConvBN(channels, 1, stride, 0, affine)

    op = MixedOp(["none", "test_conv_1x1"], channels=4, stride=2)
    y = op(rng.normal(size=(1, 8, 8, 4)).astype("float32"), keras.ops.array([0.5, 0.5]))
    assert tuple(y.shape) == (1, 4, 4, 4)


@pytest.mark.parametrize("bad", [{"stride": 3}, {"channels": 0}])
def test_bad_stride_or_channels(bad):
    kwargs = {"channels": 4, "stride": 1, **bad}
    with pytest.raises(ValueError, match=list(bad)[0]):
        O.build_op("sep_conv_3x3", **kwargs)


def test_ops_serialize_round_trip():
    for name in O.DARTS_PRIMITIVES:
        layer = O.build_op(name, 4, 2, affine=False)
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("kernel,padding,size", [(3, 2, 8), (5, 4, 8), (3, 2, 7), (5, 4, 9)])
def test_strided_dilated_conv_both_paths_agree(kernel, padding, size):
    # Even phase (subsample first) vs stride-1 dilated conv then subsample.
    x = rng.normal(size=(2, size, size, 3)).astype("float32")
    fast = O.DilConv(3, kernel, stride=2, padding=padding, dilation=2, affine=False)
    y_fast = keras.ops.convert_to_numpy(fast(x, training=False))
    assert fast._subsample_first
    dw = keras.ops.convert_to_numpy(fast.depthwise.kernel)
    full = tf.nn.depthwise_conv2d(
        np.pad(np.maximum(x, 0), [[0, 0], [padding] * 2, [padding] * 2, [0, 0]]), dw,
        strides=[1, 1, 1, 1], padding="VALID", dilations=[2, 2])[:, ::2, ::2, :]
    ref = tf.einsum("bhwc,cd->bhwd", full, keras.ops.convert_to_numpy(fast.pointwise.kernel)[0, 0])
    np.testing.assert_allclose(y_fast, ref.numpy() / np.sqrt(1 + 1e-5), atol=1e-5)
    assert y_fast.shape[1] == (size + 1) // 2
