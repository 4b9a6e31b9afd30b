"""Search callbacks: alpha history and IES, genotype checkpoints, warm-up, schedules, discretized accuracy."""

from keras_darts.callbacks.alpha_history import AlphaHistory
from keras_darts.callbacks.arch_warmup import ArchitectureWarmup
from keras_darts.callbacks.checkpoint import WeightsCheckpoint
from keras_darts.callbacks.discretized import DiscretizedAccuracy
from keras_darts.callbacks.drop_path import DropPathSchedule
from keras_darts.callbacks.genotype_checkpoint import GenotypeCheckpoint
from keras_darts.callbacks.step_timer import StepTimer
from keras_darts.callbacks.time_budget import TimeBudget
from keras_darts.strategies.sp_darts import MixingProbabilitySchedule

__all__ = ["AlphaHistory", "ArchitectureWarmup", "DiscretizedAccuracy", "DropPathSchedule",
           "GenotypeCheckpoint", "MixingProbabilitySchedule", "StepTimer", "TimeBudget",
           "WeightsCheckpoint"]
