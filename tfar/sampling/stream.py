"""The cached sampler of a residual-stream image network (PixelCNN, PixelRNN): the input
layer, every residual layer and the output layers computed at the new pixel only.

`tfar.models.image.ResidualStreamNetwork` (PixelRNN paper §3.3–3.5): a mask-A input
convolution reads the image into a residual stream s_0; layer i adds its residual (and a
condition's term) to it, s_(i+1) = s_i + residual_i(s_i) (+ b_(i+1)); 1×1 layers give
the params. At pixel (r, c) the input layer reads its window of the values written so far
(`rows.image_window`), and the 1×1 layers read the stream at the pixel only, so a step
needs each layer's residual at the pixel, from caches of what earlier steps computed:
that part is the model's (`residual_at_pixel`), the rest is here:

    ResidualStreamSampler           this module: the step (input layer, the layers in
                                    order, output layers, the unit's params)
      PixelCNNSampler               `tfar.sampling.pixelcnn`: ring buffers of rows
      RowLSTMSampler                `tfar.sampling.pixelrnn`: the Row LSTM
      DiagonalBiLSTMSampler         `tfar.sampling.pixelrnn`: the Diagonal BiLSTM

One convention for per-call state (`tfar.sampling.base`): what does not change from
step to step (the condition's terms, every masked layer's `pixel_kernel()`, a
subclass's own weights in the form its steps use) is formed once per call in
`initial_state` and kept as attributes, which the loop's body reads; the loop's state
is the tuple of the layers' caches, which the steps update.

With a per-sub-pixel head (C channel groups) a pixel is recomputed at each of its C
sub-steps from the current x: the channel-group masks keep sub-pixel j's params from
seeing channels >= j of the pixel, and the pixel's cache entries are rewritten at every
sub-step, so that the last sub-step (which sees channels < C − 1, and no feature reads
channel C − 1 of its own pixel) leaves their final values. The logistic mixture writes a
whole pixel per step. A cache of a row is read only once the row is done
(`finish_row_above`, run by `start_row` once per row: `tfar.sampling.base`'s row
structure).
"""

import tensorflow as tf

from tfar.sampling import rows as row_cache
from tfar.sampling.base import Sampler


class ResidualStreamSampler(Sampler):
    """The step every residual-stream sampler shares; subclasses give the layers' caches.

    Subclasses define
      `masked_layers()`: the `MaskedConv2D`s of the residual layers whose
        `pixel_kernel()` the steps use (`self.at_pixel`, `self.pointwise`);
      `prepare(n)`: other per-call tensors, as attributes (optional);
      `layer_cache(i, n)`: layer i's cache before step 0, a nest of tensors;
      `residual_at_pixel(i, stream, cache, row, col)`: (what layer i adds to the stream
        [n, F] at pixel (row, col), before the condition's term; its updated cache);
      `finish_row_above(row, x, caches)`: the caches at the first step of image row
        `row` >= 1, for what a row can compute only once the row above is done
        (optional: with it the sampler has the protocol's row structure, `start_row`).

    Args:
      network: a `tfar.models.image.ResidualStreamNetwork`.
      conditional: the condition's features [n, K], or None.
      components: unused (one component, raster order).
    """

    finish_row_above = None

    def __init__(self, network, conditional, components):
        del components
        self._network = network
        self._conditional = conditional
        self._width = network.image_shape[1]
        self._units_per_pixel = network.output_features // network.params_size

    # ------------------------------------------------------------------ subclasses

    def masked_layers(self):
        raise NotImplementedError

    def prepare(self, n):
        del n

    def layer_cache(self, i, n):
        raise NotImplementedError

    def residual_at_pixel(self, i, stream, cache, row, col):
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers

    def at_pixel(self, layer, window):
        """A masked layer's output at the pixel from its window (`call_at_pixel`)."""
        return layer.call_at_pixel(window, self._kernels[id(layer)])

    def pointwise(self, layer, features):
        """A 1×1 masked layer at the pixel (or pixels): [..., F] -> [..., filters]."""
        if features.shape.rank == 2:
            return self.at_pixel(layer, features[:, None, None, :])
        flat = tf.reshape(features, [-1, 1, 1, features.shape[-1]])
        out = self.at_pixel(layer, flat)
        return tf.reshape(out, tf.concat([tf.shape(features)[:-1], [out.shape[-1]]], 0))

    # ------------------------------------------------------------------ protocol

    def initial_state(self, x):
        network, n = self._network, tf.shape(x)[0]
        features = network.input_layer.filters
        self._biases = [tf.reshape(bias, [n, features])
                        for bias in network.conditional_biases(self._conditional)]
        layers = ([network.input_layer, network.output_hidden, network.output_layer]
                  + list(self.masked_layers()))
        self._kernels = {id(layer): layer.pixel_kernel() for layer in layers}
        self.prepare(n)
        return tuple(self.layer_cache(i, n) for i in range(network.num_layers))

    @property
    def steps_per_row(self):
        if self.finish_row_above is None:
            return None
        return self._width * self._units_per_pixel

    def start_row(self, state, row, x):
        return tf.cond(row > 0, lambda: self.finish_row_above(row, x, state), lambda: state)

    def step(self, state, i, units, x):
        del units  # raster order: step i writes unit i (a sub-pixel, or a pixel)
        pixel, unit = i // self._units_per_pixel, i % self._units_per_pixel
        return self.at_started_row(state, pixel // self._width, pixel % self._width, unit, x)

    def at(self, state, row, col, unit, x, bias=None):
        """`at_started_row` for a driver that steps pixels one at a time: starts the row
        (`start_row`) at its first pixel's unit 0."""
        if self.finish_row_above is not None:
            first = tf.logical_and(tf.equal(col, 0), tf.equal(unit, 0))
            state = tf.cond(first, lambda: self.start_row(state, row, x), lambda: state)
        return self.at_started_row(state, row, col, unit, x, bias)

    def at_started_row(self, state, row, col, unit, x, bias=None):
        """(params [n, 1, P] of sub-step `unit` of pixel (row, col), the updated caches):
        a step in raster order, from the caches of every pixel before it, the row
        started. `bias`: None, or `num_layers` + 1 more terms [n, F] of the stream at the
        pixel (the network's `stream_params` biases there; the condition's are added
        here). Pixels must come in raster order, each at least once."""
        network, per_pixel = self._network, self._units_per_pixel
        biases = self._biases
        if bias is not None:
            biases = [b + a for a, b in zip(biases, bias)] if biases else list(bias)
        stream = self.at_pixel(network.input_layer, row_cache.image_window(network, x, row, col))
        if biases:
            stream = stream + biases[0]
        updated = []
        for layer, cache in enumerate(state):
            y, cache = self.residual_at_pixel(layer, stream, cache, row, col)
            stream = stream + (y + biases[layer + 1] if biases else y)
            updated.append(cache)
        features = self.pointwise(network.output_layer,
                                  tf.nn.relu(self.pointwise(network.output_hidden,
                                                            tf.nn.relu(stream))))
        # The pixel's features are its units' params side by side (`ImageNetwork.params`).
        params = tf.reshape(features, [-1, per_pixel, network.params_size])
        params = tf.gather(params, unit[None], axis=1)                        # [n, 1, P]
        return tf.cast(params, tf.float32), tuple(updated)
