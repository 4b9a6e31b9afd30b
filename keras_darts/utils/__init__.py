"""Small shared helpers: atomic file writes and seeding."""

from keras_darts.utils.io import atomic_write_json, atomic_write_text, atomic_path
from keras_darts.utils.seed import op_determinism_enabled, restores_op_determinism, set_seed

__all__ = ["atomic_write_json", "atomic_write_text", "atomic_path", "op_determinism_enabled",
           "restores_op_determinism", "set_seed"]
