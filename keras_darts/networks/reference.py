"""Hand-designed reference networks, trained by `keras-darts train` exactly as a genotype is.

A searched cell is worth deploying only if it beats what a few lines of Keras
give for the same training time. These networks make that comparison one
command away: `keras-darts train --network plain-cnn` trains one with the
same data, augmentation, schedule and budget as `--genotype ...`. Their sizes
are fixed (the training config's `layers`, `channels` and `stem` describe
genotype networks and do not apply); new ones are registered by name with
`register_reference_network`.
"""

import keras
from keras import layers

from keras_darts.registry import Registry
from keras_darts.search_space.ops import batch_norm


def _check_network(name, fn):
    if not callable(fn):
        raise ValueError(f"Reference network {name!r} must be a builder "
                         f"fn(num_classes, input_shape, name). Received: {fn!r}")


NETWORKS = Registry("network", group="keras_darts.networks", check=_check_network)
"""Reference network builders by name (`keras_darts.registry.Registry`); third-party ones
register through the `keras_darts.networks` entry-point group."""


def register_reference_network(name, overwrite=False):
    """Registers a reference network builder under `name` (a decorator).

    Args:
        name: the name `keras-darts train --network` takes.
        overwrite: allow replacing an existing network.

    Returns:
        A decorator taking `fn(num_classes, input_shape, name) -> keras.Model`
        (one output: the logits).

    Raises:
        ValueError: if the name is taken and `overwrite` is False.

    Example:

    >>> @register_reference_network("mlp-demo")
    ... def _mlp(num_classes, input_shape, name):
    ...     inputs = keras.Input(input_shape)
    ...     x = keras.layers.Flatten()(inputs)
    ...     return keras.Model(inputs, keras.layers.Dense(num_classes)(x), name=name)
    """
    return NETWORKS.register(name, overwrite=overwrite)


def reference_network_names():
    """The registered reference networks' names, sorted."""
    return NETWORKS.names()


def check_reference_network(name):
    """Raises `ValueError` unless `name` is a registered reference network.

    Args:
        name: a network name.

    Raises:
        ValueError: naming the unknown network and the known ones.

    Example:

    >>> check_reference_network("plain-cnn")
    """
    NETWORKS.get(name)


def build_reference_network(name, num_classes=10, input_shape=(32, 32, 3)):
    """Builds a registered reference network.

    Args:
        name: `"plain-cnn"`, `"resnet20"`, or a name registered with
            `register_reference_network`.
        num_classes: classes.
        input_shape: `(height, width, channels)`.

    Returns:
        A functional `keras.Model` named `name` with one output, the logits.

    Raises:
        ValueError: for an unknown name or non-positive sizes.

    Example:

    >>> model = build_reference_network("plain-cnn", 10, (28, 28, 1))
    >>> model.count_params()
    34826
    """
    check_reference_network(name)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer. Received: {num_classes!r}")
    return NETWORKS.get(name)(num_classes, tuple(input_shape), name)


@register_reference_network("plain-cnn")
def plain_cnn(num_classes, input_shape, name):
    """The Keras tutorial CNN: two 3x3 ReLU convolutions (32, 64) each followed by 2x2
    max-pooling, then a dense classifier on the flattened map (35 k parameters at 28x28x1,
    2.4 M multiply-adds). No BatchNorm, no dropout: the ten lines a user would write."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits")(x), name=name)


def _conv_bn(x, channels, stride, name, relu=True, kernel_size=3):
    x = layers.Conv2D(channels, kernel_size, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = batch_norm(True, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


@register_reference_network("resnet20")
def resnet20(num_classes, input_shape, name):
    """ResNet-20 for small images (He et al., 2016, section 4.2): a 3x3 convolution to 16
    channels, three stages of three basic blocks at 16, 32 and 64 channels (stride 2 at the
    start of stages 2 and 3), global pooling and a dense classifier. Where a block changes
    shape its shortcut is a 1x1 convolution with BN (the paper's option B; 0.27 M
    parameters, ~31 M multiply-adds at 28x28x1)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = _conv_bn(inputs, 16, 1, "stem")
    for stage, channels in enumerate((16, 32, 64)):
        for block in range(3):
            stride = 2 if stage and not block else 1
            prefix = f"stage{stage + 1}_block{block + 1}"
            y = _conv_bn(x, channels, stride, f"{prefix}_a")
            y = _conv_bn(y, channels, 1, f"{prefix}_b", relu=False)
            if stride != 1 or x.shape[-1] != channels:
                x = _conv_bn(x, channels, stride, f"{prefix}_shortcut", relu=False,
                             kernel_size=1)
            x = layers.ReLU(name=f"{prefix}_out")(layers.Add(name=f"{prefix}_add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    return keras.Model(inputs, layers.Dense(num_classes, name="logits")(x), name=name)
