"""PixelCNN++'s gated ResNet block with concatenated ELUs.

Salimans, Karpathy, Chen & Kingma, "PixelCNN++", ICLR 2017, §2.4 and its code
(`gated_resnet`): for a stream x [B, H, W, F], an optional auxiliary input a (the other
stream, or a skip connection: [B, H, W, Fa]) and an optional condition h [B, K],

    c1 = conv(concat_elu(x)) + nin(concat_elu(a))
    c2 = conv(dropout(concat_elu(c1))) + dense(h)        (2F features)
    out = x + c2[..., :F] · σ(c2[..., F:])

with concat_elu(v) = elu([v, −v]) (both signs, so no information is cut away), `conv` a
shifted convolution (`tfar.layers.shifted`) that keeps the stream causal, and `nin` a 1×1
convolution. Dropout masks come from a stateless seed (`tfar.layers.dropout`). With
`weight_norm=True` every kernel is weight-normalized (`tfar.layers.weight_norm`).
"""

import tensorflow as tf

import keras

from tfar.layers.dropout import dropout as drop
from tfar.layers.shifted import DownRightShiftedConv2D, DownShiftedConv2D
from tfar.layers.weight_norm import WeightNormConv2D, WeightNormDense

CONVOLUTIONS = {"down": (DownShiftedConv2D, (2, 3)), "down_right": (DownRightShiftedConv2D, (2, 2))}


def concat_elu(x):
    """elu([x, −x]) along the features: [..., F] -> [..., 2F]."""
    return tf.nn.elu(tf.concat([x, -x], axis=-1))


@keras.saving.register_keras_serializable(package="tfar")
class GatedResNet(keras.layers.Layer):
    """The block (see the module docstring).

    Args:
      filters: F, the stream's features.
      shift: "down" (the vertical stream: `DownShiftedConv2D`, kernel 2×3) or "down_right"
        (the horizontal stream: `DownRightShiftedConv2D`, kernel 2×2).
      auxiliary: whether `call` takes an auxiliary input a.
      conditional_size: K of a vector condition h, or None.
      dropout: the rate of dropout on c1 in training (0: none).
      weight_norm: whether every kernel is weight-normalized.
    """

    def __init__(self, filters, shift, auxiliary=False, conditional_size=None, dropout=0.0,
                 weight_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.shift = int(filters), shift
        self.auxiliary, self.conditional_size = bool(auxiliary), conditional_size
        self.dropout, self.weight_norm = float(dropout), bool(weight_norm)
        conv, kernel = CONVOLUTIONS[shift]
        self.conv_in = conv(self.filters, kernel, weight_norm=self.weight_norm,
                            dtype=self.dtype_policy, name="conv_in")
        self.conv_out = conv(2 * self.filters, kernel, weight_norm=self.weight_norm,
                             dtype=self.dtype_policy, name="conv_out")
        pointwise = WeightNormConv2D if self.weight_norm else keras.layers.Conv2D
        dense = WeightNormDense if self.weight_norm else keras.layers.Dense
        self.nin = (pointwise(self.filters, 1, dtype=self.dtype_policy, name="nin")
                    if self.auxiliary else None)
        self.condition = (dense(2 * self.filters, use_bias=False, dtype=self.dtype_policy,
                                name="condition")
                          if conditional_size else None)

    def build(self, input_shape):
        # The shifted convolutions are built here, not on the first call: a checkpoint
        # restored before the first call (deferred restoration) reaches only variables a
        # build creates.
        doubled = tuple(input_shape[:-1]) + (2 * self.filters,)
        self.conv_in.build(doubled)
        self.conv_out.build(doubled)

    def call(self, x, a=None, h=None, training=False, seed=None):
        c1 = self.conv_in(concat_elu(x))
        if self.nin is not None:
            c1 = c1 + self.nin(concat_elu(a))
        c1 = concat_elu(c1)
        if training and self.dropout > 0:
            c1 = drop(c1, self.dropout, seed)
        c2 = self.conv_out(c1)
        if self.condition is not None:
            c2 = c2 + self.condition(h)[:, None, None, :]
        value, gate = tf.split(c2, 2, axis=-1)
        return x + value * tf.sigmoid(gate)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, shift=self.shift, auxiliary=self.auxiliary,
                      conditional_size=self.conditional_size, dropout=self.dropout,
                      weight_norm=self.weight_norm)
        return config
