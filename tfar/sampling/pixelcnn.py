"""PixelCNN's cached sampler: one pixel's column of the network per step, not the image.

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016,
§3.4–3.5: every layer of a PixelCNN is a masked convolution, so its output at pixel (r, c)
reads only its inputs at rows r − k//2 … r, and in row r only columns ≤ c (and, at
(r, c) itself, only earlier channel groups). Ramachandran et al., "Fast Generation for
Convolutional Autoregressive Models", ICLR 2017 workshop: a generation step then needs
each layer at the new pixel only, from caches of the activations the earlier steps
computed. Here:

- the mask-A input convolution reads its window [n, k//2 + 1, k, C] straight from the
  values written so far (a gather of O(k²·C) values of x);
- each residual block keeps the inputs of its k×k mask-B convolution (the activations
  relu(1×1(relu(h)))) for the last k//2 + 1 image rows, zero-padded by k//2 columns on
  each side: a ring buffer [n, k//2 + 1, W + 2·(k//2), F] whose slot r mod (k//2 + 1)
  holds row r. A step writes the new pixel's activations (one scatter of [n, F]) and
  reads its window back; a row's slot still holds row r − k//2 − 1 right of the pixel,
  which the mask hides, and the rows above the image map to slots no row has written
  yet, so they are zeros, as the convolution's padding is;
- the 1×1 layers run at the pixel only.

So a step costs O(layers · k² · F²) whatever the image size. With a per-sub-pixel head
(C channel groups) a pixel is recomputed at each of its C sub-steps from the current x:
the channel-group masks keep the params of sub-pixel ch from seeing channels ≥ ch of the
pixel, and the pixel's cache entries are rewritten at every sub-step, so that the last
sub-step (which sees channels < C − 1 and no feature reads channel C − 1) leaves their
final values. The logistic mixture writes a whole pixel per step.
"""

import tensorflow as tf

from tfar.sampling import rows as row_cache
from tfar.sampling.base import Sampler


class PixelCNNSampler(Sampler):
    """State: (the conditional biases, one [n, 2h] per bias, none without a condition;
    every layer's `pixel_kernel()` by layer name, formed once before the loop; one
    ring-buffer cache per block, [n, k//2 + 1, W + 2·(k//2), h]); see the module docstring.

    Args:
      network: a `tfar.models.pixelcnn.PixelCNNNetwork`.
      conditional: [n, K] or None.
      components: unused (PixelCNN has one component).
    """

    def __init__(self, network, conditional, components):
        del components
        self._network = network
        self._conditional = conditional
        self._height, self._width, self._channels = network.image_shape
        self._units_per_pixel = network.output_features // network.params_size
        self._layers = ([network.input_layer] + [layer for block in network.blocks
                                                 for layer in block]
                        + [network.output_hidden, network.output_layer])

    def initial_state(self, x):
        n = tf.shape(x)[0]
        features = 2 * self._network.num_filters
        biases = tuple(tf.reshape(bias, [n, features]) for bias in
                       self._network.conditional_biases(self._conditional))
        kernels = {layer.name: layer.pixel_kernel() for layer in self._layers}
        caches = []
        for _, conv, _ in self._network.blocks:
            rows, cols = conv.window_shape
            caches.append(row_cache.ring(n, rows, self._width, cols // 2, conv.kernel.shape[2],
                                         conv.compute_dtype))
        return biases, kernels, tuple(caches)

    def step(self, state, i, units, x):
        del units  # raster order: step i writes unit i (a sub-pixel, or a pixel)
        biases, kernels, caches = state

        def at_pixel(layer, window):
            return layer.call_at_pixel(window, kernels[layer.name])

        def pointwise(layer, features):  # a 1×1 layer at the pixel: [n, F] -> [n, filters]
            return at_pixel(layer, features[:, None, None, :])

        network = self._network
        pixel, unit = i // self._units_per_pixel, i % self._units_per_pixel
        row, col = pixel // self._width, pixel % self._width
        h = at_pixel(network.input_layer, row_cache.image_window(network, x, row, col))
        if biases:
            h = h + biases[0]
        updated = []
        for b, ((into, conv, out), cache) in enumerate(zip(network.blocks, caches)):
            cache = row_cache.write(cache, row, col, tf.nn.relu(pointwise(into, tf.nn.relu(h))),
                                    self._width)
            window = row_cache.read(cache, row, col, conv.window_shape)
            y = pointwise(out, tf.nn.relu(at_pixel(conv, window)))
            h = h + (y + biases[b + 1] if biases else y)
            updated.append(cache)
        features = pointwise(network.output_layer,
                             tf.nn.relu(pointwise(network.output_hidden, tf.nn.relu(h))))
        # The pixel's features are its units' params side by side (`ImageNetwork.params`).
        params = tf.reshape(features, [-1, self._units_per_pixel, network.params_size])
        params = tf.gather(params, unit[None], axis=1)                        # [n, 1, P]
        return tf.cast(params, tf.float32), (biases, kernels, tuple(updated))
