"""Architecture parameters (one owner), activations, and the Genotype."""

from keras_darts.architecture.activations import (
    get_activation, register_activation, registered_activations,
)
from keras_darts.architecture.genotype import (
    Genotype, GenotypeError, GraphvizNotFoundError, cell_to_dot, get_genotype, plot_cell,
    published_genotypes,
)
from keras_darts.architecture.cell_genotype import CellGenotype, NetworkGenotype
from keras_darts.architecture.nb201_genotype import NB201Genotype
from keras_darts.architecture.parameters import ArchitectureParameters, active_to_mask

__all__ = [
    "ArchitectureParameters", "CellGenotype", "Genotype", "NB201Genotype", "NetworkGenotype", "GenotypeError", "GraphvizNotFoundError",
    "active_to_mask", "cell_to_dot", "get_activation", "get_genotype", "plot_cell",
    "published_genotypes", "register_activation", "registered_activations",
]
