"""PixelCNN++'s cached sampler: a row of the vertical stream per image row, a pixel of the
horizontal stream per step, at every resolution of the U-Net.

Ramachandran, Paine, Khorrami, Babaeizadeh, Chang, Zhang, Hasegawa-Johnson, Campbell,
Huang, "Fast Generation for Convolutional Autoregressive Models", ICLR 2017 workshop,
wrote the first fast sampler for this network (§3: keep, per layer, the inputs its next
computation reads; a strided layer runs only at the positions it outputs; an upsampling
layer's outputs come from a cache of its inputs). Here, with `tfar.models.pixelcnnpp`'s
names (level ℓ has H/2^ℓ × W/2^ℓ positions; full-resolution pixel (r, c) is level ℓ's
position (r / 2^ℓ, c / 2^ℓ) when 2^ℓ divides both):

- The vertical stream u (down-shifted convolutions) at level ℓ, row q reads only image
  rows < 2^ℓ·q. So before the first pixel of image row r (`start_row`, once per row:
  `tfar.sampling.base`'s row structure), for every level whose rows 2^ℓ
  divides r, the whole of u's row q = r / 2^ℓ runs down and up the U-Net as in the
  network, each 2-row convolution reading its input's previous row from a cache
  (`u_prev`), the up path's upsampling reading the final row of the level below it
  (`up_u`: row q // 2 of level ℓ + 1, computed at this step or at row q − 1). The row's
  block outputs are kept for the horizontal stream (`u_out`).
- The horizontal stream ul (down-right-shifted 2×2 convolutions) at level ℓ, position
  (q, p) reads image pixels before (2^ℓ·q, 2^ℓ·p) only. Each of its convolutions is split
  by kernel rows: the top row's taps read the previous row of its input, so their sum
  (and the bias) is formed once per row for all positions (`ul_above`, from the previous
  row's inputs `ul_row`); the bottom row's taps read the position to the left (its
  inputs carried from the step that computed it, `ul_last`: read back from `ul_row`,
  which the step also writes, XLA copied the whole row every step) and the current
  one. A step runs ul at every level whose position it is (level 0 always; level ℓ + 1
  when q and p are even at level ℓ), down then up; the
  stride-2 downsampling is one more convolution of its level, run at even positions only;
  the upsampling of level ℓ + 1's final ul at (q // 2, p // 2) reads it from that level's
  `ul_row`.
- The first layers read the image itself: u's and ul's down-shifted inputs at row r read
  rows r − 2 … r − 1 (computed with the row), ul's down-right-shifted input reads the
  pixels (r − 1 … r, c − 1).

Every step gives the params the full network gives (to float rounding), so the samples
equal the naive loop's. A step computes what one pixel adds to every layer: the whole
loop costs about one network pass plus the per-step overhead, instead of H·W passes.
"""

import numpy as np
import tensorflow as tf

from tfar.layers.gated import pointwise_weights
from tfar.layers.gated_resnet import concat_elu
from tfar.sampling.base import Sampler


def _gate(stream, c2):
    value, gate = tf.split(c2, 2, axis=-1)
    return stream + value * tf.sigmoid(gate)


def _pad_columns(rows, layer):
    left, right = layer.padding()
    return tf.pad(rows, [[0, 0], [0, 0], [left, right], [0, 0]])


class PixelCNNPlusPlusSampler(Sampler):
    """State: per level ℓ a dict of `u_prev` [n, 1, W_ℓ, Σ], `u_out` [W_ℓ, n, Σ],
    `ul_above` [W_ℓ, n, Σ], `ul_row` [W_ℓ, n, Σ], `ul_last` [n, Σ] and (ℓ > 0) `up_u`
    [n, 1, W_ℓ, F]; see the module docstring. Channel groups are in the order the network
    computes them.

    Args:
      network: a `tfar.models.pixelcnnpp.PixelCNNPlusPlusNetwork`.
      conditional: the condition's features [n, K], or None.
      components: unused (one component, raster order).
    """

    def __init__(self, network, conditional, components):
        del components
        self._network = network
        self._conditional = conditional
        height, width, channels = network.image_shape
        self._levels = network.num_hierarchies
        # ul's down-right-shifted input at pixel (r, c) reads pixels (r - 1, c - 1) and
        # (r, c - 1): their flat dims [H·W, 2, C] and whether they lie inside [H·W, 2].
        pixels = np.arange(height * width)
        rows = pixels[:, None] // width - np.array([1, 0])
        columns = np.repeat(pixels[:, None] % width - 1, 2, axis=1)
        inside = (rows >= 0) & (columns >= 0)
        dims = (np.where(inside, rows * width + columns, 0) * channels)[..., None]
        self._left_dims = (dims + np.arange(channels)).astype(np.int32)
        self._left_inside = inside.astype(np.float32)

    # ------------------------------------------------------------------ layout

    def _u_groups(self, level):
        """Widths of `u_prev`'s groups: each 2-row convolution's input at `level`."""
        f, net = self._network.num_filters, self._network
        down = [2 * f, 2 * f] * len(net.down_u[level])
        final = [f] if level < self._levels - 1 else []        # downsample_u's input
        return down + final + [2 * f, 2 * f] * len(net.up_u[level])

    def _ul_groups(self, level):
        """Widths of `ul_row`'s groups: each 2×2 convolution's input at `level`, then
        (level > 0) the final up ul that level - 1 upsamples."""
        f, net = self._network.num_filters, self._network
        down = [2 * f, 2 * f] * len(net.down_ul[level])
        final = [f] if level < self._levels - 1 else []        # downsample_ul's input
        up = [2 * f, 2 * f] * len(net.up_ul[level])
        return down + final + up + ([f] if level > 0 else [])

    def _ul_convolutions(self, level):
        """The 2×2 down-right-shifted convolutions of `level` in `ul_row`'s group order."""
        net = self._network
        layers = [conv for block in net.down_ul[level] for conv in (block.conv_in,
                                                                     block.conv_out)]
        if level < self._levels - 1:
            layers.append(net.downsample_ul[level])
        return layers + [conv for block in net.up_ul[level]
                         for conv in (block.conv_in, block.conv_out)]

    # ------------------------------------------------------------------ weights

    def _split_kernel(self, layer):
        """A 2×2 shifted convolution as (top [2·Cin, F], bottom [2·Cin, F], bias [F]):
        the taps of the previous row and of the current row (left, here)."""
        conv = layer.conv
        kernel = tf.cast(tf.convert_to_tensor(conv.kernel), conv.compute_dtype)
        inputs, outputs = kernel.shape[2], kernel.shape[3]
        top, bottom = (tf.reshape(kernel[row], [2 * inputs, outputs]) for row in (0, 1))
        return top, bottom, tf.cast(tf.convert_to_tensor(conv.bias), conv.compute_dtype)

    # ------------------------------------------------------------------ protocol

    def initial_state(self, x):
        net = self._network
        n = tf.shape(x)[0]
        _, width, _ = net.image_shape
        f = net.num_filters
        self._dtype = dtype = net.input_u.compute_dtype
        h = (None if net.conditional_size is None
             else tf.reshape(self._conditional, [-1, net.conditional_size]))
        blocks = [block for level in range(self._levels)
                  for stack in (net.down_u, net.down_ul, net.up_u, net.up_ul)
                  for block in stack[level]]
        self._condition = {id(block): (0.0 if h is None else tf.cast(block.condition(h),
                                                                     dtype))
                           for block in blocks}
        self._kernels = {id(layer): self._split_kernel(layer)
                         for level in range(self._levels)
                         for layer in self._ul_convolutions(level)}
        self._nin = {id(block): pointwise_weights(block.nin) for block in blocks
                     if block.nin is not None}
        # Formed once per call (weight normalization's g·v/‖v‖ included), not per step:
        # the output layer, and each ul upsampling's kernel taps [2, 2, F in, F out].
        self._output = pointwise_weights(net.output_layer)
        self._upsample = [
            (tf.transpose(tf.cast(tf.convert_to_tensor(layer.conv.kernel),
                                  layer.conv.compute_dtype), [0, 1, 3, 2]),
             tf.cast(tf.convert_to_tensor(layer.conv.bias), layer.conv.compute_dtype))
            for layer in net.upsample_ul]
        right = net.input_ul_right.conv
        self._input_right = (
            tf.reshape(tf.cast(tf.convert_to_tensor(right.kernel), dtype), [-1, f]),
            tf.cast(tf.convert_to_tensor(right.bias), dtype))
        self._left_dims_t = tf.constant(self._left_dims)
        self._left_inside_t = tf.constant(self._left_inside, dtype)
        state = []
        for level in range(self._levels):
            columns = width >> level
            outputs = len(net.down_u[level]) + len(net.up_u[level]) + (level == 0)
            above = sum(int(self._kernels[id(layer)][2].shape[0])
                        for layer in self._ul_convolutions(level))
            entry = dict(
                u_prev=tf.zeros([n, 1, columns, sum(self._u_groups(level))], dtype),
                u_out=tf.zeros([columns, n, outputs * f], dtype),
                ul_above=tf.zeros([columns, n, above], dtype),
                ul_row=tf.zeros([columns, n, sum(self._ul_groups(level))], dtype),
                ul_last=tf.zeros([n, sum(self._ul_groups(level))], dtype))
            if level > 0:
                entry["up_u"] = tf.zeros([n, 1, columns, f], dtype)
            state.append(entry)
        return state

    def _scale(self, values):
        net = self._network
        return tf.cast(net.scale(values), self._dtype)

    # ------------------------------------------------------------------ rows (u)

    def _block_row(self, block, stream, auxiliary, previous, inputs):
        """A gated ResNet block of u over one row [n, 1, W, F]; its convolutions' previous
        input rows come from the iterator `previous`, their current ones go to `inputs`."""

        def conv(layer, current):
            inputs.append(current)
            rows = tf.concat([next(previous), current], axis=1)            # [n, 2, W, C]
            return layer.conv(_pad_columns(rows, layer))

        c1 = conv(block.conv_in, concat_elu(stream))
        if auxiliary is not None:
            c1 = c1 + block.nin(concat_elu(auxiliary))
        c2 = conv(block.conv_out, concat_elu(c1))
        return _gate(stream, c2 + self._row_condition(block))

    def _row_condition(self, block):
        bias = self._condition[id(block)]
        return bias if isinstance(bias, float) else bias[:, None, None]

    def _above(self, level, row):
        """The top-row taps' sums (and biases) of `level`'s 2×2 convolutions at every
        position of the next row, from this row's inputs `row` [W, n, Σ]: [W, n, Σ']."""
        groups = tf.split(row, self._ul_groups(level), axis=-1)
        sums = []
        for layer, inputs in zip(self._ul_convolutions(level), groups):
            top, _, bias = self._kernels[id(layer)]
            left = tf.concat([tf.zeros_like(inputs[:1]), inputs[:-1]], axis=0)
            window = tf.concat([left, inputs], axis=-1)                   # [W, n, 2·Cin]
            sums.append(tf.einsum("wnc,cf->wnf", window, top) + bias)
        return tf.concat(sums, axis=-1)

    def _u_level(self, level, q, u_in, ul_down_in, state):
        """Level `level`'s row q of u, down, deeper levels (when q is even), up: the
        updated `state` (a list of per-level dicts)."""
        net = self._network
        state = [dict(entry) for entry in state]
        mine = state[level]
        previous = iter(tf.split(mine["u_prev"], self._u_groups(level), axis=-1))
        inputs, outputs = [], [] if ul_down_in is None else [ul_down_in]
        us = [u_in]
        for block in net.down_u[level]:
            us.append(self._block_row(block, us[-1], None, previous, inputs))
            outputs.append(us[-1])
        deepest = level == self._levels - 1
        if not deepest:
            final_previous = next(previous)
            inputs.append(us[-1])
            rows = tf.concat([final_previous, us[-1]], axis=1)
            layer = net.downsample_u[level]

            def deeper():
                u_next = layer.conv(_pad_columns(rows, layer))
                return self._u_level(level + 1, q // 2, u_next, None, state)

            state = tf.cond(tf.equal(q % 2, 0), deeper, lambda: state)
            mine = state[level] = dict(state[level])
            up = net.upsample_u[level](state[level + 1]["up_u"])          # [n, 2, W, F]
            u = tf.gather(up, tf.reshape(q % 2, [1]), axis=1)
        else:
            u = us.pop()
        for block in net.up_u[level]:
            u = self._block_row(block, u, us.pop(), previous, inputs)
            outputs.append(u)
        mine["u_prev"] = tf.concat(inputs, axis=-1)
        mine["u_out"] = tf.transpose(tf.concat(outputs, axis=-1)[:, 0], [1, 0, 2])
        if level > 0:
            mine["up_u"] = u
        mine["ul_above"] = self._above(level, mine["ul_row"])
        return state

    @property
    def steps_per_row(self):
        return self._network.image_shape[1]

    def start_row(self, state, row, x):
        return self._rows(row, x, state)

    def _rows(self, r, x, state):
        """Before the first pixel of image row r: u's rows at every level that starts a
        row."""
        net = self._network
        height, width, channels = net.image_shape
        images = tf.reshape(x, [-1, height, width, channels])
        rows = r - 2 + tf.range(2)
        above = self._scale(tf.gather(images, tf.maximum(rows, 0), axis=1))
        above = tf.concat([above, tf.ones_like(above[..., :1])], axis=-1)
        above = above * tf.cast(rows >= 0, self._dtype)[:, None, None]   # [n, 2, W, C+1]
        started = tf.cast(r > 0, self._dtype)                            # down_shift's zero row
        u_in = net.input_u.conv(_pad_columns(above, net.input_u)) * started
        ul_down_in = net.input_ul_down.conv(
            _pad_columns(above[:, 1:], net.input_ul_down)) * started
        return self._u_level(0, r, u_in, ul_down_in, state)

    # ------------------------------------------------------------------ pixels (ul)

    def _block_pixel(self, block, stream, auxiliary, lefts, aboves, inputs):
        """A gated ResNet block of ul at one position: stream [n, F] -> [n, F]."""

        def conv(layer, current):
            inputs.append(current)
            _, bottom, _ = self._kernels[id(layer)]
            window = tf.concat([next(lefts), current], axis=-1)
            return next(aboves) + tf.matmul(window, bottom)

        c1 = conv(block.conv_in, concat_elu(stream))
        if auxiliary is not None:
            kernel, bias = self._nin[id(block)]
            c1 = c1 + tf.nn.bias_add(tf.matmul(concat_elu(auxiliary), kernel), bias)
        c2 = conv(block.conv_out, concat_elu(c1))
        return _gate(stream, c2 + self._condition[id(block)])

    def _ul_level(self, level, q, p, ul_in, reads, lasts):
        """ul at `level`'s position (q, p): down, deeper levels (when q and p are even),
        up. `reads`: per level, what this step reads of its row caches at its position
        there (`_reads`); `lasts`: per level, `ul_last`. Returns (the final up ul there
        [n, F], `lasts` from `level` on, updated).

        The deeper levels run in a `tf.cond` that takes and returns these small tensors
        only: the row caches are read before (`_reads`) and written after (`step`), so
        XLA has no pass-through row cache to copy at every step."""
        net = self._network
        mine = reads[level]
        f = net.num_filters
        left = lasts[level] * tf.cast(p > 0, self._dtype)              # [n, Σ] at p − 1
        lefts = iter(tf.split(left, self._ul_groups(level), axis=-1))
        above_sizes = [int(self._kernels[id(layer)][2].shape[0])
                       for layer in self._ul_convolutions(level)]
        aboves = iter(tf.split(mine["ul_above"], above_sizes, axis=-1))
        u_outputs = iter(tf.split(mine["u_out"], mine["u_out"].shape[-1] // f, axis=-1))
        if level == 0:
            next(u_outputs)                                             # ul's input row
        inputs, uls = [], [ul_in]
        for block in net.down_ul[level]:
            uls.append(self._block_pixel(block, uls[-1], next(u_outputs), lefts, aboves,
                                         inputs))
        deeper_lasts = lasts[level + 1:]
        if level < self._levels - 1:
            layer = net.downsample_ul[level]
            final_left, final_above = next(lefts), next(aboves)
            inputs.append(uls[-1])
            window = tf.concat([final_left, uls[-1]], axis=-1)

            def deeper():
                ul_next = final_above + tf.matmul(window, self._kernels[id(layer)][1])
                return self._ul_level(level + 1, q // 2, p // 2, ul_next, reads, lasts)[1]

            even = tf.logical_and(tf.equal(q % 2, 0), tf.equal(p % 2, 0))
            deeper_lasts = tf.cond(even, deeper, lambda: deeper_lasts)
            # The final up ul of level + 1 at (q // 2, p // 2): computed now or before.
            below = tf.where(even, deeper_lasts[0], reads[level + 1]["ul_row"])[..., -f:]
            taps, bias = self._upsample[level]    # output (2i + a, 2j + b) reads tap [a, b]
            tap = tf.gather_nd(taps, tf.stack([q % 2, p % 2])[None])[0]     # [F, F]
            ul = tf.nn.bias_add(tf.matmul(below, tap), bias)
        else:
            ul = uls.pop()
        for block in net.up_ul[level]:
            auxiliary = tf.concat([next(u_outputs), uls.pop()], axis=-1)
            ul = self._block_pixel(block, ul, auxiliary, lefts, aboves, inputs)
        if level > 0:
            inputs.append(ul)
        return ul, [tf.concat(inputs, axis=-1)] + list(deeper_lasts)

    def _reads(self, state, c):
        """Per level, the entries of `ul_above`, `u_out` and (levels > 0, which a step
        may skip) `ul_row` at the position of image column c there (column c >> ℓ)."""
        return [{key: tf.gather(entry[key], c // 2**level)
                 for key in ("ul_above", "u_out") + (("ul_row",) if level else ())}
                for level, entry in enumerate(state)]

    def step(self, state, i, units, x):
        del units  # raster order, one pixel per step
        net = self._network
        _, width, channels = net.image_shape
        r, c = i // width, i % width
        # ul's input: the down-shifted part (computed with the row) plus the
        # down-right-shifted convolution of pixels (r - 1 … r, c - 1), zero in column 0.
        pixels = self._scale(tf.gather(x, tf.gather(self._left_dims_t, i), axis=1))
        pixels = tf.concat([pixels, tf.ones_like(pixels[..., :1])], axis=-1)
        pixels = pixels * tf.gather(self._left_inside_t, i)[:, None]       # [n, 2, C+1]
        kernel, bias = self._input_right
        right = tf.nn.bias_add(tf.matmul(tf.reshape(pixels, [-1, 2 * (channels + 1)]),
                                         kernel), bias)
        reads = self._reads(state, c)
        down = reads[0]["u_out"][..., :net.num_filters]
        ul_in = down + right * tf.cast(c > 0, self._dtype)
        ul, lasts = self._ul_level(0, r, c, ul_in, reads,
                                   [entry["ul_last"] for entry in state])
        state = [dict(entry) for entry in state]
        for level, (entry, last) in enumerate(zip(state, lasts)):
            # Level ℓ computed its position this step iff 2^ℓ divides r and c.
            if level:
                here = tf.logical_and(tf.equal(r % 2**level, 0), tf.equal(c % 2**level, 0))
                last = tf.where(here, last, reads[level]["ul_row"])
            entry["ul_last"] = lasts[level]
            entry["ul_row"] = tf.tensor_scatter_nd_update(
                entry["ul_row"], tf.reshape(c // 2**level, [1, 1]), last[None])
        kernel, bias = self._output                                        # float32
        y = tf.nn.bias_add(tf.matmul(tf.cast(tf.nn.elu(ul), kernel.dtype), kernel), bias)
        return tf.reshape(y, [-1, 1, net.params_size]), state
