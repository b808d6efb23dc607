"""Keras 3 building blocks of tfar's networks. Nothing here knows about distributions."""

from tfar.layers.masked import (MaskedConv2D, MaskedDense, input_order, made_degrees,
                                mask_from_degrees)

__all__ = ["MaskedConv2D", "MaskedDense", "input_order", "made_degrees", "mask_from_degrees"]
