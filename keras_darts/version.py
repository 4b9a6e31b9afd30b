"""The keras_darts version."""

__version__ = "0.1.0"
