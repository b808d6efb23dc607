"""The Row LSTM PixelRNN's cached sampler: one pixel of every layer per step.

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016,
§3.1: a Row LSTM computes row r's states from row r's inputs (a (1, k) mask-B
input-to-state convolution) and row r − 1's hidden states (a (1, k) state-to-state
convolution) and cell states (the same column). So, once row r − 1 is done, the states at
pixel (r, c) need only:

- the layer's inputs at (r, c − k//2 … c): a one-row ring (`tfar.sampling.rows`) of the
  residual stream the layer reads, padded by k//2 columns;
- row r − 1's hidden states at columns c − k//2 … c + k//2: a two-row ring of hidden
  states (slot r mod 2 fills while slot (r − 1) mod 2 is read; row −1 is the zero slot
  no row has written yet, the LSTM's zero initial state);
- row r − 1's cell state at column c: a two-row ring of cell states.

The mask-A input layer reads its window from the values written (`rows.image_window`) and
the 1×1 layers run at the pixel. A step thus costs O(layers · k · h²) whatever the image
size; the naive loop reruns every row's scan over the whole image at every step. With a
per-sub-pixel head a pixel is recomputed at each of its C sub-steps (its ring entries are
rewritten; the last sub-step leaves their final values), as `tfar.sampling.pixelcnn`.
"""

import tensorflow as tf

from tfar.layers.lstm import lstm_step
from tfar.sampling import rows as row_cache
from tfar.sampling.base import Sampler


class RowLSTMSampler(Sampler):
    """State: (the conditional biases, one [n, 2h] per bias, none without a condition;
    every masked layer's `pixel_kernel()` and every LSTM's state kernel, formed once;
    per LSTM layer the rings (stream inputs [n, 1, W + 2p, 2h], hidden states
    [n, 2, W + 2p, h], cell states [n, 2, W, h])); see the module docstring.

    Args:
      network: a `tfar.models.pixelrnn.PixelRNNNetwork` with cell "row_lstm".
      conditional: [n, K] or None.
      components: unused (one component).
    """

    def __init__(self, network, conditional, components):
        del components
        if network.cell != "row_lstm":
            raise ValueError(f"RowLSTMSampler needs a Row LSTM network; got {network.cell!r}.")
        self._network = network
        self._conditional = conditional
        self._width = network.image_shape[1]
        self._units_per_pixel = network.output_features // network.params_size
        self._masked = ([network.input_layer, network.output_hidden, network.output_layer]
                        + list(network.projections)
                        + [lstm.input_to_state for lstm in network.lstm_layers])

    def initial_state(self, x):
        network, n, width = self._network, tf.shape(x)[0], self._width
        features, units = 2 * network.hidden_units, network.hidden_units
        biases = tuple(tf.reshape(bias, [n, features])
                       for bias in network.conditional_biases(self._conditional))
        kernels = {id(layer): layer.pixel_kernel() for layer in self._masked}
        rings = []
        for lstm in network.lstm_layers:
            pad, dtype = lstm.kernel_size // 2, lstm.compute_dtype
            kernels[id(lstm)] = tf.reshape(tf.cast(lstm.state_kernel, dtype),
                                           [lstm.kernel_size * units, 4 * units])
            rings.append((row_cache.ring(n, 1, width, pad, features, dtype),
                          row_cache.ring(n, 2, width, pad, units, dtype),
                          row_cache.ring(n, 2, width, 0, units, dtype)))
        return biases, kernels, tuple(rings)

    def step(self, state, i, units, x):
        del units  # raster order: step i writes unit i (a sub-pixel, or a pixel)
        biases, kernels, rings = state
        network, width = self._network, self._width

        def at_pixel(layer, window):
            return layer.call_at_pixel(window, kernels[id(layer)])

        def pointwise(layer, features):  # a 1×1 layer at the pixel: [n, F] -> [n, filters]
            return at_pixel(layer, features[:, None, None, :])

        pixel, unit = i // self._units_per_pixel, i % self._units_per_pixel
        row, col = pixel // width, pixel % width
        stream = at_pixel(network.input_layer, row_cache.image_window(network, x, row, col))
        if biases:
            stream = stream + biases[0]
        updated = []
        for layer, (lstm, projection, (inputs, hidden, cells)) in enumerate(
                zip(network.lstm_layers, network.projections, rings)):
            k = lstm.kernel_size
            inputs = row_cache.write(inputs, row, col, stream, width)
            pre = at_pixel(lstm.input_to_state, row_cache.read(inputs, row, col, (1, k)))
            above = row_cache.read(hidden, row, col, (2, k))[:, 0]           # [n, k, h]
            pre += tf.matmul(tf.reshape(above, [-1, k * lstm.units]), kernels[id(lstm)])
            cell_above = row_cache.read(cells, row, col, (2, 1))[:, 0, 0]    # [n, h]
            h, c = lstm_step(pre, cell_above, lstm.groups)
            hidden = row_cache.write(hidden, row, col, h, width)
            cells = row_cache.write(cells, row, col, c, width)
            y = pointwise(projection, h)
            stream = stream + (y + biases[layer + 1] if biases else y)
            updated.append((inputs, hidden, cells))
        features = pointwise(network.output_layer,
                             tf.nn.relu(pointwise(network.output_hidden, tf.nn.relu(stream))))
        # The pixel's features are its units' params side by side (`ImageNetwork.params`).
        params = tf.reshape(features, [-1, self._units_per_pixel, network.params_size])
        params = tf.gather(params, unit[None], axis=1)                        # [n, 1, P]
        return tf.cast(params, tf.float32), (biases, kernels, tuple(updated))
