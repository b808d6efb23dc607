"""`tfar.layers` exports the package's named building blocks (issue 21)."""

import tfar.layers
from tfar.layers.gated import GatedPixelCNNBlock
from tfar.layers.lstm import DiagonalLSTM
from tfar.layers.masked import MaskedConv2D, MaskedDense


def test_layers_exports_the_named_building_blocks():
    for name, layer in [("MaskedDense", MaskedDense), ("MaskedConv2D", MaskedConv2D),
                        ("GatedPixelCNNBlock", GatedPixelCNNBlock),
                        ("DiagonalLSTM", DiagonalLSTM)]:
        assert name in tfar.layers.__all__
        assert getattr(tfar.layers, name) is layer


def test_every_name_in_all_is_there():
    missing = [n for n in tfar.layers.__all__ if not hasattr(tfar.layers, n)]
    assert not missing
