"""Gated PixelCNN's cached sampler: a row of the vertical stack per image row, a pixel of
the horizontal stack per step, instead of a full network pass per step.

van den Oord, Kalchbrenner, Espeholt, Vinyals, Graves, Kavukcuoglu, "Conditional Image
Generation with PixelCNN Decoders", NIPS 2016, §2.1–2.3: the vertical stack's row r only
reaches the horizontal stack of row r + 1 (it is shifted down one row), and the horizontal
stack at (r, c) reads columns c - k//2 … c of its own row. Ramachandran, Paine, Khorrami,
Babaeizadeh, Chang, Zhang, Hasegawa-Johnson, Campbell, Huang, "Fast Generation for
Convolutional Autoregressive Models", ICLR 2017 workshop: keep, per layer, the inputs the
next computation reads, so every step computes only what the new value changes.

Per layer the state holds

    above     [n, W, L, 2F]          what the vertical stack (row r - 1, shifted down) and the
                                     condition add to each horizontal pre-activation of the
                                     current row r (`GatedPixelCNNBlock.vertical_row`);
    rows      [n, k//2, W, F]        the vertical inputs of the last k//2 rows the vertical
                                     stack ran over, r - k//2 … r - 1 (layers 1 … L - 1,
                                     zeros above the image; the first layer reads x);
    windows   [n, k//2 + 1, F]       the horizontal inputs of the columns c - k//2 … c of the
                                     last pixel computed (layers 1 … L - 1).

Before the first step of row r ≥ 1 (`start_row`, once per row: `tfar.sampling.base`'s
row structure) the vertical stack runs over row r - 1, layer by layer: one
(k//2 + 1)-row convolution each. Every step runs the horizontal stack at its
pixel only (`GatedPixelCNNBlock.horizontal_pixel`), then the output layers there. With a
per-sub-pixel head and C channels a pixel takes C steps: each recomputes the pixel with the
values written so far (channel groups keep group g of the outputs from the channels ≥ g
of the pixel), overwriting its window entries, so the windows end up holding the pixel's
final activations. The first layer's inputs come from x itself at every step.
"""

import numpy as np
import tensorflow as tf

from tfar.layers.gated import pointwise_weights
from tfar.sampling.base import Sampler


class GatedPixelCNNSampler(Sampler):
    """State: (above, rows, windows), see the module docstring.

    Args:
      network: a `tfar.models.gated_pixelcnn.GatedPixelCNNNetwork`.
      conditional: [n, …] (a vector or a spatial map) or None.
      components: unused (one component, raster order).
    """

    def __init__(self, network, conditional, components):
        del components
        self._network = network
        self._conditional = conditional
        height, width, channels = network.image_shape
        # steps per pixel: C for a per-sub-pixel head, 1 for the logistic mixture
        self._steps_per_pixel = network.output_features // network.params_size
        # The first layer's horizontal window of each pixel: flat dims of x [H·W, k//2 + 1,
        # C] (columns left of the image read dim 0, then zeroed by `valid`).
        half = network.blocks[0].kernel_size // 2
        pixels = np.arange(height * width)
        columns = pixels[:, None] % width - half + np.arange(half + 1)           # [H·W, k//2+1]
        inside = columns >= 0
        dims = (pixels[:, None] - half + np.arange(half + 1)) * channels
        dims = np.where(inside, dims, 0)[..., None] + np.arange(channels)
        self._window_dims = dims.astype(np.int32)
        self._window_valid = inside[..., None].astype(np.float32)

    # ------------------------------------------------------------------ helpers

    def _scale(self, values):
        """Values in [0, V) -> the network's inputs in [-1, 1], as `ImageNetwork.images`."""
        network = self._network
        return tf.cast(network.scale(values), network.blocks[0].compute_dtype)

    def _row_biases(self, row):
        """Per layer (v_bias of image row `row` - 1, h_bias of row `row`), each
        broadcastable to [n, W, 2F] (zeros without a condition)."""
        if self._spatial is None:
            return [(v[:, None], h[:, None]) for v, h in self._vector]
        first = tf.maximum(row - 1, 0)
        # Rows r − 1, r (r ≥ 1): a slice of static size (XLA fails on the dynamic size a
        # strided slice first:first + 2 has for it).
        height = self._network.image_shape[0]
        rows = tf.slice(self._spatial, [0, first, 0, 0], [-1, min(2, height), -1, -1])
        return [(v[:, 0], h[:, -1])
                for v, h in (block.condition_biases(spatial_condition=rows)
                             for block in self._network.blocks)]

    # ------------------------------------------------------------------ protocol

    def initial_state(self, x):
        network = self._network
        blocks = network.blocks
        n = tf.shape(x)[0]
        _, width, _ = network.image_shape
        filters = network.num_filters
        dtype = blocks[0].compute_dtype
        self._spatial = None
        self._vector = [(tf.zeros([1, 2 * filters], dtype),) * 2 for _ in blocks]
        if network.upsample is not None:
            self._spatial = network.upsample(
                tf.reshape(self._conditional, (-1,) + network.spatial_conditional_shape))
        elif network.conditional_size is not None:
            condition = tf.reshape(self._conditional, [-1, network.conditional_size])
            self._vector = [block.condition_biases(condition) for block in blocks]
        self._weights = [block.pixel_weights() for block in blocks]
        self._outputs = [pointwise_weights(network.output_hidden),
                         pointwise_weights(network.output_layer)]
        self._window_dims_t = tf.constant(self._window_dims)
        self._window_valid_t = tf.constant(self._window_valid, dtype)
        if self._spatial is None:
            h_biases = [h[:, None] for _, h in self._vector]
        else:
            h_biases = [h[:, 0] for _, h in (block.condition_biases(
                spatial_condition=self._spatial[:, :1]) for block in blocks)]
        above = tf.stack([block.above_first_row(n, width) + h_bias
                          for block, h_bias in zip(blocks, h_biases)], axis=2)
        rows = tuple(tf.zeros([n, block.kernel_size // 2, width, filters], dtype)
                     for block in blocks[1:])
        windows = tuple(tf.zeros([n, block.kernel_size // 2 + 1, filters], dtype)
                        for block in blocks[1:])
        return above, rows, windows

    @property
    def steps_per_row(self):
        return self._network.image_shape[1] * self._steps_per_pixel

    def start_row(self, state, row, x):
        _, rows, windows = state
        return tf.cond(row > 0, lambda: self._next_row(row, x, rows, windows), lambda: state)

    def _next_row(self, row, x, rows, windows):
        """Before the first step of image row `row` ≥ 1: the vertical stack over row - 1;
        the new (above, rows, windows), windows emptied for the new row."""
        network = self._network
        height, width, channels = network.image_shape
        blocks = network.blocks
        half = blocks[0].kernel_size // 2
        image_rows = row - 1 - half + tf.range(half + 1)                       # [k//2+1]
        images = tf.reshape(x, [-1, height, width, channels])
        v = self._scale(tf.gather(images, tf.maximum(image_rows, 0), axis=1))
        v = v * tf.cast(image_rows >= 0, v.dtype)[:, None, None]
        above, new_rows = [], []
        for index, (block, (v_bias, h_bias)) in enumerate(zip(blocks, self._row_biases(row))):
            if index > 0:
                v = tf.concat([rows[index - 1], v[:, None]], axis=1)
                new_rows.append(v[:, 1:])
            v, to_horizontal = block.vertical_row(v, v_bias)
            above.append(to_horizontal + h_bias)
        windows = tuple(tf.zeros_like(window) for window in windows)
        return tf.stack(above, axis=2), tuple(new_rows), windows

    def step(self, state, i, units, x):
        del units  # raster order: step i writes unit i
        above, rows, windows = state
        network = self._network
        _, width, _ = network.image_shape
        per_pixel = self._steps_per_pixel
        pixel, sub = (i, 0) if per_pixel == 1 else (i // per_pixel, i % per_pixel)
        column = pixel % width
        to_horizontal = tf.unstack(tf.gather(above, column, axis=1), axis=1)  # L × [n, 2F]
        h = self._scale(tf.gather(x, tf.gather(self._window_dims_t, pixel), axis=1))
        h = h * tf.gather(self._window_valid_t, pixel)                  # [n, k//2+1, C]
        skips, new_windows = [], []
        for index, block in enumerate(network.blocks):
            if index > 0:
                window = windows[index - 1]
                earlier = (window[:, 1:] if per_pixel == 1 else
                           tf.where(tf.equal(sub, 0), window[:, 1:], window[:, :-1]))
                h = tf.concat([earlier, h[:, None]], axis=1)
                new_windows.append(h)
            h, skip = block.horizontal_pixel(h, to_horizontal[index], self._weights[index])
            skips.append(skip)

        (hidden, hidden_bias), (output, output_bias) = self._outputs
        y = tf.nn.relu(tf.add_n(skips))
        y = tf.nn.relu(tf.nn.bias_add(tf.matmul(y, hidden), hidden_bias))
        y = tf.nn.bias_add(tf.matmul(tf.cast(y, output.dtype), output), output_bias)  # [n, S·P]
        params = tf.reshape(y, [-1, per_pixel, network.params_size])
        if per_pixel > 1:
            params = tf.gather(params, tf.reshape(sub, [1]), axis=1)
        return tf.cast(params, tf.float32), (above, rows, tuple(new_windows))
