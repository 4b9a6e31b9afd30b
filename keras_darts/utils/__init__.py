"""Small shared helpers: atomic file writes, seeding and determinism."""

from keras_darts.utils.io import atomic_path, atomic_write_json, atomic_write_text, read_json
from keras_darts.utils.seed import (
    determinism_enabled, restores_determinism, set_determinism, set_seed,
)

__all__ = ["atomic_write_json", "atomic_write_text", "atomic_path", "read_json",
           "determinism_enabled", "restores_determinism", "set_determinism", "set_seed"]
