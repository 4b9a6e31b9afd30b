"""Training a derived network stand-alone, as the papers evaluate it."""

import dataclasses
import os
import time

import keras
from keras import ops

from keras_darts.utils.config import (
    RUN_OPTIONS, check_non_negative, check_positive_ints, check_run_options, config_from_preset,
)
from keras_darts.utils.io import read_json
from keras_darts.utils.precision import check_precision, precision_policy
from keras_darts.utils.seed import restores_determinism

TRAIN_PRESETS = {
    # DARTS CIFAR-10 evaluation (reference implementation).
    "cifar": dict(dataset="cifar10", layers=20, channels=36, stem="cifar", epochs=600,
                  batch_size=96, learning_rate=0.025, min_learning_rate=0.0, momentum=0.9,
                  weight_decay=3e-4, grad_clip=5.0, cutout=16, drop_path=0.2, auxiliary=True,
                  auxiliary_weight=0.4, label_smoothing=0.0, max_train=None),
    # ImageNet, mobile setting (14 cells, 48 channels).
    "imagenet": dict(dataset="imagenet2012", layers=14, channels=48, stem="imagenet",
                     epochs=250, batch_size=128, learning_rate=0.1, min_learning_rate=0.0,
                     momentum=0.9, weight_decay=3e-5, grad_clip=5.0, cutout=0, drop_path=0.0,
                     auxiliary=True, auxiliary_weight=0.4, label_smoothing=0.1, max_train=None),
    # Minutes on 2 CPU cores, on the embedded dataset. A few epochs under-fit, so no cutout,
    # drop-path or auxiliary head: on the DARTS-space derived cells of seeds 0-2 at a 90 s
    # budget they scored 0.820 / 0.753 / 0.770 without, 0.788 / 0.717 / 0.758 with
    # (cutout 8, drop-path 0.1, auxiliary 0.4; benchmarks/results/train_budget_darts_small_2cpu.json).
    "small": dict(dataset="fashion_mnist_subset", layers=6, channels=8, stem="cifar", epochs=3,
                  batch_size=64, learning_rate=0.05, min_learning_rate=0.0, momentum=0.9,
                  weight_decay=3e-4, grad_clip=5.0, cutout=0, drop_path=0.0, auxiliary=False,
                  auxiliary_weight=0.4, label_smoothing=0.0, max_train=4096),
    # NAS-Bench-201's training of a cell (Dong and Yang, 2020): C=16, N=5, 200 epochs,
    # batch 256, SGD 0.1 with cosine decay to 0, weight decay 5e-4, crop and flip only.
    "nb201": dict(dataset="cifar10", channels=16, cells_per_stage=5, epochs=200,
                  batch_size=256, learning_rate=0.1, min_learning_rate=0.0, momentum=0.9,
                  weight_decay=5e-4, grad_clip=None, cutout=0, drop_path=0.0, auxiliary=False,
                  label_smoothing=0.0, max_train=None),
    # A NAS-Bench-201 cell at CPU size on the embedded dataset: 8 epochs on all 5000 images
    # (~30-70 s a cell on 2 cores). 3 epochs on 4096 ranked cells by little more than training
    # noise (an all-convolution cell at the 10th percentile of 30 random cells, the 58th with
    # 8 epochs; benchmarks/results/search_quality_*.json). A minute of training is too short
    # for crop-and-flip augmentation and lr 0.05: without augmentation and with lr 0.2 the
    # demo's derived networks score 0.882 / 0.872 / 0.864 in 60 s instead of 0.831 / 0.852 /
    # 0.834 (seeds 0 / 1 / 2; benchmarks/results/train_budget_nb201_2cpu.json).
    "nb201-small": dict(dataset="fashion_mnist_subset", channels=8, cells_per_stage=1,
                        epochs=8, batch_size=64, learning_rate=0.2, min_learning_rate=0.0,
                        momentum=0.9, weight_decay=3e-4, grad_clip=5.0, augmentation=False,
                        cutout=0, drop_path=0.0, auxiliary=False, label_smoothing=0.0,
                        max_train=5000),
}


@keras.saving.register_keras_serializable(package="keras_darts")
class SparseCrossentropy(keras.losses.Loss):
    """Cross-entropy on logits with integer labels and optional label smoothing.

    Args:
        label_smoothing: in [0, 1); 0.1 for ImageNet.
        name: loss name.

    Example:

    >>> loss = SparseCrossentropy(label_smoothing=0.1)
    """

    def __init__(self, label_smoothing=0.0, name="sparse_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1). Received: {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        n = ops.shape(y_pred)[-1]
        target = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), n)
        if self.label_smoothing:
            target = target * (1.0 - self.label_smoothing) + self.label_smoothing / n
        return -ops.sum(target * ops.log_softmax(y_pred, axis=-1), axis=-1)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@dataclasses.dataclass
class TrainConfig:
    """Settings of a stand-alone training; defaults are DARTS's CIFAR-10 evaluation.

    Attributes:
        genotype: a published name, a `genotype.json` path, a NAS-Bench-201
            arch string, a `Genotype`, an `NB201Genotype`, or a D-DARTS
            `NetworkGenotype` (deepened to `layers` cells by Algorithm 1 when
            its length differs). Default `"DARTS_V2"` unless `network` is given.
        network: a hand-designed reference network (`"plain-cnn"`,
            `"resnet20"`; `keras_darts.networks.reference`) trained instead of
            a genotype's, with every other setting the same; `layers`,
            `channels`, `cells_per_stage` and `stem` do not apply to it.
        dataset, data_dir: the data: a dataset name, `"tfds:NAME"` or a folder
            of class folders of images (see `SearchConfig.dataset`).
        image_size: side of the images the network takes, for datasets of
            varying image sizes (folders, ImageNet; None: 224).
        cache: read the dataset's files once and keep the encoded images in
            memory (see `SearchConfig.cache`).
        layers, channels, stem: the network (`"cifar"` or `"imagenet"` stem).
        cells_per_stage: cells per stage of a NAS-Bench-201 network.
        epochs, batch_size: schedule length and batch.
        learning_rate, min_learning_rate: per-epoch cosine.
        momentum, weight_decay, grad_clip: SGD settings (coupled decay, global-norm clip).
        augmentation: random crop and horizontal flip (where the dataset
            allows it) of every training image.
        cutout: cutout size (0: off).
        drop_path: final drop-path probability (ramped linearly).
        auxiliary, auxiliary_weight: the auxiliary head and its loss weight.
        label_smoothing: label smoothing (ImageNet 0.1).
        max_train: use at most this many training images.
        seed: run seed.
        deterministic: turn determinism on for the run (`set_determinism`):
            the same seed gives the same weights on the CPU.
        steps_per_execution: steps per traced call.
        distribute, devices, connect_timeout: the `tf.distribute` setup, as
            for a search (`batch_size` is the global batch).
        checkpoint_every: also checkpoint every this many steps inside an
            epoch (None: at epoch ends only).
        budget_seconds: train for as many epochs as fit in this many seconds
            of `fit()` (tracing, validation and checkpoints included), instead
            of `epochs`: the number is decided from the first epoch's time
            (`keras_darts.callbacks.TimeBudget`), the cosine and the drop-path
            ramp end with it, and `config.json` and `summary.json` record it,
            so `epochs=<that number>` trains the same network again. A resumed
            run keeps the number decided; one resumed inside its first epoch
            decides from the rest of that epoch and may overrun the budget.
            Not with `distribute="multi-worker"` (workers would decide apart).
        precision: `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`: the
            network computes in that dtype with float32 weights, BatchNorm
            statistics and loss (`keras_darts.utils.precision`); float16 is
            loss-scaled by Keras (`LossScaleOptimizer`). `model.keras` keeps the
            precision; exports are float32 (`keras_darts.export`).

    Example:

    >>> cfg = TrainConfig.from_preset("cifar", genotype="DARTS_V2")
    >>> cfg.epochs, cfg.batch_size, cfg.cutout
    (600, 96, 16)
    """

    genotype: object = None
    network: str = None
    dataset: str = "cifar10"
    data_dir: str = None
    image_size: int = None
    cache: bool = False
    layers: int = 20
    channels: int = 36
    cells_per_stage: int = 5
    stem: str = "cifar"
    epochs: int = 600
    batch_size: int = 96
    learning_rate: float = 0.025
    min_learning_rate: float = 0.0
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    augmentation: bool = True
    cutout: int = 16
    drop_path: float = 0.2
    auxiliary: bool = True
    auxiliary_weight: float = 0.4
    label_smoothing: float = 0.0
    max_train: int = None
    seed: int = 0
    deterministic: bool = True
    steps_per_execution: int = 1
    distribute: str = "default"
    devices: str = None
    connect_timeout: float = 300.0
    checkpoint_every: int = None
    budget_seconds: float = None
    precision: str = "float32"

    def __post_init__(self):
        if self.genotype is None and self.network is None:
            self.genotype = "DARTS_V2"

    @classmethod
    def from_preset(cls, preset, **overrides):
        """A config from a preset (`"cifar"`, `"imagenet"`, `"small"`, `"nb201"`,
        `"nb201-small"`) with overrides (None ignored).

        Raises:
            ValueError: for an unknown preset or unknown settings.
        """
        return config_from_preset(cls, TRAIN_PRESETS, preset, overrides, "training")

    def validate(self):
        """Checks settings that need no data; returns self.

        Raises:
            ValueError: naming the first bad setting.
        """
        check_positive_ints(self, ("epochs", "batch_size", "layers", "channels",
                                   "steps_per_execution", "cells_per_stage"))
        if self.image_size is not None:
            check_positive_ints(self, ("image_size",))
        check_run_options(self)
        check_precision(self.precision)
        check_non_negative(self, ("learning_rate", "min_learning_rate", "weight_decay",
                                  "auxiliary_weight"))
        if not 0 <= self.drop_path < 1:
            raise ValueError(f"drop_path must be in [0, 1). Received: {self.drop_path!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1). Received: {self.momentum!r}")
        if self.stem not in ("cifar", "imagenet"):
            raise ValueError(f"stem must be 'cifar' or 'imagenet'. Received: {self.stem!r}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ValueError(f"grad_clip must be positive. Received: {self.grad_clip!r}")
        if self.budget_seconds is not None:
            from keras_darts.callbacks.time_budget import check_budget

            check_budget(self.budget_seconds)
            if self.distribute == "multi-worker":
                raise ValueError("budget_seconds cannot be used with distribute='multi-worker': "
                                 "each worker would decide its own number of epochs. Pass "
                                 "--epochs (a budgeted run's summary.json gives the number).")
        if self.network is not None:
            from keras_darts.networks.reference import check_reference_network

            check_reference_network(self.network)
            if self.genotype is not None:
                raise ValueError(f"Give a genotype or a reference network, not both. "
                                 f"Received: genotype={self.genotype!r}, "
                                 f"network={self.network!r}")
            if self.auxiliary or self.drop_path > 0:
                raise ValueError(f"Reference network {self.network!r} has no auxiliary head "
                                 f"and no drop-path: pass --no-auxiliary --drop-path 0 (the "
                                 f"nb201-small preset has neither).")
        return self

    def to_dict(self):
        """JSON-ready settings (the genotype as text)."""
        d = dataclasses.asdict(self)
        if self.genotype is not None and not isinstance(self.genotype, str):
            d["genotype"] = str(self.genotype)
        return d


def check_genotype_settings(genotype, config):
    """Raises `ValueError` if a genotype cannot be trained with a config's settings.

    Args:
        genotype: a `Genotype`, `NB201Genotype` or `NetworkGenotype`.
        config: a `TrainConfig`.

    Raises:
        ValueError: for a NAS-Bench-201 cell with an auxiliary head or
            drop-path, or a DARTS genotype with ops outside the DARTS ops.

    Example:

    >>> check_genotype_settings(get_genotype("DARTS_V2"), TrainConfig())
    """
    from keras_darts.architecture.nb201_genotype import NB201Genotype
    from keras_darts.search_space.ops import DARTS_PRIMITIVES

    if isinstance(genotype, NB201Genotype):
        if config.auxiliary or config.drop_path > 0:
            raise ValueError("A NAS-Bench-201 cell trains without auxiliary head and "
                             "drop-path: use --preset nb201 / nb201-small, or --no-auxiliary "
                             "--drop-path 0.")
    else:
        genotype.validate(DARTS_PRIMITIVES)


def plot_learning_curve(history, path, title=None):
    """Draws a training's loss and accuracy per epoch, on the training and the test images.

    Args:
        history: `{metric: [per epoch]}` as `summary.json`'s `"history"`
            (`loss`, `accuracy`, `val_loss`, `val_accuracy`; an auxiliary
            head's `logits_accuracy` is read as `accuracy`).
        path: the image file (`.png`, `.svg`, ...), written atomically.
        title: the figure's title.

    Returns:
        `path`.

    Example:

    >>> plot_learning_curve(summary["history"], "runs/train/learning_curve.png")
    ... # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_darts.utils import atomic_path

    def series(*names):
        return next((history[n] for n in names if history.get(n)), None)

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, metric, scale in ((axes[0], "loss", 1), (axes[1], "accuracy", 100)):
        for prefix, label, style in (("", "training images", "-"), ("val_", "test images", "--")):
            values = series(f"{prefix}{metric}", f"{prefix}logits_{metric}")
            if values:
                ax.plot(range(1, len(values) + 1), [scale * v for v in values], style,
                        marker="o", ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric + (" (%)" if scale != 1 else ""))
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path, suffix=os.path.splitext(path)[1]) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def _aux_targets(x, y):
    return x, (y, y)


def _with_aux_targets(ds, auxiliary):
    return ds.map(_aux_targets) if auxiliary else ds


@restores_determinism
def run_training(config, out_dir, verbose=1, callbacks=(), source=None):
    """Trains a genotype's network (or a reference network) and reports its test accuracy.

    Bad settings, an unknown genotype or a missing dataset fail before
    `out_dir` is created. Started again with the same `out_dir` after a
    crash or a kill, training goes on from its last checkpoint in
    `out_dir/checkpoints` (weights, optimizer, data position, drop-path
    schedule; see `keras_darts.resume`). The run directory receives
    `config.json`, `genotype.json` (not for a reference network), `history.csv`,
    TensorBoard logs, `model.keras` (written atomically), `summary.json`
    with the final test accuracy, parameters, multiply-adds, wall time
    (`wall_s`; `fit_wall_s`: the part spent in `fit()`, which a budget counts)
    and the learning curve, and its plot `learning_curve.png`.

    Args:
        config: a `TrainConfig`.
        out_dir: the run directory.
        verbose: Keras progress output.
        callbacks: extra callbacks.
        source: the config's dataset opened already (`config_source`), to
            open it once for several trainings (`run_baseline`); None: open
            it here.

    Returns:
        `(model, summary)`.

    Raises:
        ValueError: for invalid settings or genotypes.
        DatasetNotAvailableError: if the dataset is not on this machine.

    Example:

    >>> cfg = TrainConfig.from_preset("small", genotype="runs/demo/genotype.json")
    >>> model, summary = run_training(cfg, "runs/train")  # doctest: +SKIP
    """
    from keras_darts.architecture.genotype import Genotype, get_genotype
    from keras_darts.architecture.cell_genotype import NetworkGenotype
    from keras_darts.architecture.nb201_genotype import NB201Genotype
    from keras_darts.callbacks import DropPathSchedule, StepTimer, TimeBudget
    from keras_darts.data import train_data
    from keras_darts.data.sources import config_source
    from keras_darts.networks import build_network, build_reference_network, inference_model
    from keras_darts.optimizers import CoupledSGD, EpochCosineDecay
    from keras_darts.profiling import profile
    from keras_darts.resume import check_same_run, fit_resumable, has_checkpoint
    from keras_darts.search import distribution_strategy
    from keras_darts.utils.distribute import keras_multi_worker, task_dir
    from keras_darts.utils import atomic_path, atomic_write_json, set_seed

    config.validate()
    genotype = None
    if config.network is None:
        genotype = (config.genotype if isinstance(config.genotype, (Genotype, NB201Genotype,
                                                                    NetworkGenotype))
                    else get_genotype(config.genotype))
        check_genotype_settings(genotype, config)
    set_seed(config.seed, config.deterministic)
    strategy = distribution_strategy(config)
    out_dir = task_dir(out_dir, strategy)
    config_path = os.path.join(out_dir, "config.json")
    # With a budget, the epochs are decided after the first one (null in config.json until
    # then); a resumed run keeps the number decided.
    budget, decided = config.budget_seconds, config.epochs
    if budget is not None:
        decided = (read_json(config_path).get("epochs")
                   if has_checkpoint(out_dir) and os.path.exists(config_path) else None)
        if decided is not None:
            config = dataclasses.replace(config, epochs=decided)
    data = train_data(source or config_source(config), config.batch_size, seed=config.seed,
                      augmentation=config.augmentation, cutout=config.cutout,
                      max_train=config.max_train, replicas=strategy.num_replicas_in_sync)
    data.strategy = strategy  # each input pipeline reads only its replicas' images
    with strategy.scope(), precision_policy(config.precision):
        if genotype is None:
            model = build_reference_network(config.network, data.info.num_classes,
                                            data.info.image_shape)
        else:
            model = build_network(genotype, num_classes=data.info.num_classes,
                                  layers=config.layers, channels=config.channels,
                                  input_shape=data.info.image_shape, stem=config.stem,
                                  auxiliary=config.auxiliary, drop_path=config.drop_path > 0,
                                  seed=config.seed, cells_per_stage=config.cells_per_stage)
        # Adjustable in every run, not only a budgeted one: a constant length lets graph
        # optimisation fold the cosine's division differently (a last-bit difference in the
        # rate at some epochs), and a budgeted run must equal the run of its decided epochs.
        schedule = EpochCosineDecay(config.learning_rate, config.epochs, data.steps_per_epoch,
                                    config.min_learning_rate, adjustable=True)
        optimizer = CoupledSGD(schedule, momentum=config.momentum,
                               coupled_weight_decay=config.weight_decay,
                               global_clipnorm=config.grad_clip)
        loss = SparseCrossentropy(config.label_smoothing)
        if config.auxiliary:
            model.compile(optimizer=optimizer, loss=[loss, loss],
                          loss_weights=[1.0, config.auxiliary_weight],
                          metrics=[["accuracy"], []],
                          steps_per_execution=config.steps_per_execution, jit_compile=False)
        else:
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"],
                          steps_per_execution=config.steps_per_execution, jit_compile=False)
        # (Under mixed_float16, `compile` wrapped the optimizer in a LossScaleOptimizer.)
        model.optimizer.build(model.trainable_variables)

    check_same_run(out_dir, config,
                   ignore=RUN_OPTIONS if budget is None else (*RUN_OPTIONS, "epochs"))
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(config_path, {**config.to_dict(), "epochs": decided})
    if genotype is not None:
        genotype.save(os.path.join(out_dir, "genotype.json"))
    timer = StepTimer()
    cbs = [timer, keras.callbacks.TensorBoard(os.path.join(out_dir, "logs"), write_graph=False),
           *callbacks]
    drop_path = DropPathSchedule(config.drop_path, config.epochs) if config.drop_path else None
    if drop_path is not None:
        cbs.insert(0, drop_path)
    if decided is None:
        def on_decided(epochs):
            nonlocal config
            schedule.set_epochs(epochs)
            if drop_path is not None:
                drop_path.epochs = epochs
            config = dataclasses.replace(config, epochs=epochs)
            atomic_write_json(config_path, config.to_dict())

        budget_callback = TimeBudget(budget, on_decided)
        cbs.insert(0, budget_callback)
    start = time.time()
    history = fit_resumable(
        model, data, config.epochs if decided is not None else lambda: budget_callback.epochs,
        os.path.join(out_dir, "checkpoints"),
        os.path.join(out_dir, "history.csv"), cbs,
        validation_data=_with_aux_targets(data.validation, config.auxiliary), verbose=verbose,
        every_steps=config.checkpoint_every,
        map_fn=_aux_targets if config.auxiliary else None)
    deploy = inference_model(model)
    if deploy is not model:  # an auxiliary head: evaluate the logits alone
        with strategy.scope():
            deploy.compile(loss=loss, metrics=["accuracy"], jit_compile=False)
    # (Without one, the model's own test function, traced for validation, is used again.)
    with keras_multi_worker(deploy, next(iter(data.validation))):
        test = deploy.evaluate(data.validation, verbose=0, return_dict=True)
    with atomic_path(os.path.join(out_dir, "model.keras"), suffix=".keras") as tmp:
        model.save(tmp)
    summary = {"test_accuracy": float(test["accuracy"]), "test_loss": float(test["loss"]),
               "network": config.network, "epochs": config.epochs,
               "budget_seconds": budget, "wall_s": timer.run_wall_s(time.time() - start),
               # The part of it a budget counts: `fit()`, without the final test and saving.
               "fit_wall_s": round(timer.training_wall_s(), 2),
               **profile(model), **timer.summary(),
               "history": history}
    atomic_write_json(os.path.join(out_dir, "summary.json"), summary)
    plot_learning_curve(history, os.path.join(out_dir, "learning_curve.png"),
                        f"{model.name}: test accuracy "
                        f"{summary['test_accuracy']:.4f} after {config.epochs} epochs, "
                        f"{summary['wall_s']:.0f} s")
    return model, summary


def finished_run_paths(run, names):
    """The paths of files a finished `keras-darts train` run holds.

    Args:
        run: a training run directory.
        names: file names in it (`"summary.json"`, `"config.json"`, ...).

    Returns:
        `{name: path}`.

    Raises:
        FileNotFoundError: naming the first missing file.

    Example:

    >>> finished_run_paths("runs/demo/train", ("summary.json",))  # doctest: +SKIP
    {'summary.json': 'runs/demo/train/summary.json'}
    """
    paths = {n: os.path.join(run, n) for n in names}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"{run!r} is not a finished training run: no {missing[0]}.")
    return paths


def compare_runs(run_dirs, latency=True):
    """The figures of finished `keras-darts train` runs, side by side.

    Args:
        run_dirs: run directories (each with `summary.json`, `config.json`
            and `model.keras`).
        latency: also measure each network's float32 TFLite latency on this
            CPU (`keras_darts.profiling.export_latency`).

    Returns:
        One dict per run: `run`, `network` (the reference network's name, or
        the genotype for a genotype's network), `reference` (whether it is a
        reference network), `test_accuracy`, `params_m`,
        `macs_m`, `tflite_ms` (with `latency`), `wall_s`, `epochs`,
        `budget_seconds`.

    Raises:
        FileNotFoundError: naming a directory that holds no finished run.

    Example:

    >>> rows = compare_runs(["runs/demo/train", "runs/demo/reference"])  # doctest: +SKIP
    """
    rows = []
    for run in run_dirs:
        paths = finished_run_paths(run, ("summary.json", "config.json", "model.keras"))
        summary, config = read_json(paths["summary.json"]), read_json(paths["config.json"])
        row = {"run": run, "network": config.get("network") or config.get("genotype"),
               "reference": config.get("network") is not None,
               **{k: summary.get(k) for k in ("test_accuracy", "params_m", "macs_m")},
               "wall_s": round(float(summary["wall_s"]), 1), "epochs": summary.get("epochs"),
               "budget_seconds": summary.get("budget_seconds")}
        if latency:
            import keras_darts.networks  # noqa: F401 (registers the layers to load)
            from keras_darts.profiling import export_latency

            model = keras.models.load_model(paths["model.keras"], compile=False)
            row["tflite_ms"] = export_latency(model)["tflite_float32_ms"]
        rows.append(row)
    return rows

