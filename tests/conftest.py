"""Shared pytest setup: quiet TensorFlow, and put tests/ on sys.path for `checks`."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same Keras/NumPy/TF seeds, so weights are reproducible."""
    keras.utils.set_random_seed(0)
