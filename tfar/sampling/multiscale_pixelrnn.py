"""The Multi-Scale PixelRNN's cached sampler (`tfar.models.multiscale_pixelrnn`).

PixelRNN paper §3.5. The schedule writes the small image x_0 = x[::f, ::f] first (its
units in its raster order), then every other unit in the image's raster order. The
small image is drawn with the base PixelRNN's cached sampler (`tfar.sampling.pixelrnn`,
on the small image's flat values); at the first later step the `ContextNetwork`'s
small-size features are computed once from it (carried in the state), and each later
step runs the conditional PixelRNN's cached sampler at its pixel (`ResidualStreamSampler.
at`) with the context's biases at that pixel (`ContextNetwork.at_pixel`). That sampler
needs every pixel in raster order, and the small image's pixels are not steps of their
own: a pixel of the small image is passed through it (its caches updated from its known
values) at the first sub-step of the pixel after it. With f >= 2 no two small-image
pixels are adjacent in raster order, and the image's last pixel is not one of them.
"""

import numpy as np
import tensorflow as tf

from tfar.sampling.base import Sampler, step_starting_rows
from tfar.sampling.pixelrnn import DiagonalBiLSTMSampler, RowLSTMSampler


def _pixelrnn_sampler(network, conditional, components):
    sampler = RowLSTMSampler if network.cell == "row_lstm" else DiagonalBiLSTMSampler
    return sampler(network, conditional, components)


class MultiscalePixelRNNSampler(Sampler):
    """The fast sampler: each PixelRNN's cached sampler (one pixel of every layer per
    step; the naive loop runs both networks over the whole image at every step).

    Args:
      network: a `MultiscalePixelRNNNetwork`.
      conditional: the condition's features [n, K], or None.
      components: unused (one component).
    """

    def __init__(self, network, conditional, components):
        self._network = network
        self._base = _pixelrnn_sampler(network.base, conditional, components)
        self._rest = _pixelrnn_sampler(network.conditional, conditional, components)
        units = network.base_units()
        self._base_dims = tf.constant(
            (units[:, None] * network.values_per_unit
             + np.arange(network.values_per_unit)).reshape(-1), tf.int32)
        self._base_steps = len(units)

    def initial_state(self, x):
        network, n = self._network, tf.shape(x)[0]
        context = tf.zeros([n, network.base_height, network.base_width,
                            network.context.filters], network.context.compute_dtype)
        return (self._base.initial_state(tf.gather(x, self._base_dims, axis=1)),
                self._rest.initial_state(x), context)

    def step(self, state, i, units, x):
        network = self._network
        base_state, rest_state, context = state

        def base():
            params, new = step_starting_rows(self._base, base_state, i, units,
                                             tf.gather(x, self._base_dims, axis=1))
            return params, (new, rest_state, context)

        def rest():
            features = tf.cond(
                tf.equal(i, self._base_steps),
                lambda: network.context.small_features(network.small_image(x)),
                lambda: context)
            width, f, per_pixel = network.image_shape[1], network.factor, network.units_per_pixel
            unit = units[0, 0]
            pixel, sub = unit // per_pixel, unit % per_pixel
            prev_row, prev_col = (pixel - 1) // width, (pixel - 1) % width
            small_before = tf.logical_and(
                tf.logical_and(tf.equal(sub, 0), pixel > 0),
                tf.logical_and(tf.equal(prev_row % f, 0), tf.equal(prev_col % f, 0)))

            def pass_small_pixel():
                bias = network.context.at_pixel(features, prev_row, prev_col)
                return self._rest.at(rest_state, prev_row, prev_col, tf.constant(0), x, bias)[1]

            caches = tf.cond(small_before, pass_small_pixel, lambda: rest_state)
            row, col = pixel // width, pixel % width
            params, caches = self._rest.at(caches, row, col, sub, x,
                                           network.context.at_pixel(features, row, col))
            return params, (base_state, caches, features)

        return tf.cond(i < self._base_steps, base, rest)
