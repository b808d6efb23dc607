"""The recurrent layers of PixelRNN: Row LSTM, Diagonal LSTM and Diagonal BiLSTM.

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016,
§3.1 (Row LSTM), §3.2 (Diagonal BiLSTM), §3.4 (masks and channel groups).

Each layer maps a feature map [B, H, W, n_in] to hidden states [B, H, W, units]. An LSTM
step has an *input-to-state* part, a masked convolution of the layer's input computed for
the whole map at once, and a *state-to-state* part, a convolution of the hidden states of
the previous step (a row, or a column of the skewed map), computed inside ONE in-graph
loop (`tf.scan`) over the steps:

    [i, f, o, g] = K_ss ⊛ h_prev + K_is ⊛ x           (4·units pre-activations)
    c = σ(f) ⊙ c_prev + σ(i) ⊙ tanh(g),   h = σ(o) ⊙ tanh(c)

Receptive fields (of h at pixel (r, c), in terms of the layer's input x):

    Row LSTM (k = 3)          Diagonal LSTM            Diagonal BiLSTM
    . x x x x x x x .         x x x x x . . . .        x x x x x x x x x
    . . x x x x x . .         x x x x x . . . .        x x x x x x x x x
    . . . x x x . . .         x x x x x . . . .        x x x x x x x x x
    . . . x x * . . .         x x x x * . . . .        x x x x * . . . .

The Row LSTM's state-to-state (1, k) convolution widens its field by k//2 columns on
each side per row above (a triangle); the input-to-state (1, k) mask-B convolution adds
the k//2 pixels left of the pixel in its own row. The Diagonal LSTM's field is the
quadrant above and left; the Diagonal BiLSTM adds a second Diagonal LSTM that runs
right to left, shifted down one row, and so sees the whole past.

Channel groups (§3.4; `groups` = 3 for RGB). The units split into G contiguous blocks
(as `MaskedConv2D` splits its features); the 4·units gate pre-activations are G blocks
of [i | f | o | g] (units/G each), so a hidden unit of group j is computed from gate
pre-activations of group j only. Causality within a pixel then only involves paths that
stay inside that pixel, and the only such path is the input-to-state convolution:

  * input-to-state: a `MaskedConv2D` with mask B, so group j at pixel p reads the input
    groups <= j of p (and, after a mask-A first layer, thus the image's sub-pixels < j);
  * state-to-state: reads hidden states of OTHER pixels only (the previous row; the pixel
    above and the pixel to the left), all strictly earlier in the raster order, whose
    every unit (of any group) is then allowed. It is left unmasked;
  * the cell state is carried unit by unit (c_prev of the same unit at an earlier pixel).

Hence group j of pixel p never sees sub-pixels >= j of p, nor any later pixel.
"""

import tensorflow as tf

import keras

from tfar.layers.masked import MaskedConv2D
from tfar.layers.shifted import down_shift, right_shift


def skew(x):
    """Shifts row r of a map right by r: [B, H, W, F] -> [B, H, W + H − 1, F] (§3.2).

    For a square n×n map the skewed map is n × (2n − 1), as in the paper; in general it is
    H × (W + H − 1), so that every row fits. Entries outside the shifted rows are zero.
    Pixel (r, c) lands at column r + c: a column of the skewed map is a diagonal of the
    image. Works for an unknown batch size (and unknown H and W).
    """
    x = tf.convert_to_tensor(x)
    shape = tf.shape(x)
    batch, height, width, features = shape[0], shape[1], shape[2], shape[3]
    # Rows padded to W + H and laid end to end: in rows of W + H − 1, row r's start
    # r·(W + H) is column r of row r. The last row's final H padding entries are dropped.
    padded = tf.pad(x, [[0, 0], [0, 0], [0, height], [0, 0]])
    flat = tf.reshape(padded, [batch, height * (width + height), features])
    flat = flat[:, :height * (width + height - 1)]
    skewed = tf.reshape(flat, [batch, height, width + height - 1, features])
    h, w = x.shape[1], x.shape[2]
    skewed.set_shape([x.shape[0], h, None if h is None or w is None else w + h - 1, x.shape[3]])
    return skewed


def unskew(y, width=None):
    """The inverse of `skew`: [B, H, W + H − 1, F] -> [B, H, W, F] (row r shifted back left
    by r). `width`: W, when the skewed map's width is not static (defaults to its width
    minus H − 1)."""
    y = tf.convert_to_tensor(y)
    shape = tf.shape(y)
    batch, height, skewed_width, features = shape[0], shape[1], shape[2], shape[3]
    if width is None:
        width = skewed_width - height + 1
    flat = tf.reshape(y, [batch, height * skewed_width, features])
    flat = tf.pad(flat, [[0, 0], [0, height], [0, 0]])
    rows = tf.reshape(flat, [batch, height, skewed_width + 1, features])
    x = rows[:, :, :width]
    h, w = y.shape[1], y.shape[2]
    static_width = width if isinstance(width, int) else (
        None if h is None or w is None else w - h + 1)
    x.set_shape([y.shape[0], h, static_width, y.shape[3]])
    return x


def lstm_step(pre, c_prev, groups=1):
    """One LSTM update from gate pre-activations.

    Args:
      pre: [..., 4·units], G contiguous blocks of [i | f | o | g] (units/G each).
      c_prev: [..., units], the previous cell state (G blocks of units/G).
      groups: G.

    Returns:
      (h, c), each [..., units] in G contiguous blocks: c = σ(f) ⊙ c_prev + σ(i) ⊙ tanh(g),
      h = σ(o) ⊙ tanh(c).
    """
    shape = tf.shape(pre)
    units = pre.shape[-1] // 4
    blocks = tf.reshape(pre, tf.concat([shape[:-1], [groups, 4, units // groups]], 0))
    i, f, o, g = tf.split(blocks, 4, axis=-2)                      # each [..., G, 1, u/G]
    c_prev = tf.reshape(c_prev, tf.shape(i))
    c = tf.sigmoid(f) * c_prev + tf.sigmoid(i) * tf.tanh(g)
    h = tf.sigmoid(o) * tf.tanh(c)
    out_shape = tf.concat([shape[:-1], [units]], 0)
    return tf.reshape(h, out_shape), tf.reshape(c, out_shape)


class _PixelLSTM(keras.layers.Layer):
    """What the three LSTM layers share: units, channel groups, initializers, config."""

    def __init__(self, units, groups=1, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if units < 1 or groups < 1 or units % groups:
            raise ValueError(f"units ({units}) must be a positive multiple of the {groups} "
                             "channel groups (one block of hidden units per sub-pixel).")
        self.units, self.groups = int(units), int(groups)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, groups=self.groups,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                      bias_initializer=keras.initializers.serialize(self.bias_initializer))
        return config


@keras.saving.register_keras_serializable(package="tfar")
class RowLSTM(_PixelLSTM):
    """The Row LSTM (§3.1): an LSTM over the rows, top to bottom, that computes a whole row
    at a time. Inputs [B, H, W, n_in] -> hidden states [B, H, W, units].

    Input-to-state: a `MaskedConv2D` with kernel (1, k) and mask B along the row (the
    pixel, its channel groups <= j, and the k//2 pixels to its left), for the whole map at
    once. State-to-state: a plain (1, k) convolution, "SAME" along the row, of the previous
    row's hidden states (every pixel of the previous row is in the past). The field of
    pixel (r, c) in the layer's input is the triangle: row r − d (d >= 1) columns
    c − (d + 1)·(k//2) … c + d·(k//2), row r columns c − k//2 … c (see the module
    docstring). The rows run in one `tf.scan`.

    Args:
      units: hidden units (a multiple of `groups`).
      kernel_size: k, odd: the width of both convolutions.
      groups: channel groups G (3 for RGB sub-pixels, 1 otherwise).
      kernel_initializer, bias_initializer: of the input-to-state convolution (which
        holds the gates' bias); kernel_initializer also of the state-to-state kernel.
    """

    def __init__(self, units, kernel_size=3, groups=1, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(units, groups, kernel_initializer, bias_initializer, **kwargs)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd; got {kernel_size}.")
        self.kernel_size = int(kernel_size)
        self.input_to_state = MaskedConv2D(
            4 * self.units, (1, self.kernel_size), mask_type="B", groups=self.groups,
            kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy, name="input_to_state")

    def build(self, input_shape):
        self.input_to_state.build((None, None, None, int(input_shape[-1])))
        self.state_kernel = self.add_weight(
            name="state_kernel", shape=(1, self.kernel_size, self.units, 4 * self.units),
            initializer=self.kernel_initializer)

    def call(self, inputs):
        pre = self.input_to_state(inputs)                                # [B, H, W, 4u]
        kernel = tf.cast(tf.convert_to_tensor(self.state_kernel), pre.dtype)
        rows = tf.transpose(pre, [1, 0, 2, 3])                           # [H, B, W, 4u]
        zeros = tf.zeros(tf.concat([tf.shape(rows)[1:3], [self.units]], 0), pre.dtype)
        groups = self.groups

        def step(state, row):
            h_prev, c_prev = state                                       # [B, W, u] each
            recurrent = tf.nn.conv2d(h_prev[:, None], kernel, strides=1, padding="SAME")[:, 0]
            return lstm_step(row + recurrent, c_prev, groups)

        hidden, _ = tf.scan(step, rows, initializer=(zeros, zeros))
        return tf.transpose(hidden, [1, 0, 2, 3])

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class DiagonalLSTM(_PixelLSTM):
    """The Diagonal LSTM (§3.2): an LSTM along the diagonals, from the top-left corner.
    Inputs [B, H, W, n_in] -> hidden states [B, H, W, units].

    Input-to-state: a 1×1 `MaskedConv2D` with mask B (channel groups), for the whole map;
    its 4·units pre-activations are then skewed (`skew`: row r shifted right by r, so that
    a column of the skewed map is a diagonal of the image). The LSTM runs over the
    W + H − 1 skewed columns in one `tf.scan`; its state-to-state part is a 2×1
    convolution over the previous column's hidden states that, at row r, reads rows r − 1
    and r only, i.e. the pixel above and the pixel to the left (padding at the TOP: TF's
    "SAME" padding would pad at the bottom and read row r + 1, a future pixel). The hidden
    states are then unskewed. The field of pixel (r, c) is the quadrant r' <= r, c' <= c.

    Positions of the skewed map outside the image get zero input pre-activations; those
    left of a row hold exactly zero states (zero pre-activations and zero previous states
    give g = tanh(0) = 0, so c = 0 and h = 0), and those right of a row are read by no
    pixel of the image (a pixel reads the one above and the one to its left).

    Args:
      units: hidden units (a multiple of `groups`).
      groups: channel groups G (3 for RGB sub-pixels, 1 otherwise).
      kernel_initializer, bias_initializer: as `RowLSTM`.
    """

    def __init__(self, units, groups=1, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(units, groups, kernel_initializer, bias_initializer, **kwargs)
        self.input_to_state = MaskedConv2D(
            4 * self.units, 1, mask_type="B", groups=self.groups,
            kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy, name="input_to_state")

    def build(self, input_shape):
        self.input_to_state.build((None, None, None, int(input_shape[-1])))
        # [2, 1, u, 4u]: row 0 of the kernel multiplies row r − 1, row 1 row r.
        self.state_kernel = self.add_weight(
            name="state_kernel", shape=(2, 1, self.units, 4 * self.units),
            initializer=self.kernel_initializer)

    def call(self, inputs, extra_pre=None):
        """inputs [B, H, W, n_in] -> [B, H, W, units]; `extra_pre` [B, H, W, 4·units], if
        given, is added to the input-to-state pre-activations (the caller answers for its
        causality)."""
        pre = self.input_to_state(inputs)                                # [B, H, W, 4u]
        if extra_pre is not None:
            pre = pre + tf.cast(extra_pre, pre.dtype)
        out = diagonal_scan(pre[None], self.recurrent_kernel(pre.dtype)[None], self.groups)[0]
        out.set_shape(tuple(inputs.shape[:-1]) + (self.units,))
        return out

    def recurrent_kernel(self, dtype=None):
        """The state-to-state kernel as one matrix [2·units, 4·units]: rows 0 … u − 1
        multiply the hidden state of the pixel above, rows u … 2u − 1 that of the pixel to
        the left (in `dtype`, the compute dtype by default)."""
        kernel = tf.cast(tf.convert_to_tensor(self.state_kernel), dtype or self.compute_dtype)
        return tf.reshape(kernel, [2 * self.units, 4 * self.units])


def diagonal_scan(pre, kernels, groups=1):
    """Diagonal LSTMs (§3.2) over D maps at once, in ONE `tf.scan` over the skewed columns.

    Args:
      pre: [D, B, H, W, 4·units], each map's input-to-state pre-activations.
      kernels: [D, 2·units, 4·units], each map's state-to-state kernel
        (`DiagonalLSTM.recurrent_kernel`: rows for the pixel above, then the pixel left).
      groups: channel groups G.

    Returns:
      [D, B, H, W, units]: each map's hidden states. The maps are independent (the
      Diagonal BiLSTM's two directions): stacking them halves the sequential steps of
      running them one after the other, W + H − 1 instead of 2·(W + H − 1).
    """
    shape = tf.shape(pre)
    maps, batch, height, width = shape[0], shape[1], shape[2], shape[3]
    features = pre.shape[-1]
    units = features // 4
    skewed = skew(tf.reshape(pre, tf.concat([[maps * batch], shape[2:]], 0)))
    columns = tf.transpose(skewed, [2, 0, 1, 3])                     # [W+H-1, D·B, H, 4u]
    columns = tf.reshape(columns, tf.stack([-1, maps, batch, height, features]))
    zeros = tf.zeros(tf.stack([maps, batch, height, units]), pre.dtype)

    def step(state, column):
        h_prev, c_prev = state                                       # [D, B, H, u] each
        above = right_shift(h_prev)                          # row r: h[r − 1] (axis 2: rows)
        both = tf.concat([above, h_prev], axis=-1)                   # [D, B, H, 2u]
        recurrent = tf.einsum("dbhi,dio->dbho", both, kernels)
        return lstm_step(column + recurrent, c_prev, groups)

    hidden, _ = tf.scan(step, columns, initializer=(zeros, zeros))   # [W+H-1, D, B, H, u]
    hidden = tf.reshape(hidden, tf.stack([-1, maps * batch, height, units]))
    out = unskew(tf.transpose(hidden, [1, 2, 0, 3]), width)          # [D·B, H, W, u]
    return tf.reshape(out, tf.stack([maps, batch, height, width, units]))


@keras.saving.register_keras_serializable(package="tfar")
class DiagonalBiLSTM(_PixelLSTM):
    """The Diagonal BiLSTM (§3.2): two `DiagonalLSTM`s, one on the map (left to right) and
    one on the horizontally mirrored map (right to left, its output mirrored back). The
    right-to-left stream's field is the quadrant above and RIGHT of a pixel, which holds
    the future pixels right of it in its row: its output is shifted down one row before
    the two streams are added. Pixel (r, c) then sees the quadrant r' <= r, c' <= c (and
    its own channel groups <= j, mask B) and every pixel of the rows above: the whole past.
    Inputs [B, H, W, n_in] -> [B, H, W, units].

    The two directions are independent of each other: they run as ONE `tf.scan` over
    their stacked states (`diagonal_scan`), W + H − 1 sequential steps where two scans one
    after the other took twice as many. Each direction's weights stay in its own
    `DiagonalLSTM` (`left_to_right`, `right_to_left`), as before, so checkpoints and
    `.keras` files of either layout load in the other.

    With `image_channels`, `call(inputs, image)` also feeds the image [B, H, W, C] to the
    right-to-left stream through an unmasked 1×1 term: since that stream is shifted down a
    row, pixel (r, c) reads it only at rows < r, all of which is past, every channel of
    every pixel. A network whose input layer hides a pixel from the features left of it
    (a mask-A convolution hides x(r − 1, W − 1) from row r's pixels c < W − 1 − k//2) uses
    it to see the whole past of the image (`tfar.PixelRNN(full_past=True)`).

    Args:
      units: hidden units of each stream (a multiple of `groups`).
      groups: channel groups G (3 for RGB sub-pixels, 1 otherwise).
      image_channels: C, to build the image term; None for none.
      kernel_initializer, bias_initializer: as `RowLSTM`.
    """

    def __init__(self, units, groups=1, image_channels=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(units, groups, kernel_initializer, bias_initializer, **kwargs)
        self.image_channels = None if image_channels is None else int(image_channels)
        kwargs = dict(units=self.units, groups=self.groups, dtype=self.dtype_policy,
                      kernel_initializer=self.kernel_initializer,
                      bias_initializer=self.bias_initializer)
        self.left_to_right = DiagonalLSTM(name="left_to_right", **kwargs)
        self.right_to_left = DiagonalLSTM(name="right_to_left", **kwargs)
        self.image_to_state = (
            None if self.image_channels is None else keras.layers.Dense(
                4 * self.units, use_bias=False, kernel_initializer=self.kernel_initializer,
                dtype=self.dtype_policy, name="image_to_state"))

    def build(self, input_shape):
        shape = (None, None, None, int(input_shape[-1]))
        self.left_to_right.build(shape)
        self.right_to_left.build(shape)
        if self.image_to_state is not None:
            self.image_to_state.build((None, None, None, self.image_channels))

    # The two directions run as one scan over stacked states (`diagonal_scan`); False
    # runs them as two scans one after the other, each `DiagonalLSTM.call` (the layout
    # before, kept as the reference tests compare with and benchmarks time). Not part of
    # the config: both compute the same function of the same variables.
    stacked_scan = True

    def call(self, inputs, image=None):
        if (image is None) != (self.image_to_state is None):
            raise ValueError(f"{self.name}: pass `image` exactly when the layer was built with "
                             f"image_channels (got image_channels={self.image_channels}).")
        mirrored = tf.reverse(inputs, axis=[2])
        extra = None if image is None else self.image_to_state(tf.reverse(image, axis=[2]))
        if not self.stacked_scan:
            forward = self.left_to_right(inputs)
            backward = tf.reverse(self.right_to_left(mirrored, extra), axis=[2])
            return forward + down_shift(backward)
        pre_forward = self.left_to_right.input_to_state(inputs)          # [B, H, W, 4u]
        pre_backward = self.right_to_left.input_to_state(mirrored)
        if extra is not None:
            pre_backward = pre_backward + tf.cast(extra, pre_backward.dtype)
        dtype = pre_forward.dtype
        kernels = tf.stack([self.left_to_right.recurrent_kernel(dtype),
                            self.right_to_left.recurrent_kernel(dtype)])
        forward, backward = tf.unstack(
            diagonal_scan(tf.stack([pre_forward, pre_backward]), kernels, self.groups))
        out = forward + down_shift(tf.reverse(backward, axis=[2]))
        out.set_shape(tuple(inputs.shape[:-1]) + (self.units,))
        return out

    def get_config(self):
        config = super().get_config()
        config.update(image_channels=self.image_channels)
        return config
