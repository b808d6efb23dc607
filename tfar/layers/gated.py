"""The Gated PixelCNN layer: a vertical and a horizontal stack with gated activations.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image
Generation with PixelCNN Decoders", NIPS 2016, §2.1–2.3 and Figure 2.

Stacking masked 3×3 convolutions leaves a *blind spot* above and to the right of each
pixel. The Gated PixelCNN splits the layer in two stacks:

    vertical stack     (k//2 + 1) × k convolution over the rows above and the current row;
                       its output at row r is shifted down one row before it enters the
                       horizontal stack, so there it only carries rows < r;
    horizontal stack   1 × (k//2 + 1) masked convolution over the current row, left of
                       the pixel (and the pixel's earlier channel groups, `MaskedConv2D`).

Together they cover every earlier pixel within the receptive field. Both use the gated
unit y = tanh(W_f * x + V_f h) ⊙ σ(W_g * x + V_g h) (eq. 2, eq. 4 with a condition h);
the horizontal stack has a residual connection and emits a skip output.
"""

import tensorflow as tf

import keras

from tfar.layers.masked import MaskedConv2D


def gate(x, groups=1):
    """tanh(f) ⊙ σ(g): [..., 2F] -> [..., F].

    The 2F pre-activations are G contiguous channel-group blocks, each [f-part, g-part]
    (F/G each), so the output keeps G contiguous blocks of F/G (`MaskedConv2D` groups).
    """
    shape = tf.shape(x)
    features = x.shape[-1] // 2
    blocks = tf.reshape(x, tf.concat([shape[:-1], [groups, 2 * features // groups]], 0))
    f, g = tf.split(blocks, 2, axis=-1)  # split's gradient is a concat: fast (strided
    y = tf.tanh(f) * tf.sigmoid(g)       # slices of a [..., 2, F/G] view were 7× slower)
    return tf.reshape(y, tf.concat([shape[:-1], [features]], 0))


def shift_down(x):
    """[B, H, W, F] moved down one row (row 0 zero): row r then holds row r-1."""
    return tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]


@keras.saving.register_keras_serializable(package="tfar")
class GatedPixelCNNBlock(keras.layers.Layer):
    """One Gated PixelCNN layer: (v, h[, condition]) -> (v', h', skip), all [B, H, W, F].

    Args:
      filters: F, features of each stack (a multiple of `groups`).
      kernel_size: k, odd.
      groups: channel groups of the horizontal stack (3 for RGB sub-pixels, 1 otherwise).
      first: the input layer: its horizontal convolution uses mask "A" (a pixel never sees
        itself) and it has no residual connection.
      last: the output layer: only its skip output is used, so it has no residual
        convolution (h' is the gated horizontal activation).
      conditional_size: size of a vector condition h (a one-hot class or an embedding),
        mapped linearly into both stacks' gates (eq. 4, V^T h); None for none.
      spatial_features: channels of a spatial condition map s = m(h) already at the
        image's H × W (location-dependent, §2.3: V * s, a 1×1 convolution); None for none.
    """

    def __init__(self, filters, kernel_size=3, groups=1, first=False, last=False,
                 conditional_size=None, spatial_features=None, **kwargs):
        super().__init__(**kwargs)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd; got {kernel_size}.")
        if filters % groups:
            raise ValueError(f"filters ({filters}) must be a multiple of groups ({groups}).")
        self.filters, self.kernel_size, self.groups = int(filters), int(kernel_size), int(groups)
        self.first, self.last = bool(first), bool(last)
        self.conditional_size = None if conditional_size is None else int(conditional_size)
        self.spatial_features = None if spatial_features is None else int(spatial_features)
        k, f2 = self.kernel_size, 2 * self.filters
        self.vertical = keras.layers.Conv2D(f2, (k // 2 + 1, k), padding="valid", name="vertical")
        self.vertical_to_horizontal = keras.layers.Conv2D(f2, 1, name="vertical_to_horizontal")
        self.horizontal = MaskedConv2D(f2, (1, k), mask_type="A" if first else "B",
                                       groups=groups, name="horizontal")
        self.skip = MaskedConv2D(self.filters, 1, groups=groups, name="skip")
        self.residual = (None if first or last else
                         MaskedConv2D(self.filters, 1, groups=groups, name="residual"))
        self.conditional = (None if conditional_size is None else
                            keras.layers.Dense(2 * f2, use_bias=False, name="conditional"))
        self.spatial = (None if spatial_features is None else
                        keras.layers.Conv2D(2 * f2, 1, use_bias=False, name="spatial"))

    def build(self, input_shape):
        n_in = int(input_shape[-1])  # v's features (the image's channels in the first layer)
        self.vertical.build((None, None, None, n_in))
        self.vertical_to_horizontal.build((None, None, None, 2 * self.filters))
        self.horizontal.build((None, None, None, n_in))
        self.skip.build((None, None, None, self.filters))
        if self.residual is not None:
            self.residual.build((None, None, None, self.filters))
        if self.conditional is not None:
            self.conditional.build((None, self.conditional_size))
        if self.spatial is not None:
            self.spatial.build((None, None, None, self.spatial_features))

    def call(self, v, h, condition=None, spatial_condition=None):
        """v, h: [B, H, W, n_in] (the image itself for the first layer); condition
        [B, conditional_size]; spatial_condition [B, H, W, spatial_features]."""
        k = self.kernel_size
        # Rows r - k//2 … r, columns c - k//2 … c + k//2: pad above and on both sides.
        v_pre = self.vertical(tf.pad(v, [[0, 0], [k // 2, 0], [k // 2, k // 2], [0, 0]]))
        h_pre = self.horizontal(h) + self.vertical_to_horizontal(shift_down(v_pre))
        if self.conditional is not None:
            v_bias, h_bias = tf.split(self.conditional(condition)[:, None, None, :], 2, axis=-1)
            v_pre, h_pre = v_pre + v_bias, h_pre + h_bias
        if self.spatial is not None:
            v_bias, h_bias = tf.split(self.spatial(spatial_condition), 2, axis=-1)
            v_pre, h_pre = v_pre + v_bias, h_pre + h_bias
        v_out = gate(v_pre)
        h_gated = gate(h_pre, self.groups)
        skip = self.skip(h_gated)
        h_out = h_gated if self.residual is None else h + self.residual(h_gated)
        return v_out, h_out, skip

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, groups=self.groups,
                      first=self.first, last=self.last, conditional_size=self.conditional_size,
                      spatial_features=self.spatial_features)
        return config
