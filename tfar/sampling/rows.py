"""Row caches the image samplers share: ring buffers of a layer's activations over the
last image rows, and the input layer's window read straight from the values written.

A ring buffer `cache` [n, R, W + 2p, F] holds a layer's activations at the last R image
rows, row r in slot r mod R, zero-padded by p columns on each side (the padding of a
width-(2p + 1) convolution). A step writes one pixel (`write`) and reads a convolution's
window back (`read`). Rows above the image map to slots no row has written yet, so they
are zeros, as a convolution's padding is; entries right of the pixel in its own row may
still hold row r − R, which a mask B (or A) kernel hides.
"""

import tensorflow as tf


def ring(n, rows, width, pad, features, dtype):
    """An empty ring buffer [n, rows, width + 2·pad, features]."""
    return tf.zeros([n, rows, width + 2 * pad, features], dtype)


def write(cache, row, col, values, width):
    """cache [n, R, W + 2p, F] with values [n, F] at image row `row` (slot row mod R),
    column col (padded column col + p). `width`: W."""
    rows, pad = cache.shape[1], (cache.shape[2] - width) // 2
    n = tf.shape(values)[0]
    index = tf.stack([tf.range(n), tf.fill([n], row % rows), tf.fill([n], col + pad)],
                     axis=-1)                                                       # [n, 3]
    return tf.tensor_scatter_nd_update(cache, index, tf.cast(values, cache.dtype))


def read(cache, row, col, window_shape):
    """The window [n, R', k, F] of a k-wide convolution at (row, col): image rows
    row − R' + 1 … row in order (their ring slots), padded columns col … col + k − 1."""
    rows, cols = window_shape
    window = tf.slice(cache, [0, 0, col, 0], [-1, -1, cols, -1])
    return tf.gather(window, (row - (rows - 1) + tf.range(rows)) % cache.shape[1], axis=1)


def image_window(network, x, row, col):
    """The input layer's window at (row, col) from x [n, D]: [n, k//2 + 1, k, C] of
    `network.images(x)` (values rescaled to [-1, 1]), zeros outside the image.

    Args:
      network: an `ImageNetwork` with a masked `input_layer`.
      x: [n, D] values.
      row, col: scalar int32.
    """
    rows, cols = network.input_layer.window_shape
    _, width, channels = network.image_shape
    window_rows = row - (rows - 1) + tf.range(rows)                                  # [R]
    window_cols = col - cols // 2 + tf.range(cols)                                   # [K]
    inside = ((window_rows >= 0)[:, None, None] & (window_cols >= 0)[None, :, None]
              & (window_cols < width)[None, :, None])                                # [R, K, 1]
    dims = ((window_rows[:, None, None] * width + window_cols[None, :, None]) * channels
            + tf.range(channels)[None, None, :])                                     # [R, K, C]
    inside = tf.broadcast_to(inside, tf.shape(dims))
    dims = tf.reshape(tf.where(inside, dims, 0), [-1])
    values = tf.gather(x, dims, axis=1)                                     # [n, R·K·C]
    # `ImageNetwork.images`, applied to the window's values only.
    images = network.scale(values)
    images = tf.where(tf.reshape(inside, [-1]), images, tf.zeros([], images.dtype))
    return tf.reshape(images, [-1, rows, cols, channels])
