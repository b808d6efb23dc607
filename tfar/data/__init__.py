"""Datasets for tfar's models: integer images (and captions), real-valued tabular sets."""

from tfar.data.datasets import (CAPTION_FEATURES, CONDITIONS, SOURCES, Split, epoch_keys, load,
                                padded_shape, preprocessor, read, source_levels)
from tfar.data.idx import read_idx
from tfar.data import captions, tabular

__all__ = ["CAPTION_FEATURES", "CONDITIONS", "SOURCES", "Split", "captions", "epoch_keys",
           "load", "padded_shape", "preprocessor", "read", "read_idx", "source_levels", "tabular"]
