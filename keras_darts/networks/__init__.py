"""Stand-alone networks built from genotypes, for training and export, and hand-designed
reference networks trained the same way."""

from keras_darts.networks.builders import (
    NETWORK_PRESETS, build_nb201_network, build_network, count_params, inference_model,
)
from keras_darts.networks.layers import AuxiliaryHead, DropPath, GenotypeCell, NB201GenotypeCell
from keras_darts.networks.reference import (
    build_reference_network, check_reference_network, reference_network_names,
    register_reference_network,
)

__all__ = ["AuxiliaryHead", "DropPath", "GenotypeCell", "NB201GenotypeCell", "NETWORK_PRESETS",
           "build_nb201_network", "build_network", "build_reference_network",
           "check_reference_network", "count_params", "inference_model",
           "reference_network_names", "register_reference_network"]
