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

So a step costs O(layers · k² · F²) whatever the image size. The step itself (input
layer, blocks in order, output layers, sub-pixel steps: with a per-sub-pixel head a
pixel is recomputed at each of its C sub-steps and its cache entries rewritten, the last
sub-step leaving their final values) is `tfar.sampling.stream.ResidualStreamSampler`'s,
which the PixelRNN samplers share; a block gives its ring buffer.
"""

import tensorflow as tf

from tfar.sampling import rows as row_cache
from tfar.sampling.stream import ResidualStreamSampler


class PixelCNNSampler(ResidualStreamSampler):
    """Per block, a ring-buffer cache [n, k//2 + 1, W + 2·(k//2), h] of the inputs of its
    k×k convolution (see the module docstring); the step is `ResidualStreamSampler`'s.

    Args:
      network: a `tfar.models.pixelcnn.PixelCNNNetwork`.
      conditional: the condition's features [n, K], or None.
      components: unused (PixelCNN has one component).
    """

    def masked_layers(self):
        return [layer for block in self._network.blocks for layer in block]

    def layer_cache(self, i, n):
        conv = self._network.blocks[i][1]
        rows, cols = conv.window_shape
        return row_cache.ring(n, rows, self._width, cols // 2, conv.kernel.shape[2],
                              conv.compute_dtype)

    def residual_at_pixel(self, i, stream, cache, row, col):
        into, conv, out = self._network.blocks[i]
        cache = row_cache.write(cache, row, col,
                                tf.nn.relu(self.pointwise(into, tf.nn.relu(stream))), self._width)
        window = row_cache.read(cache, row, col, conv.window_shape)
        return self.pointwise(out, tf.nn.relu(self.at_pixel(conv, window))), cache
