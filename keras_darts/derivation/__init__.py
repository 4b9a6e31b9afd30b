"""Derivation: from architecture weights to discrete genotypes."""

from keras_darts.derivation.darts import derive_genotype, parse_cell

__all__ = ["derive_genotype", "parse_cell"]
