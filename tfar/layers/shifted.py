"""PixelCNN++'s shifted convolutions: causal by padding, with no masks and no blind spot.

Salimans, Karpathy, Chen & Kingma, "PixelCNN++", ICLR 2017, §2.2 and its code: a
convolution whose input is padded only above (and on both sides) sees the rows above and
the current row (`DownShiftedConv2D`, kernel [kh, kw]: output (i, j) reads rows
i − kh + 1 … i, columns j − (kw − 1)/2 … j + (kw − 1)/2); one padded only above and to the
left sees the current row up to the current column (`DownRightShiftedConv2D`, kernel
[kh, kw]: rows i − kh + 1 … i, columns j − kw + 1 … j). Shifting the first layer's output
down a row (`down_shift`), or right a column (`right_shift`), makes it strictly causal;
later layers keep that. The transposed versions upsample by the stride with the same
reach (PixelCNN++'s `down_shifted_deconv2d`, `down_right_shifted_deconv2d`): a
transposed convolution with valid padding, cropped to the columns and rows that keep the
shift. Every layer takes and gives [B, H, W, F]. With `weight_norm=True` the wrapped
convolution's kernel is weight-normalized (`tfar.layers.weight_norm`).
"""

import tensorflow as tf

import keras

from tfar.layers.weight_norm import WeightNormConv2D, WeightNormConv2DTranspose


def _crop(x, begin, size):
    """x[:, begin[0]:begin[0] + size[0], begin[1]:begin[1] + size[1]] as a `tf.slice`,
    whose gradient is a pad (a strided slice's costs ~6× more on CPU)."""
    return tf.slice(x, [0, begin[0], begin[1], 0], [-1, size[0], size[1], -1])


def _dim(x, axis):
    return x.shape[axis] if x.shape[axis] is not None else tf.shape(x)[axis]


def down_shift(x):
    """x [B, H, W, F] moved down one row (zeros in row 0): output row i holds row i − 1."""
    return tf.pad(_crop(x, (0, 0), (_dim(x, 1) - 1, -1)), [[0, 0], [1, 0], [0, 0], [0, 0]])


def right_shift(x):
    """x [B, H, W, F] moved right one column (zeros in column 0)."""
    return tf.pad(_crop(x, (0, 0), (-1, _dim(x, 2) - 1)), [[0, 0], [0, 0], [1, 0], [0, 0]])


class _Wrapped(keras.layers.Layer):
    """A layer around one Keras convolution named "conv" (valid padding): `conv_classes`
    (plain, weight-normalized)."""

    conv_classes = None
    default_strides = 1

    def __init__(self, filters, kernel_size, strides=None, weight_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in (
            (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size))
        self.strides = int(self.default_strides if strides is None else strides)
        self.weight_norm = bool(weight_norm)
        self.conv = self.conv_classes[self.weight_norm](
            self.filters, self.kernel_size, strides=self.strides, padding="valid",
            dtype=self.dtype_policy, name="conv")

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      weight_norm=self.weight_norm)
        return config


class _Shifted(_Wrapped):
    """A convolution over x padded above (and `left`, `right`), valid padding."""

    conv_classes = (keras.layers.Conv2D, WeightNormConv2D)

    def padding(self):
        raise NotImplementedError

    def build(self, input_shape):
        # Built here, not on the first call: a checkpoint restored before the first call
        # (deferred restoration) reaches only variables a build creates.
        left, right = self.padding()
        rows = None if input_shape[1] is None else input_shape[1] + self.kernel_size[0] - 1
        columns = None if input_shape[2] is None else input_shape[2] + left + right
        self.conv.build((input_shape[0], rows, columns, input_shape[3]))

    def call(self, x):
        left, right = self.padding()
        return self.conv(tf.pad(x, [[0, 0], [self.kernel_size[0] - 1, 0], [left, right],
                                    [0, 0]]))


@keras.saving.register_keras_serializable(package="tfar")
class DownShiftedConv2D(_Shifted):
    """Output (i, j) reads rows i − kh + 1 … i and columns j − (kw − 1)/2 … j + (kw − 1)/2
    (kw odd); `strides` 2 halves H and W (PixelCNN++'s downsampling)."""

    def padding(self):
        side = (self.kernel_size[1] - 1) // 2
        return side, side


@keras.saving.register_keras_serializable(package="tfar")
class DownRightShiftedConv2D(_Shifted):
    """Output (i, j) reads rows i − kh + 1 … i and columns j − kw + 1 … j."""

    def padding(self):
        return self.kernel_size[1] - 1, 0


class _ShiftedTranspose(_Wrapped):
    """A stride-`strides` transposed convolution, valid padding, cropped to [sH, sW]."""

    conv_classes = (keras.layers.Conv2DTranspose, WeightNormConv2DTranspose)
    default_strides = 2

    def left_crop(self):
        raise NotImplementedError

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x):
        y = self.conv(x)
        return _crop(y, (0, self.left_crop()),
                     (_dim(x, 1) * self.strides, _dim(x, 2) * self.strides))


@keras.saving.register_keras_serializable(package="tfar")
class DownShiftedConv2DTranspose(_ShiftedTranspose):
    """Upsampling by `strides` that keeps `DownShiftedConv2D`'s reach (kw odd)."""

    def left_crop(self):
        return (self.kernel_size[1] - 1) // 2


@keras.saving.register_keras_serializable(package="tfar")
class DownRightShiftedConv2DTranspose(_ShiftedTranspose):
    """Upsampling by `strides` that keeps `DownRightShiftedConv2D`'s reach."""

    def left_crop(self):
        return 0
