"""Keras 3 building blocks of tfar's networks. Nothing here knows about distributions."""

from tfar.layers.conditioning import CaptionFeatures, CaptionToMaps, ClassEncoder, TextEncoder
from tfar.layers.encoders import ConvEncoder
from tfar.layers.gated import GatedPixelCNNBlock
from tfar.layers.lstm import DiagonalBiLSTM, DiagonalLSTM, RowLSTM, skew, unskew
from tfar.layers.masked import (MaskedConv2D, MaskedDense, input_order, made_degrees,
                                mask_from_degrees)

__all__ = ["CaptionFeatures", "CaptionToMaps", "ClassEncoder", "ConvEncoder", "DiagonalBiLSTM",
           "DiagonalLSTM", "GatedPixelCNNBlock", "MaskedConv2D", "MaskedDense", "RowLSTM",
           "TextEncoder", "input_order", "made_degrees", "mask_from_degrees", "skew", "unskew"]
