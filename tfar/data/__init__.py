"""Datasets of integer images for tfar's models."""

from tfar.data.datasets import SOURCES, Split, epoch_keys, load, preprocessor, read, source_levels
from tfar.data.idx import read_idx

__all__ = ["SOURCES", "Split", "epoch_keys", "load", "preprocessor", "read", "read_idx",
           "source_levels"]
