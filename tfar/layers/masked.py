"""Masked layers: MADE's masked dense layers and PixelCNN's masked convolutions.

Germain, Gregor, Murray, Larochelle, "MADE: Masked Autoencoder for Distribution
Estimation", ICML 2015, §4 (masks from degrees), §4.2 (order- and connectivity-agnostic
training: several mask sets drawn up front).

Every unit carries a *degree*. Input dimension d has degree rank(d) + 1 in the model's
order (1 … D); a hidden unit of degree m may only see inputs of degree ≤ m; an output for
dimension d (degree m_d) may only see hidden units of degree < m_d. For D = 3 in the
order (x1, x2, x3) and one hidden layer of degrees (1, 2, 1, 2):

    hidden mask  (m_h >= m_in)          output mask  (m_out > m_h)
              h1 h2 h3 h4                          o1 o2 o3
    x1 (1)  [  1  1  1  1 ]             h1 (1)  [  0  1  1 ]
    x2 (2)  [  0  1  0  1 ]             h2 (2)  [  0  0  1 ]
    x3 (3)  [  0  0  0  0 ]             h3 (1)  [  0  1  1 ]
                                        h4 (2)  [  0  0  1 ]

so o_d depends on x_<d only. A layer may hold M mask sets at once (stacked degrees of
shape [M, n]); it then uses one of them (`mask_index`) or all of them side by side.

A staircase mask (units in degree order, inputs in a left-to-right or right-to-left
order) is mostly zeros in one corner; `MaskedDense(column_blocks=K)` stores and multiplies
only the K column blocks' rows that hold connections (`kernel_blocks`).

`MaskedConv2D` is the masked convolution of van den Oord et al., "Pixel Recurrent Neural
Networks", ICML 2016, §3.4 (see its docstring for the masks).
"""

import numpy as np
import tensorflow as tf

import keras


ORDERINGS = ("left_to_right", "right_to_left", "random")
HIDDEN_DEGREES = ("equal", "random")


def input_order(num_dims, ordering="left_to_right", rng=None):
    """The order in which dimensions are generated: `order[i]` is the i-th dimension.

    Args:
      num_dims: D, the number of dimensions.
      ordering: "left_to_right", "right_to_left", "random", or an explicit permutation
        of `range(D)` (any sequence of ints).
      rng: a `np.random.Generator`, used for "random".

    Returns:
      An int array of shape [D].
    """
    if isinstance(ordering, str):
        if ordering == "left_to_right":
            return np.arange(num_dims)
        if ordering == "right_to_left":
            return np.arange(num_dims)[::-1].copy()
        if ordering == "random":
            rng = rng if rng is not None else np.random.default_rng()
            return rng.permutation(num_dims)
        raise ValueError(
            f"ordering must be one of {ORDERINGS} or a permutation of range({num_dims}); "
            f"got {ordering!r}."
        )
    order = np.asarray(ordering)
    if order.shape != (num_dims,) or not np.array_equal(np.sort(order), np.arange(num_dims)):
        raise ValueError(
            f"An explicit ordering must be a permutation of range({num_dims}) "
            f"(shape ({num_dims},)); got {np.asarray(ordering).tolist()!r}."
        )
    return order.astype(np.int64)


def made_degrees(num_dims, hidden_units, ordering="left_to_right",
                 hidden_degrees="equal", num_masks=1, seed=None):
    """Draws `num_masks` MADE degree assignments (MADE §4, §4.2).

    Args:
      num_dims: D.
      hidden_units: sizes of the hidden layers (may be empty).
      ordering: see `input_order`. With "random", each mask set has its own order
        (order-agnostic training); otherwise all share one.
      hidden_degrees: "equal" spaces each layer's degrees evenly over
        [min degree of the layer below, D - 1] (H < D - 1 units skip degrees evenly, so
        every input still reaches the later outputs); "random" draws them uniformly there.
      num_masks: M, the number of mask sets.
      seed: int seed of the numpy generator for the random choices.

    Returns:
      A list `[input_degrees, hidden_1, …, hidden_L]` of int arrays of shape [M, D],
      [M, H_1], …, [M, H_L]. With one mask set each hidden layer's degrees are in
      increasing order (units are interchangeable, so this loses nothing): with
      left-to-right or right-to-left orders the masks are then staircases that
      `kernel_blocks` can cut. With M > 1, random degrees stay independent per unit and
      mask set (§4.2); sorting each set would tie a unit's degree across sets.
    """
    if hidden_degrees not in HIDDEN_DEGREES:
        raise ValueError(f"hidden_degrees must be one of {HIDDEN_DEGREES}; got {hidden_degrees!r}.")
    if num_masks < 1:
        raise ValueError(f"num_masks must be >= 1; got {num_masks}.")
    random_order = isinstance(ordering, str) and ordering == "random"
    if num_masks > 1 and not random_order and hidden_degrees != "random":
        raise ValueError(
            "num_masks > 1 needs ordering='random' or hidden_degrees='random'; with "
            f"ordering={ordering!r} and hidden_degrees='equal' every mask set is the same."
        )
    rng = np.random.default_rng(seed)
    shared_order = None if random_order else input_order(num_dims, ordering, rng)
    per_mask = []
    for _ in range(num_masks):
        order = shared_order if shared_order is not None else input_order(num_dims, "random", rng)
        degrees = [np.argsort(order) + 1]
        for units in hidden_units:
            low = min(int(degrees[-1].min()), num_dims - 1)
            if low < 1:  # D == 1: no hidden unit can feed an output; keep them inert.
                layer = np.full(units, num_dims)
            elif hidden_degrees == "equal":  # evenly spaced; every degree once H >= D - low
                layer = np.round(np.linspace(low, num_dims - 1, units)).astype(np.int64)
            else:
                layer = rng.integers(low, num_dims, size=units)
                if num_masks == 1:  # a relabelling of the units; M > 1 keeps them i.i.d.
                    layer = np.sort(layer)
            degrees.append(layer)
        per_mask.append(degrees)
    return [np.stack([mask[i] for mask in per_mask]).astype(np.int64)
            for i in range(len(per_mask[0]))]


def mask_from_degrees(input_degrees, output_degrees, strict):
    """The connectivity mask(s) between two layers.

    Args:
      input_degrees: int array [..., n_in].
      output_degrees: int array [..., n_out] (same leading shape).
      strict: True for connections into outputs (m_out > m_in), False for hidden
        layers (m_out >= m_in).

    Returns:
      A float32 array [..., n_in, n_out] of zeros and ones.
    """
    input_degrees = np.asarray(input_degrees)[..., :, None]
    output_degrees = np.asarray(output_degrees)[..., None, :]
    connected = output_degrees > input_degrees if strict else output_degrees >= input_degrees
    return connected.astype(np.float32)


def auto_column_blocks(input_degrees, output_degrees, strict, units_per_block=100,
                       max_blocks=8, min_saving=0.2):
    """The `column_blocks` of a layer under "auto" (arguments as `kernel_blocks`).

    About `units_per_block` units per block, at most `max_blocks`; one block when the
    blocks would store less than `min_saving` fewer weights than the dense kernel (a mask
    that is no staircase, e.g. a random order).
    """
    n_in, n_out = np.shape(input_degrees)[-1], np.shape(output_degrees)[-1]
    num_blocks = int(np.clip(n_out // units_per_block, 1, max_blocks))
    blocks = kernel_blocks(input_degrees, output_degrees, strict, num_blocks)
    stored = sum((hi - lo) * (b - a) for a, b, lo, hi in blocks)
    return num_blocks if stored <= (1.0 - min_saving) * n_in * n_out else 1


def kernel_blocks(input_degrees, output_degrees, strict, num_blocks):
    """Splits a layer's units into column blocks and finds the inputs each block can see.

    Args:
      input_degrees, output_degrees, strict: the layer's masks, as `mask_from_degrees`
        takes them ([M, n_in] and [M, n_out]).
      num_blocks: K, the number of contiguous, near-equal column blocks.

    Returns:
      K tuples `(a, b, lo, hi)`: units a:b read only inputs lo:hi under every mask set
      (rows outside lo:hi are zero in all M masks). A block no mask connects to anything
      keeps one input row, which its mask zeroes.

    With units in degree order (MADE's `made_degrees` sorts them) and inputs in the
    model's order (left-to-right or right-to-left), a mask is a staircase: the block of
    units a:b needs a prefix (or suffix) of the inputs, so K blocks multiply about
    (K + 1) / 2K of the full kernel. Works from the degrees in O(M·(n_in + n_out)) per
    block, never forming the [M, n_in, n_out] masks.
    """
    input_degrees = np.atleast_2d(input_degrees)
    output_degrees = np.atleast_2d(output_degrees)
    n_out = output_degrees.shape[-1]
    if not 1 <= num_blocks <= n_out:
        raise ValueError(f"column_blocks must be in [1, {n_out}] (the layer's units); "
                         f"got {num_blocks}.")
    bounds = np.linspace(0, n_out, num_blocks + 1).round().astype(int)
    blocks = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        # input i reaches some unit of the block under mask m iff the block's highest
        # degree does: a row of the block's mask (union over m) is nonzero.
        top = output_degrees[:, a:b].max(axis=1, keepdims=True)            # [M, 1]
        reached = top > input_degrees if strict else top >= input_degrees  # [M, n_in]
        rows = np.flatnonzero(reached.any(axis=0))
        lo, hi = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 1)
        blocks.append((int(a), int(b), lo, hi))
    return blocks


def _columns(x, lo, hi):
    """x[..., lo:hi] by `tf.slice`, whose gradient is one Pad (a strided slice's
    StridedSliceGrad was a fifth of a blocked MADE's training step on CPU)."""
    rank = len(x.shape)
    return tf.slice(x, [0] * (rank - 1) + [lo], [-1] * (rank - 1) + [hi - lo])


@keras.saving.register_keras_serializable(package="tfar")
class MaskedDense(keras.layers.Layer):
    """A dense layer whose kernel is multiplied by fixed MADE masks inside `call`.

    Shapes: inputs [B, n_in] -> [B, units] when the layer holds one mask set or a
    `mask_index` is given; [B, n_in] or [M, B, n_in] -> [M, B, units] with all M mask
    sets side by side (`mask_index=None`, M > 1).

    The mask is applied as `kernel * mask` on every call (never as a constraint or by
    overwriting weights), so the layer is autoregressive from construction on. It is
    formed in the graph by comparing the degrees, so no [M, n_in, units] array is ever
    stored (the `mask` property computes it for inspection).

    With `column_blocks` = K > 1 the kernel is stored as K column blocks (`kernel_blocks`),
    each holding only the input rows its masks can reach: the all-zero corner of a
    staircase mask is neither stored, multiplied, nor updated by the optimizer. The
    function the layer computes is the same as with K = 1 (`dense_kernel` assembles the
    full [n_in, units] kernel).

    Args:
      units: number of outputs.
      input_degrees: int array-like [M, n_in] (or [n_in]): degrees of the inputs.
      output_degrees: int array-like [M, units] (or [units]): degrees of the outputs.
      strict: see `mask_from_degrees`.
      column_blocks: K, the number of column blocks of the kernel (1: one dense kernel), or
        "auto" (`auto_column_blocks`).
      activation, use_bias, kernel_initializer, bias_initializer: as `keras.layers.Dense`.
    """

    def __init__(self, units, input_degrees, output_degrees, strict=False, column_blocks=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_degrees = np.atleast_2d(np.asarray(input_degrees, dtype=np.int64))
        self.output_degrees = np.atleast_2d(np.asarray(output_degrees, dtype=np.int64))
        if self.output_degrees.shape != (self.input_degrees.shape[0], self.units):
            raise ValueError(
                f"output_degrees must have shape [M, units] = [{self.input_degrees.shape[0]}, "
                f"{self.units}]; got {list(self.output_degrees.shape)}."
            )
        self.strict = bool(strict)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.num_masks = self.input_degrees.shape[0]
        degrees = (self.input_degrees, self.output_degrees, self.strict)
        if column_blocks == "auto":
            self.column_blocks = auto_column_blocks(*degrees)
        else:
            try:  # an int, or its string from a command-line override
                self.column_blocks = int(column_blocks)
            except ValueError:
                raise ValueError(f"column_blocks must be an int or 'auto'; got "
                                 f"{column_blocks!r}.") from None
        n_in = self.input_degrees.shape[1]
        self.blocks = kernel_blocks(*degrees, self.column_blocks)  # validates the count
        if self.column_blocks == 1:  # one block keeps the whole dense kernel
            self.blocks = [(0, self.units, 0, n_in)]

    def build(self, input_shape):
        n_in = input_shape[-1]
        if n_in != self.input_degrees.shape[1]:
            raise ValueError(
                f"{self.name}: inputs have {n_in} features but input_degrees describe "
                f"{self.input_degrees.shape[1]}."
            )
        full = []  # every block starts as its part of one [n_in, units] initializer draw

        def block_of_full_kernel(a, b, lo, hi):
            def initializer(shape, dtype=None):  # called where Keras creates variables
                if not full:
                    full.append(self.kernel_initializer((n_in, self.units), dtype=dtype))
                return full[0][lo:hi, a:b]
            return initializer

        names = (["kernel"] if self.column_blocks == 1 else
                 [f"kernel_{k}" for k in range(self.column_blocks)])
        self.kernels = []
        for name, (a, b, lo, hi) in zip(names, self.blocks):
            kernel = self.add_weight(name=name, shape=(hi - lo, b - a),
                                     initializer=block_of_full_kernel(a, b, lo, hi))
            setattr(self, name, kernel)  # an attribute: checkpoints (restored before build too)
            self.kernels.append(kernel)  # follow attributes, not Keras 3 lists
        self.bias = (self.add_weight(name="bias", shape=(self.units,),
                                     initializer=self.bias_initializer)
                     if self.use_bias else None)

    def call(self, inputs, mask_index=None):
        n_in = self.input_degrees.shape[1]
        parts = []
        for (a, b, lo, hi), variable in zip(self.blocks, self.kernels):
            kernel = tf.convert_to_tensor(variable)
            x = inputs if (lo, hi) == (0, n_in) else _columns(inputs, lo, hi)
            mask = self._block_mask(a, b, lo, hi, mask_index, kernel.dtype)
            parts.append(self._masked_matmul(x, kernel * mask, mask_index))
        outputs = parts[0] if len(parts) == 1 else tf.concat(parts, axis=-1)
        if self.bias is not None:  # bias_add, so grappler fuses MatMul+BiasAdd(+Relu)
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs)

    @property
    def mask(self):
        """The [M, n_in, units] 0/1 masks, as numpy (for inspection: `call` forms only the
        mask it uses, from the degrees)."""
        return mask_from_degrees(self.input_degrees, self.output_degrees, self.strict)

    def _block_mask(self, a, b, lo, hi, mask_index, dtype):
        """The mask of block (a, b, lo, hi), made in the graph from the degrees: [r, c] for
        one mask set, [M, r, c] for all of them (M > 1, no `mask_index`).

        Comparing degrees keeps graphs and SavedModels O(n_in + units) in size, where a
        constant mask would be O(M · n_in · units)."""
        inputs = tf.constant(self.input_degrees[:, lo:hi], dtype=tf.int32)
        outputs = tf.constant(self.output_degrees[:, a:b], dtype=tf.int32)
        if self.num_masks == 1:
            inputs, outputs = inputs[0], outputs[0]
        elif mask_index is not None:
            inputs, outputs = tf.gather(inputs, mask_index), tf.gather(outputs, mask_index)
        inputs, outputs = inputs[..., :, None], outputs[..., None, :]
        connected = outputs > inputs if self.strict else outputs >= inputs
        return tf.cast(connected, dtype)

    def _masked_matmul(self, x, masked_kernel, mask_index):
        """x [..., r] times one masked block [r, c] (or [M, r, c] side by side)."""
        if self.num_masks == 1 or mask_index is not None:
            return tf.matmul(x, masked_kernel)
        pattern = "bi,mio->mbo" if len(x.shape) == 2 else "mbi,mio->mbo"
        return tf.einsum(pattern, x, masked_kernel)

    def dense_kernel(self):
        """The kernel as one [n_in, units] tensor (zeros where no block stores weights);
        the layer multiplies its inputs by `dense_kernel() * mask[m]`."""
        if self.column_blocks == 1:
            return tf.convert_to_tensor(self.kernel)
        n_in = self.input_degrees.shape[1]
        return tf.concat([tf.pad(tf.convert_to_tensor(kernel), [[lo, n_in - hi], [0, 0]])
                          for (a, b, lo, hi), kernel in zip(self.blocks, self.kernels)], axis=1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            input_degrees=self.input_degrees.tolist(),
            output_degrees=self.output_degrees.tolist(),
            strict=self.strict,
            column_blocks=self.column_blocks,
            activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config

    def masked_kernel(self, mask_index=None):
        """`dense_kernel() * mask` as one tensor: [n_in, units] under mask set `mask_index`
        (or the only one), [M, n_in, units] for all M side by side (M > 1, no index).

        For code that reads a few rows or columns of the layer's function many times (a
        cached sampler): `call(x, mask_index)` is `x @ masked_kernel(mask_index) + bias`,
        then the activation, to float rounding. The mask is formed in the graph from the
        degrees, as in `call`."""
        kernel = self.dense_kernel()
        return kernel * self._block_mask(0, self.units, 0, self.input_degrees.shape[1],
                                         mask_index, kernel.dtype)

    def masked_blocks(self, mask_index=None):
        """The column blocks' masked kernels under one mask set (`mask_index`, or the only
        one), formed once for `call_masked_blocks`: a list of (lo, hi, [hi − lo, b − a]),
        one per block (a, b, lo, hi) of `blocks`."""
        if self.num_masks > 1 and mask_index is None:
            raise ValueError(f"{self.name}: masked_blocks needs a mask_index: the layer holds "
                             f"{self.num_masks} mask sets.")
        blocks = []
        for (a, b, lo, hi), variable in zip(self.blocks, self.kernels):
            kernel = tf.convert_to_tensor(variable)
            blocks.append((lo, hi, kernel * self._block_mask(a, b, lo, hi, mask_index,
                                                             kernel.dtype)))
        return blocks

    def call_masked_blocks(self, inputs, masked_blocks):
        """`call(inputs, mask_index)` [B, n_in] -> [B, units] from `masked_blocks(mask_index)`:
        the same blocked product, without forming the masks again (e.g. at every step of a
        sampling loop)."""
        n_in = self.input_degrees.shape[1]
        parts = [tf.matmul(inputs if (lo, hi) == (0, n_in) else _columns(inputs, lo, hi), kernel)
                 for lo, hi, kernel in masked_blocks]
        outputs = parts[0] if len(parts) == 1 else tf.concat(parts, axis=-1)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs)


MASK_TYPES = ("A", "B")


def channel_groups(num_channels, groups):
    """Group of each of `num_channels` features: contiguous blocks, [0 … 0, 1 … 1, …]."""
    return np.arange(num_channels) * groups // num_channels


def conv_mask(kernel_size, in_channels, out_channels, mask_type, groups=1):
    """The [kh, kw, in, out] 0/1 mask of a `MaskedConv2D` (see its docstring)."""
    kh, kw = kernel_size
    mask = np.zeros((kh, kw, in_channels, out_channels), np.float32)
    mask[:kh // 2] = 1.0                                  # rows above
    mask[kh // 2, :kw // 2] = 1.0                         # left of the centre
    g_in = channel_groups(in_channels, groups)[:, None]
    g_out = channel_groups(out_channels, groups)[None, :]
    mask[kh // 2, kw // 2] = (g_in < g_out) if mask_type == "A" else (g_in <= g_out)
    return mask


@keras.saving.register_keras_serializable(package="tfar")
class MaskedConv2D(keras.layers.Layer):
    """A 2-D convolution that sees only earlier pixels, and earlier channel groups of the
    current pixel (PixelRNN §3.4). Inputs [B, H, W, n_in] -> [B, H, W, filters].

    The kernel is multiplied by a fixed mask inside `call`. For a 3×3 kernel ("1" = the
    weight is used, "c" = the centre, where channel groups decide):

        rows above:   1 1 1
        centre row:   1 c 0      (weights right of the centre and below are zero)
        rows below:   0 0 0

    With `groups` = G (G = 3 for RGB: R, G, B), input and output features are split into G
    contiguous blocks; at the centre, output group j sees input groups i < j (mask "A",
    the first layer: a sub-pixel never sees itself) or i <= j (mask "B", every later
    layer, so a feature of group j keeps seeing what group j may see). For G = 3:

        mask A centre:        out R  out G  out B         mask B centre:  out R  out G  out B
                      in R      0      1      1                   in R    1      1      1
                      in G      0      0      1                   in G    0      1      1
                      in B      0      0      0                   in B    0      0      1

    so the R outputs of a pixel depend on earlier pixels only, G also on its R, and B on
    its R and G. With G = 1, mask A hides the whole current pixel and mask B shows it.

    Args:
      filters: output features (a multiple of `groups`).
      kernel_size: int or (kh, kw), each odd (the centre must be a pixel); (1, k) gives
        the horizontal stack of the Gated PixelCNN.
      mask_type: "A" or "B".
      groups: number of channel groups G (1: no channel masking).
      activation, use_bias, kernel_initializer, bias_initializer: as `keras.layers.Conv2D`.
    """

    def __init__(self, filters, kernel_size, mask_type="B", groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 **kwargs):
        super().__init__(**kwargs)
        kernel_size = ((int(kernel_size),) * 2 if np.ndim(kernel_size) == 0
                       else tuple(int(k) for k in kernel_size))
        if len(kernel_size) != 2 or any(k < 1 or k % 2 == 0 for k in kernel_size):
            raise ValueError(f"kernel_size must be odd (the centre is the current pixel); got "
                             f"{kernel_size}.")
        if mask_type not in MASK_TYPES:
            raise ValueError(f"mask_type must be 'A' or 'B'; got {mask_type!r}.")
        if groups < 1 or filters % groups:
            raise ValueError(f"filters ({filters}) must be a multiple of the {groups} channel "
                             "groups (one block of features per sub-pixel).")
        self.filters, self.kernel_size = int(filters), kernel_size
        self.mask_type, self.groups = mask_type, int(groups)
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        if n_in % self.groups:
            raise ValueError(f"{self.name}: {n_in} input features do not split into "
                             f"{self.groups} channel groups.")
        self.mask = conv_mask(self.kernel_size, n_in, self.filters, self.mask_type, self.groups)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (n_in, self.filters),
                                      initializer=self.kernel_initializer)
        self.bias = (self.add_weight(name="bias", shape=(self.filters,),
                                     initializer=self.bias_initializer)
                     if self.use_bias else None)

    def call(self, inputs):
        kernel = tf.convert_to_tensor(self.kernel)
        outputs = tf.nn.conv2d(inputs, kernel * tf.constant(self.mask, dtype=kernel.dtype),
                               strides=1, padding="SAME")
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs)

    @property
    def window_shape(self):
        """(kh // 2 + 1, kw): the rows and columns of inputs that the output at one pixel
        reads (`call_at_pixel`); the rows below the pixel are masked out."""
        kh, kw = self.kernel_size
        return kh // 2 + 1, kw

    def pixel_kernel(self):
        """The masked kernel's rows that `call_at_pixel` multiplies, flattened:
        [(kh // 2 + 1) · kw · n_in, filters], `kernel * mask` as `call` uses it (in the
        layer's compute dtype)."""
        rows, _ = self.window_shape
        kernel = tf.cast(tf.convert_to_tensor(self.kernel)[:rows], self.compute_dtype)
        masked = kernel * tf.constant(self.mask[:rows], dtype=kernel.dtype)
        return tf.reshape(masked, [-1, self.filters])

    def call_at_pixel(self, window, pixel_kernel=None):
        """The layer's output at one pixel, from the inputs around it.

        Args:
          window: [n, kh // 2 + 1, kw, n_in]: the inputs at rows r − kh//2 … r and columns
            c − kw//2 … c + kw//2 of pixel (r, c), zeros where they fall outside the
            image (the zero padding of `call`). The entries right of the pixel in its
            row may hold any finite value (the mask hides them); the pixel's own inputs
            of channel group g reach only the outputs of groups after g (mask A) or from
            g on (mask B).
          pixel_kernel: `pixel_kernel()`, when a caller that runs many pixels (a cached
            sampler's loop) forms it once; None forms it here.

        Returns:
          [n, filters] in the layer's compute dtype: `call(inputs)[:, r, c]`, to float
          rounding.
        """
        if pixel_kernel is None:
            pixel_kernel = self.pixel_kernel()
        flat = tf.reshape(tf.cast(window, self.compute_dtype), [-1, pixel_kernel.shape[0]])
        outputs = tf.matmul(flat, pixel_kernel)
        if self.bias is not None:
            outputs = tf.nn.bias_add(outputs, tf.cast(self.bias, self.compute_dtype))
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, mask_type=self.mask_type,
            groups=self.groups, activation=keras.activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config
