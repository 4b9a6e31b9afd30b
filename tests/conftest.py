"""Shared test setup: quiet, hermetic TensorFlow/Keras and tiny supernet settings."""

import os
import tempfile

# Hermetic: Keras writes ~/.keras/keras.json on import; keep it out of $HOME.
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="keras_home_"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402

# A supernet small enough for 2 CPU cores: 3 cells (reductions at 1 and 2),
# 2 nodes per cell, 4 channels.
TINY = dict(layers=3, channels=4, steps=2, multiplier=2, stem_multiplier=1)


@pytest.fixture
def tiny():
    """Keyword arguments of a tiny supernet."""
    return dict(TINY)
