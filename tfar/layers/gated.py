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
from tfar.layers.shifted import down_shift


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


def masked_kernel(layer):
    """The kernel a (masked) convolution multiplies by, in its compute dtype: [kh, kw, in,
    out] (`MaskedConv2D`'s kernel times its mask; a plain `Conv2D`'s kernel)."""
    kernel = tf.cast(tf.convert_to_tensor(layer.kernel), layer.compute_dtype)
    if isinstance(layer, MaskedConv2D):
        kernel = kernel * tf.constant(layer.mask, kernel.dtype)
    return kernel


def _bias(layer):
    return tf.cast(tf.convert_to_tensor(layer.bias), layer.compute_dtype)


def pointwise_weights(layer):
    """A 1×1 (masked) convolution at one pixel: its kernel [in, out] and bias [out], so
    that `tf.nn.bias_add(tf.matmul(x, kernel), bias)` of x [B, in] is the layer's output."""
    return masked_kernel(layer)[0, 0], _bias(layer)


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
        h_pre = self.horizontal(h) + self.vertical_to_horizontal(down_shift(v_pre))
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

    # ------------------------------------------------------------- one row, one pixel
    # Fast generation (Ramachandran et al. 2017) runs the block a row of the vertical
    # stack and a pixel of the horizontal stack at a time, with the sublayers `call` uses.
    # B: batch, W: the image's width, F: filters, n_in: input features, k: kernel_size.

    def condition_biases(self, condition=None, spatial_condition=None):
        """The condition's terms of the two stacks' pre-activations, as `call` adds them:
        (v_bias, h_bias), each [B, 2F] for `condition` [B, conditional_size] (eq. 4), or
        [B, h, w, 2F] for `spatial_condition` [B, h, w, spatial_features] (any rows and
        columns of the map, §2.3); both terms summed when both are given, and (0., 0.)
        when neither is."""
        biases = []
        if condition is not None:
            bias = self.conditional(condition)
            if spatial_condition is not None:
                bias = bias[:, None, None, :]
            biases.append(bias)
        if spatial_condition is not None:
            biases.append(self.spatial(spatial_condition))
        if not biases:
            return 0.0, 0.0
        return tuple(tf.split(tf.add_n(biases), 2, axis=-1))

    def above_first_row(self, batch_size, width):
        """[B, W, 2F]: what the vertical stack adds to the horizontal one in row 0, where
        `down_shift` leaves zeros (the bias of `vertical_to_horizontal`)."""
        zeros = tf.zeros([batch_size, 1, width, 2 * self.filters], self.compute_dtype)
        return self.vertical_to_horizontal(zeros)[:, 0]

    def vertical_row(self, v_rows, v_bias=0.0):
        """One row r of the vertical stack, from the rows it reads.

        Args:
          v_rows: [B, k//2 + 1, W, n_in], the vertical stack's inputs in rows r - k//2 … r
            (zero rows above the image).
          v_bias: the condition's term of row r (`condition_biases`), broadcastable to
            [B, W, 2F].

        Returns:
          v_out [B, W, F], row r of v'; and to_horizontal [B, W, 2F], what the vertical
          stack adds to the horizontal pre-activations of row r + 1 (row r shifted down,
          through `vertical_to_horizontal`; without the condition's terms).
        """
        k = self.kernel_size
        v_pre = self.vertical(tf.pad(v_rows, [[0, 0], [0, 0], [k // 2, k // 2], [0, 0]]))
        to_horizontal = self.vertical_to_horizontal(v_pre)[:, 0]              # [B, W, 2F]
        return gate(v_pre[:, 0] + v_bias), to_horizontal

    def pixel_weights(self):
        """The tensors `horizontal_pixel` multiplies by, masked and flattened: compute them
        once outside a loop over pixels and pass them in. A tuple: the horizontal kernel's
        columns up to the centre [(k//2 + 1)·n_in, 2F] and its bias [2F]; the skip (and
        residual, side by side) 1×1 kernel [F, F or 2F] and bias."""
        half = self.kernel_size // 2
        horizontal = masked_kernel(self.horizontal)[0, :half + 1]   # right of the centre: 0
        horizontal = tf.reshape(horizontal, [-1, 2 * self.filters])
        outputs = [self.skip] + ([] if self.residual is None else [self.residual])
        kernel = tf.concat([masked_kernel(layer)[0, 0] for layer in outputs], axis=-1)
        bias = tf.concat([_bias(layer) for layer in outputs], axis=-1)
        return horizontal, _bias(self.horizontal), kernel, bias

    def horizontal_pixel(self, h_window, to_horizontal, weights=None):
        """The horizontal stack at one pixel (r, c), from the pixels it reads.

        Args:
          h_window: [B, k//2 + 1, n_in], the horizontal stack's inputs at columns
            c - k//2 … c of row r (zeros left of the image); the last is the pixel's own
            (only its earlier channel groups reach group g of the outputs, and none with
            `first`, as in `call`).
          to_horizontal: [B, 2F], the rest of the pixel's pre-activation: `vertical_row`'s
            to_horizontal of row r - 1 (`above_first_row` in row 0) at column c, plus the
            condition's h_bias there.
          weights: `pixel_weights()`, or None to compute them here.

        Returns:
          h_out [B, F] (the gated activation when the block has no residual connection)
          and skip [B, F], the block's outputs at the pixel.
        """
        if weights is None:
            weights = self.pixel_weights()
        horizontal, horizontal_bias, kernel, bias = weights
        window = tf.reshape(h_window, [tf.shape(h_window)[0], horizontal.shape[0]])
        h_pre = tf.nn.bias_add(tf.matmul(window, horizontal), horizontal_bias) + to_horizontal
        h_gated = gate(h_pre, self.groups)
        outputs = tf.nn.bias_add(tf.matmul(h_gated, kernel), bias)
        if self.residual is None:
            return h_gated, outputs
        skip, residual = tf.split(outputs, 2, axis=-1)
        return h_window[:, -1] + residual, skip

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, groups=self.groups,
                      first=self.first, last=self.last, conditional_size=self.conditional_size,
                      spatial_features=self.spatial_features)
        return config
