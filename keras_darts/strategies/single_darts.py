"""Single-DARTS (Hou et al.): single-level optimisation with a sigmoid architecture activation."""

import dataclasses

import keras

from keras_darts.optimizers import CoupledAdam
from keras_darts.strategies.base import register_strategy
from keras_darts.strategies.single_level import SingleLevelSearch
from keras_darts.utils.config import MethodSettings, setting


@dataclasses.dataclass
class SingleDartsSettings(MethodSettings):
    """Single-DARTS's own settings (`SingleDartsSearch`).

    Example:

    >>> SingleDartsSettings(batches="different").validate().batches
    'different'
    """

    #: The paper's search directly on ImageNet (with the `imagenet` preset's stem and data):
    #: 50 epochs, batch 360, SGD 0.025 with weight decay 3e-4, alphas Adam 3e-4 from the
    #: first epoch, on the whole training set; it names no partial channels.
    presets = {"imagenet": dict(batch_size=360, learning_rate=0.025, arch_learning_rate=3e-4,
                                warmup_epochs=0, train_subset=None, partial_channels=1,
                                edge_normalization=False)}

    batches: str = setting("same", "'same': weights and alphas step on one batch; 'different': "
                                   "on two batches of the same subset (the paper's ablation)",
                           choices=("same", "different"))

    def validate(self, config=None):
        if self.batches not in ("same", "different"):
            raise ValueError(f"batches must be 'same' or 'different'. Received: {self.batches!r}")
        return self


@keras.saving.register_keras_serializable(package="keras_darts")
@register_strategy("single-darts")
class SingleDartsSearch(SingleLevelSearch):
    """Single-DARTS: weights and alphas updated simultaneously from the same batch.

    The paper's analysis is that bi-level updates on different batches let
    parameter-free ops win; updating both from one batch (one forward and
    backward pass) avoids the collapse. Its defaults:

    * the architecture activation is `"sigmoid"` (non-competitive), with
      alphas initialised at `-ln(k - 1)` so every op starts at the uniform
      share `1/k` (1/8 for the DARTS space, 1/5 for NAS-Bench-201);
      `activation="softmax"` gives the paper's softmax variant;
    * the alphas use Adam with a constant 3e-4, betas (0.5, 0.999) and no
      weight decay (decay would pull every sigmoid towards 1/2);
    * `batches="different"` is the paper's ablation (Table 4): weights and
      alphas step on two different batches of the same training subset.
      Batches are then `((x_w, y_w), (x_a, y_a))` pairs
      (`search_data(..., mode="paired")`).

    Args:
        activation: `"sigmoid"` (default) or `"softmax"` (or any registered one).
        alpha_init_value: initial alpha constant (`"uniform"`: `-ln(k - 1)`
            per edge with `k` ops, for the sigmoid; 0 is used for the softmax).
        batches: `"same"` (Single-DARTS) or `"different"` (the ablation).
        **kwargs: `SearchModel` arguments (`space`, sizes, ...).

    Raises:
        ValueError: for another `batches` value.

    Example:

    >>> model = SingleDartsSearch(num_classes=10, input_shape=(28, 28, 1), space="nb201",
    ...                           cells_per_stage=1, channels=8)
    >>> model.compile(epochs=10, steps_per_epoch=156)
    """

    Settings = SingleDartsSettings
    default_arch_weight_decay = 0.0

    def __init__(self, activation="sigmoid", alpha_init_value=None, batches="same", **kwargs):
        SingleDartsSettings(batches).validate()
        if alpha_init_value is None:
            alpha_init_value = "uniform" if activation == "sigmoid" else 0.0
        self.batches = batches
        self.data_mode = "single" if batches == "same" else "paired"
        super().__init__(activation=activation, alpha_init_value=alpha_init_value, **kwargs)

    def compile(self, optimizer=None, arch_optimizer=None, **kwargs):
        """Like `SearchModel.compile`, with the paper's architecture optimizer by default.

        The default `arch_optimizer` is Adam (3e-4, betas (0.5, 0.999)) with no
        weight decay.
        """
        if arch_optimizer is None:
            arch_optimizer = CoupledAdam(3e-4, beta_1=0.5, beta_2=0.999,
                                         coupled_weight_decay=0.0, name="arch_adam")
        super().compile(optimizer=optimizer, arch_optimizer=arch_optimizer, **kwargs)

    def train_step(self, data):
        if self.batches == "same":
            return super().train_step(data)
        x, y, x_a, y_a = self.unpack_bilevel(data)
        loss, logits = self.single_level_update(x, y, x_arch=x_a, y_arch=y_a)
        return self.update_metrics(loss, y, logits)

    def get_config(self):
        return {**super().get_config(), "batches": self.batches}
