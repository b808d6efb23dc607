"""Datasets of integer images for tfar's models."""

from tfar.data.idx import read_idx

__all__ = ["read_idx"]
