"""Search callbacks: alpha history, genotype checkpoints, architecture warm-up, checkpoints."""

from keras_darts.callbacks.alpha_history import AlphaHistory
from keras_darts.callbacks.arch_warmup import ArchitectureWarmup
from keras_darts.callbacks.checkpoint import WeightsCheckpoint
from keras_darts.callbacks.drop_path import DropPathSchedule
from keras_darts.callbacks.genotype_checkpoint import GenotypeCheckpoint
from keras_darts.callbacks.step_timer import StepTimer

__all__ = ["AlphaHistory", "ArchitectureWarmup", "DropPathSchedule", "GenotypeCheckpoint", "StepTimer",
           "WeightsCheckpoint"]
