"""Datasets of integer images for tfar's models."""

from tfar.data.datasets import SOURCES, load, source_levels
from tfar.data.idx import read_idx

__all__ = ["SOURCES", "load", "read_idx", "source_levels"]
