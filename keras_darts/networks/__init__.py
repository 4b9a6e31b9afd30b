"""Stand-alone networks built from genotypes, for training and export."""

from keras_darts.networks.builders import (
    NETWORK_PRESETS, build_nb201_network, build_network, count_params, inference_model,
)
from keras_darts.networks.layers import AuxiliaryHead, DropPath, GenotypeCell, NB201GenotypeCell

__all__ = ["AuxiliaryHead", "DropPath", "GenotypeCell", "NB201GenotypeCell", "NETWORK_PRESETS",
           "build_nb201_network", "build_network", "count_params", "inference_model"]
