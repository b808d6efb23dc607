"""Keras 3 building blocks of tfar's networks. Nothing here knows about distributions."""

from tfar.layers.conditioning import CaptionFeatures, CaptionToMaps, ClassEncoder, TextEncoder
from tfar.layers.encoders import ConvEncoder
from tfar.layers.gated import GatedPixelCNNBlock
from tfar.layers.gated_resnet import GatedResNet, concat_elu
from tfar.layers.lstm import DiagonalBiLSTM, DiagonalLSTM, RowLSTM, skew, unskew
from tfar.layers.shifted import (DownRightShiftedConv2D, DownRightShiftedConv2DTranspose,
                                 DownShiftedConv2D, DownShiftedConv2DTranspose, down_shift,
                                 right_shift)
from tfar.layers.masked import (MaskedConv2D, MaskedDense, input_order, made_degrees,
                                mask_from_degrees)
from tfar.layers.weight_norm import WeightNormConv2D, WeightNormConv2DTranspose, WeightNormDense

__all__ = ["CaptionFeatures", "CaptionToMaps", "ClassEncoder", "ConvEncoder", "DiagonalBiLSTM",
           "DiagonalLSTM", "DownRightShiftedConv2D", "DownRightShiftedConv2DTranspose",
           "DownShiftedConv2D", "DownShiftedConv2DTranspose", "GatedPixelCNNBlock",
           "GatedResNet", "MaskedConv2D", "MaskedDense", "RowLSTM", "TextEncoder",
           "WeightNormConv2D", "WeightNormConv2DTranspose", "WeightNormDense",
           "concat_elu", "down_shift", "input_order", "made_degrees", "mask_from_degrees",
           "right_shift", "skew", "unskew"]
