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

The rest of the step (the mask-A input layer's window from the values written, the 1×1
layers at the pixel, sub-pixel steps) is `tfar.sampling.stream.ResidualStreamSampler`'s.
A step thus costs O(layers · k · h²) whatever the image size; the naive loop reruns every
row's scan over the whole image at every step.
"""

import tensorflow as tf

from tfar.layers.lstm import lstm_step
from tfar.sampling import rows as row_cache
from tfar.sampling.stream import ResidualStreamSampler


class RowLSTMSampler(ResidualStreamSampler):
    """Per LSTM layer the rings (stream inputs [n, 1, W + 2p, 2h], hidden states
    [n, 2, W + 2p, h], cell states [n, 2, W, h]); per call, every LSTM's state kernel
    [k·h, 4h]; see the module docstring.

    Args:
      network: a `tfar.models.pixelrnn.PixelRNNNetwork` with cell "row_lstm".
      conditional: the condition's features [n, K], or None.
      components: unused (one component).
    """

    def __init__(self, network, conditional, components):
        if network.cell != "row_lstm":
            raise ValueError(f"RowLSTMSampler needs a Row LSTM network; got {network.cell!r}.")
        super().__init__(network, conditional, components)

    def masked_layers(self):
        network = self._network
        return list(network.projections) + [lstm.input_to_state for lstm in network.lstm_layers]

    def prepare(self, n):
        del n
        self._state_kernels = [
            tf.reshape(tf.cast(lstm.state_kernel, lstm.compute_dtype),
                       [lstm.kernel_size * lstm.units, 4 * lstm.units])
            for lstm in self._network.lstm_layers]

    def layer_cache(self, i, n):
        lstm, width = self._network.lstm_layers[i], self._width
        pad, dtype = lstm.kernel_size // 2, lstm.compute_dtype
        return (row_cache.ring(n, 1, width, pad, 2 * lstm.units, dtype),
                row_cache.ring(n, 2, width, pad, lstm.units, dtype),
                row_cache.ring(n, 2, width, 0, lstm.units, dtype))

    def residual_at_pixel(self, i, stream, cache, row, col):
        lstm, width = self._network.lstm_layers[i], self._width
        inputs, hidden, cells = cache
        k = lstm.kernel_size
        inputs = row_cache.write(inputs, row, col, stream, width)
        pre = self.at_pixel(lstm.input_to_state, row_cache.read(inputs, row, col, (1, k)))
        above = row_cache.read(hidden, row, col, (2, k))[:, 0]               # [n, k, h]
        pre += tf.matmul(tf.reshape(above, [-1, k * lstm.units]), self._state_kernels[i])
        cell_above = row_cache.read(cells, row, col, (2, 1))[:, 0, 0]        # [n, h]
        h, c = lstm_step(pre, cell_above, lstm.groups)
        hidden = row_cache.write(hidden, row, col, h, width)
        cells = row_cache.write(cells, row, col, c, width)
        return self.pointwise(self._network.projections[i], h), (inputs, hidden, cells)
