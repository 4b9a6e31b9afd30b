"""Derivation: from architecture weights to discrete genotypes."""

from keras_darts.derivation.darts import derive_genotype, parse_cell
from keras_darts.derivation.fair import PARSERS, deepen, parse_fair_cell

__all__ = ["PARSERS", "deepen", "derive_genotype", "parse_cell", "parse_fair_cell"]
