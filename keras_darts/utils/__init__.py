"""Small shared helpers: atomic file writes, seeding and determinism."""

from keras_darts.utils.io import atomic_write_json, atomic_write_text, atomic_path
from keras_darts.utils.seed import (
    determinism_enabled, restores_determinism, set_determinism, set_seed,
)

__all__ = ["atomic_write_json", "atomic_write_text", "atomic_path", "determinism_enabled",
           "restores_determinism", "set_determinism", "set_seed"]
