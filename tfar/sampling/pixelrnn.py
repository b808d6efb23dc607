"""PixelRNN's cached samplers: one pixel of every layer per step (the Diagonal BiLSTM's
right-to-left stream: one row of every layer per image row).

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016.
Both samplers are `tfar.sampling.stream.ResidualStreamSampler`s: the mask-A input layer
reads its window from the values written (`rows.image_window`), the 1×1 layers run at the
pixel, and each LSTM layer's residual at the pixel comes from caches of what earlier steps
computed. With a per-sub-pixel head a pixel is recomputed at each of its C sub-steps (its
cache entries are rewritten; the last sub-step leaves their final values).

Row LSTM (§3.1). Row r's states come from row r's inputs (a (1, k) mask-B input-to-state
convolution) and row r − 1's hidden states (a (1, k) state-to-state convolution) and cell
states (the same column). So, once row r − 1 is done, the states at pixel (r, c) need only:

- the layer's inputs at (r, c − k//2 … c): a one-row ring (`tfar.sampling.rows`) of the
  residual stream the layer reads, padded by k//2 columns;
- row r − 1's hidden states at columns c − k//2 … c + k//2: a two-row ring of hidden
  states (slot r mod 2 fills while slot (r − 1) mod 2 is read; row −1 is the zero slot
  no row has written yet, the LSTM's zero initial state);
- row r − 1's cell state at column c: a two-row ring of cell states.

A step costs O(layers · k · h²) whatever the image size; the naive loop reruns every
layer's scan over the whole image at every step.

Diagonal BiLSTM (§3.2; `tfar.layers.DiagonalBiLSTM`). Its output at (r, c) is the
left-to-right stream's h→(r, c) plus the right-to-left stream's h←(r − 1, c) (shifted
down a row). In image coordinates the Diagonal LSTM's recurrence (the skewed map's
column j − 1 at rows r − 1 and r) reads

    h→(r, c) from h→(r − 1, c), h→(r, c − 1), c→(r, c − 1) and the input at (r, c);
    h←(r, c) from h←(r − 1, c), h←(r, c + 1), c←(r, c + 1) and the input at (r, c)

(zero states left of column 0, or right of column W − 1, and above row 0). So:

- the left-to-right stream runs one cell per layer per pixel, from a two-row ring of its
  hidden states (row r − 1 at column c) and its hidden and cell states at (r, c − 1),
  carried from the previous pixel (zeros at column 0). The left neighbour is carried,
  not read back from the ring the step writes: XLA (`jit_compile=True`) copies a buffer
  a step both reads and updates in one slot, which made the compiled loop 10× slower;
  as a pixel is recomputed at each of its sub-steps, the carried state keeps both the
  left neighbour and the pixel last computed (and where that was);
- the right-to-left stream of row r − 1 reads nothing of row r: it runs once per row,
  at the first step of row r (`finish_row_above`), over the whole of row r − 1 from right to
  left, from the stream inputs of row r − 1 (a one-row buffer per layer, written at each
  pixel, read once the row is done), the image's row r − 1 (the first layer's 1×1 image
  term, `full_past`), and its own states of row r − 2 (a buffer [n, W, h] per layer, which
  then holds row r − 1 for the pixels of row r to read). Every layer's row r − 1 is known
  by then (its inputs are), so the layers run side by side: one `tf.scan` of W steps
  over their stacked states.

A pixel step thus costs O(layers · h²), and a row start O(layers · W · h²) in W
sequential steps, whatever the image's height; the naive loop reruns both streams over
the whole image (H + W − 1 sequential steps per layer) at every step.
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


class DiagonalBiLSTMSampler(ResidualStreamSampler):
    """Per Diagonal BiLSTM layer (stream inputs of the current row [n, 1, W, 2h],
    left-to-right hidden states of the last two rows [n, 2, W, h] (a ring), the
    left-to-right (h, c) at the left neighbour and at the pixel last computed
    [n, 2, 2, h] and that pixel's index [], right-to-left hidden states of the row above
    [n, W, h]); per call, both streams' state kernels [2h, 4h]; see the module docstring.

    Args:
      network: a `tfar.models.pixelrnn.PixelRNNNetwork` with cell "diagonal_bilstm".
      conditional: the condition's features [n, K], or None.
      components: unused (one component).
    """

    def __init__(self, network, conditional, components):
        if network.cell != "diagonal_bilstm":
            raise ValueError("DiagonalBiLSTMSampler needs a Diagonal BiLSTM network; got "
                             f"{network.cell!r}.")
        super().__init__(network, conditional, components)

    def masked_layers(self):
        network = self._network
        return list(network.projections) + [
            stream.input_to_state for lstm in network.lstm_layers
            for stream in (lstm.left_to_right, lstm.right_to_left)]

    def prepare(self, n):
        del n
        lstms = self._network.lstm_layers
        self._forward_kernels = [lstm.left_to_right.recurrent_kernel() for lstm in lstms]
        units = lstms[0].units
        backward = tf.stack([lstm.right_to_left.recurrent_kernel() for lstm in lstms])
        self._backward_above = backward[:, :units]                      # [L, h, 4h]
        self._backward_left = backward[:, units:]                       # [L, h, 4h]
        image_to_state = lstms[0].image_to_state
        self._image_kernel = (None if image_to_state is None else tf.cast(
            image_to_state.kernel, image_to_state.compute_dtype))       # [C, 4h]

    def layer_cache(self, i, n):
        lstm, width = self._network.lstm_layers[i], self._width
        units, dtype = lstm.units, lstm.compute_dtype
        return (row_cache.ring(n, 1, width, 0, 2 * units, dtype),
                row_cache.ring(n, 2, width, 0, units, dtype),
                tf.zeros([n, 2, 2, units], dtype), tf.constant(-1),
                tf.zeros([n, width, units], dtype))

    def finish_row_above(self, row, x, caches):
        """At the first step of image row `row` >= 1: every layer's right-to-left stream
        over row − 1, from right to left, in one scan over the layers' stacked states."""
        network, width = self._network, self._width
        lstms = network.lstm_layers
        pre = []
        for lstm, (inputs, *_, backward) in zip(lstms, caches):
            # Row − 1's stream inputs: the buffer holds them until row's first pixel.
            pre.append(self.pointwise(lstm.right_to_left.input_to_state, inputs[:, 0]))
        pre = tf.stack(pre)                                               # [L, n, W, 4h]
        if self._image_kernel is not None:
            _, _, channels = network.image_shape
            begin = (row - 1) * width * channels
            image_row = network.scale(tf.slice(x, [0, begin], [-1, width * channels]))
            image_row = tf.reshape(tf.cast(image_row, self._image_kernel.dtype),
                                   [-1, width, channels])
            pre = tf.tensor_scatter_nd_add(pre, [[0]], (image_row @ self._image_kernel)[None])
        above = tf.stack([backward for *_, backward in caches])           # [L, n, W, h]
        pre += tf.einsum("lnwi,lio->lnwo", above, self._backward_above)
        columns = tf.reverse(tf.transpose(pre, [2, 0, 1, 3]), axis=[0])   # [W, L, n, 4h]
        zeros = tf.zeros_like(above[:, :, 0])                             # [L, n, h]
        groups = lstms[0].groups

        def step(state, column):
            h_right, c_right = state
            recurrent = tf.einsum("lni,lio->lno", h_right, self._backward_left)
            return lstm_step(column + recurrent, c_right, groups)

        hidden, _ = tf.scan(step, columns, initializer=(zeros, zeros))    # [W, L, n, h]
        hidden = tf.transpose(tf.reverse(hidden, axis=[0]), [1, 2, 0, 3])  # [L, n, W, h]
        return tuple((*cache[:-1], new) for cache, new in zip(caches, tf.unstack(hidden)))

    def residual_at_pixel(self, i, stream, cache, row, col):
        lstm, width = self._network.lstm_layers[i], self._width
        inputs, hidden, states, last, backward = cache
        inputs = row_cache.write(inputs, row, col, stream, width)
        pre = self.pointwise(lstm.left_to_right.input_to_state, stream)
        pixel = row * width + col
        # (h, c) at (r, c − 1): at a new pixel the one last computed (zeros at column 0),
        # at a pixel's later sub-step the one kept at its first.
        left = tf.where(tf.equal(pixel, last), states[:, 0],
                        tf.where(col > 0, states[:, 1], tf.zeros_like(states[:, 1])))
        above = row_cache.read(hidden, row - 1, col, (1, 1))[:, 0, 0]       # h→(r − 1, c)
        pre += tf.matmul(tf.concat([above, left[:, 0]], axis=-1), self._forward_kernels[i])
        h, c = lstm_step(pre, left[:, 1], lstm.groups)
        hidden = row_cache.write(hidden, row, col, h, width)
        states = tf.stack([left, tf.stack([h, c], axis=1)], axis=1)
        out = h + tf.gather(backward, col, axis=1)             # h→(r, c) + h←(r − 1, c)
        return (self.pointwise(self._network.projections[i], out),
                (inputs, hidden, states, pixel, backward))
