"""Stand-alone networks built from genotypes (Keras functional models)."""

import keras
from keras import layers as layers_mod

from keras_darts.architecture.cell_genotype import CellGenotype, NetworkGenotype
from keras_darts.architecture.genotype import Genotype, get_genotype
from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.networks.layers import AuxiliaryHead, GenotypeCell, NB201GenotypeCell
from keras_darts.search_space.nb201 import ResidualReduction
from keras_darts.search_space.ops import batch_norm
from keras_darts.search_space.supernet import ImageNetStem, check_stem, reduction_indices


def _resolve_genotypes(genotype, num_layers):
    """One `Genotype` per cell from a genotype, a name/path, or a per-cell list."""
    if isinstance(genotype, (list, tuple)) and not isinstance(genotype, Genotype):
        cells = [get_genotype(g) if isinstance(g, str) else g for g in genotype]
        if len(cells) != num_layers:
            raise ValueError(
                f"A per-cell genotype list must have one genotype per cell: got {len(cells)} "
                f"genotypes for layers={num_layers}."
            )
    else:
        g = get_genotype(genotype) if isinstance(genotype, str) else genotype
        cells = [g] * num_layers
    for i, g in enumerate(cells):
        if not isinstance(g, (Genotype, CellGenotype)):
            raise ValueError(f"Cell {i}: expected a Genotype, a preset name or a genotype.json "
                             f"path. Received: {type(g).__name__}")
    return cells


def build_network(genotype, num_classes=10, layers=20, channels=36, input_shape=(32, 32, 3),
                  stem="cifar", auxiliary=True, drop_path=True, stem_multiplier=3,
                  reductions=None, seed=None, name="darts_network", cells_per_stage=None):
    """Builds the stand-alone network of a genotype, as the reference implementation does.

    `stem="cifar"`: a 3x3 conv with `stem_multiplier * channels` channels and
    BN. `stem="imagenet"` (mobile setting): two stride-2 3x3 convs to
    `channels // 2` then `channels` (with BN and ReLU between), then a third
    ReLU-conv-BN of stride 2, so cells start at 1/8 resolution and the first
    cell treats its inputs as coming after a reduction. Reduction cells sit at
    `layers // 3` and `2 * layers // 3` and double the channels; the
    auxiliary head (weight 0.4 in training) reads the output of cell
    `2 * layers // 3`. Drop-path follows every non-identity op.

    Args:
        genotype: a `Genotype`, a published name (`"DARTS_V2"`, ...), a
            `genotype.json` path, or a list of one genotype per cell (networks
            whose cells differ, e.g. from D-DARTS). An `NB201Genotype` (or an
            arch string, or its genotype.json) builds the NAS-Bench-201
            network instead (`build_nb201_network`: `channels` and
            `cells_per_stage` apply, `auxiliary` must be False). A
            `NetworkGenotype` (D-DARTS: one searched cell per position) gives
            its cells and reductions; with `layers` other than its length it
            is first deepened by `keras_darts.derivation.deepen` (D-DARTS
            Algorithm 1).
        num_classes: number of classes.
        layers: number of cells (20 for CIFAR, 14 for ImageNet).
        channels: initial channels (36 for CIFAR, 48 for ImageNet).
        input_shape: `(height, width, channels)`.
        stem: `"cifar"` or `"imagenet"`.
        auxiliary: add the auxiliary head as a second output `aux_logits`.
        drop_path: insert drop-path layers (their rate starts at 0).
        stem_multiplier: CIFAR stem channels factor.
        reductions: explicit reduction cell indices.
        seed: seed of the drop-path masks.
        name: model name.
        cells_per_stage: NAS-Bench-201 cells per stage (default 5).

    Returns:
        A functional `keras.Model` with output `logits`, or
        `[logits, aux_logits]` when `auxiliary`. Use `inference_model()` for
        the deployable graph.

    Raises:
        ValueError: for an unknown stem, a per-cell list of the wrong length,
            a genotype of another search space, or impossible sizes.

    Example:

    >>> model = build_network("DARTS_V2", layers=20, channels=36)
    >>> count_params(inference_model(model))  # ~3.3 M  # doctest: +SKIP
    """
    if isinstance(genotype, str) and genotype.startswith("|"):
        genotype = NB201Genotype.from_arch_string(genotype)
    elif isinstance(genotype, str):
        genotype = get_genotype(genotype)
    if isinstance(genotype, NB201Genotype):
        if auxiliary:
            raise ValueError("NAS-Bench-201 networks have no auxiliary head: pass "
                             "auxiliary=False (--no-auxiliary).")
        return build_nb201_network(genotype, num_classes, channels, cells_per_stage or 5,
                                   input_shape, name=name)
    for arg, value in (("num_classes", num_classes), ("channels", channels)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg} must be a positive integer. Received: {arg}={value!r}")
    check_stem(stem, channels)
    if isinstance(genotype, NetworkGenotype):
        if layers != len(genotype.cells):
            from keras_darts.derivation.fair import deepen

            genotype, _ = deepen(genotype, layers)
        reductions = genotype.reductions
        genotype = list(genotype.cells)
    reductions = reduction_indices(layers, reductions)
    cells = _resolve_genotypes(genotype, layers)
    for i, g in enumerate(cells):
        if isinstance(g, CellGenotype) and g.reduction != (i in reductions):
            raise ValueError(f"Cell {i} is a searched {g.kind} cell, but the network has "
                             f"{'a' if i in reductions else 'no'} reduction there "
                             f"(reductions at {list(reductions)}).")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    c = channels
    if stem == "cifar":
        x = layers_mod.Conv2D(stem_multiplier * c, 3, padding="same", use_bias=False,
                              name="stem_conv")(inputs)
        s0 = s1 = batch_norm(True, name="stem_bn")(x)
        reduction_prev = False
    else:
        s0, s1 = ImageNetStem(c)(inputs)
        reduction_prev = True
    aux_input = None
    for i, g in enumerate(cells):
        reduction = i in reductions
        if reduction:
            c *= 2
        cell = GenotypeCell(g, c, reduction=reduction, reduction_prev=reduction_prev,
                            drop_path=drop_path, seed=None if seed is None else seed + 100 * i,
                            name=f"cell_{i}")
        s0, s1 = s1, cell(s0, s1)
        reduction_prev = reduction
        if i == 2 * layers // 3:
            aux_input = s1
    x = layers_mod.GlobalAveragePooling2D(name="global_pool")(s1)
    logits = layers_mod.Dense(num_classes, name="logits")(x)
    outputs = logits
    if auxiliary:
        aux = AuxiliaryHead(num_classes, pool_stride=3 if stem == "cifar" else 2,
                            name="aux_logits")(aux_input)
        outputs = [logits, aux]
    return keras.Model(inputs, outputs, name=name)



def build_nb201_network(genotype, num_classes=10, channels=16, cells_per_stage=5,
                        input_shape=(32, 32, 3), name="nb201_network"):
    """Builds the NAS-Bench-201 network of a cell, as the benchmark trains it.

    A 3x3 conv stem (C) with BN, three stages of `cells_per_stage` cells at
    C, 2C and 4C separated by residual reduction blocks, then BN, ReLU,
    global pooling and the classifier.

    Args:
        genotype: an `NB201Genotype` or its arch string.
        num_classes: classes.
        channels: C (16 in the benchmark).
        cells_per_stage: N (5 in the benchmark).
        input_shape: `(height, width, channels)`.
        name: model name.

    Returns:
        A functional `keras.Model` with output `logits`.

    Raises:
        GenotypeError: for a malformed arch string.
        ValueError: for non-positive sizes.

    Example:

    >>> model = build_nb201_network("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|"
    ...                             "skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> round(count_params(model), 3)  # doctest: +SKIP
    """
    if isinstance(genotype, str):
        genotype = NB201Genotype.from_arch_string(genotype)
    for arg, value in (("num_classes", num_classes), ("channels", channels),
                       ("cells_per_stage", cells_per_stage)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{arg} must be a positive integer. Received: {arg}={value!r}")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = layers_mod.Conv2D(channels, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = batch_norm(True, name="stem_bn")(x)
    c = channels
    for stage in range(3):
        if stage:
            c *= 2
            x = ResidualReduction(c, name=f"reduction_{stage}")(x)
        for k in range(cells_per_stage):
            x = NB201GenotypeCell(genotype, c, name=f"cell_{stage}_{k}")(x)
    x = layers_mod.ReLU(name="last_relu")(batch_norm(True, name="last_bn")(x))
    x = layers_mod.GlobalAveragePooling2D(name="global_pool")(x)
    logits = layers_mod.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def inference_model(model):
    """The deployable view of a network: image in, logits out, no auxiliary head.

    Shares the weights of `model`; drop-path layers are the identity in
    inference and leave no ops.

    Args:
        model: a model from `build_network` (with or without auxiliary head).

    Returns:
        A `keras.Model` with one output.

    Example:

    >>> deploy = inference_model(build_network("DARTS_V2", layers=8, channels=16))
    """
    if len(model.outputs) == 1:
        return model
    return keras.Model(model.inputs[0], model.get_layer("logits").output, name=model.name + "_infer")


def count_params(model):
    """Parameters in millions of `model`'s trainable weights (BN statistics excluded).

    Apply it to `inference_model(model)` to exclude the auxiliary head, as the
    papers' tables do.

    Args:
        model: a Keras model.

    Returns:
        Millions of trainable parameters.

    Example:

    >>> round(count_params(inference_model(build_network("DARTS_V2"))), 1)  # doctest: +SKIP
    3.3
    """
    import numpy as np

    return sum(int(np.prod(w.shape)) for w in model.trainable_weights) / 1e6


NETWORK_PRESETS = {
    "cifar": dict(layers=20, channels=36, input_shape=(32, 32, 3), stem="cifar", num_classes=10),
    "imagenet": dict(layers=14, channels=48, input_shape=(224, 224, 3), stem="imagenet",
                     num_classes=1000),
    "nb201": dict(channels=16, cells_per_stage=5, input_shape=(32, 32, 3), num_classes=10),
}
"""The papers' evaluation networks: CIFAR-10 (20 cells, C=36), ImageNet mobile (14, 48), and
NAS-Bench-201's CIFAR-10 network (C=16, 5 cells per stage)."""
