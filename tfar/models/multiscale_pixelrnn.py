"""The Multi-Scale PixelRNN: a small subsampled image first, then the rest given it.

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016,
§3.5: an unconditional PixelRNN draws an s×s image subsampled from the n×n one, and a
conditional PixelRNN draws the large image given it; each layer of the conditional
network is biased by an upsampled version of the small image. The sequential ancestor of
the Parallel Multiscale PixelCNN (`tfar.models.multiscale`), with the same base grid:
the small image is x_0 = x[::f, ::f] (f = H / b_h = W / b_w >= 2), and

    p(x) = p(x_0) · Π_{i ∉ x_0, raster order} p(x_i | x_<i, x_0)

so no pixel is modelled twice and `log_prob` is exact: the base PixelRNN's term on x_0,
plus the conditional network's conditionals at every other pixel, in raster order. The
conditional network is a PixelRNN over the whole image (`PixelRNNNetwork.stream_params`)
whose residual stream gets, after its input layer and each LSTM layer, a learned linear
map of the upsampled small image (`ContextNetwork`: `context_layers` 3×3 convolutions
over the small image, which it may see whole, then a stride-f transposed convolution to
the full size); its params at the small image's own pixels are not used. Sampling is
O(N) as for a PixelRNN: the base with its cached sampler, then the other pixels with the
conditional network's (`tfar.sampling.multiscale_pixelrnn`). `complete` with the small
image's pixels observed (`base_mask`) super-resolves it.

    d = tfar.MultiscalePixelRNN(image_shape=(32, 32, 1), num_values=2, base_size=8)
    d.log_prob(x)
    d.sample(4, seed=(1, 2))
"""

import numpy as np
import tensorflow as tf

import keras

from tfar.layers.tracking import ListsInCheckpoints
from tfar.models.image import (ImageDistribution, ImageNetwork, check_base_size,
                               image_arguments, subsampled_mask)
from tfar.models.pixelrnn import PixelRNNNetwork, check_cell, resolve_full_past
from tfar.registry import register
from tfar.sampling.multiscale_pixelrnn import MultiscalePixelRNNSampler
from tfar.schedule import GenerationSchedule


def subsampling_factor(image_shape, base_size):
    """((b_h, b_w), f) with (H, W) = (f · b_h, f · b_w), f >= 2, or a ValueError."""
    height, width, _ = image_shape
    base = check_base_size(base_size)
    factor = height // base[0]
    if factor < 2 or factor * base[0] != height or factor * base[1] != width:
        raise ValueError(f"The image {height}×{width} must be the base {base[0]}×{base[1]} "
                         "times one integer factor f >= 2 in both dimensions.")
    return base, factor


@keras.saving.register_keras_serializable(package="tfar")
class ContextNetwork(ListsInCheckpoints, keras.layers.Layer):
    """The upsampling and biasing of §3.5: the small image [B, b_h, b_w, C] in [-1, 1] ->
    `num_biases` maps [B, H, W, F], one per bias of the conditional network's stream.

    `num_layers` 3×3 ReLU convolutions of `filters` at the small size, a stride-f f×f
    transposed convolution to the full size (linear), and per bias a linear map of its
    `filters` to F (a 1×1 convolution). `at_pixel` gives the biases at one pixel from the
    small-size features (`small_features`), as the sampler needs them.

    Args:
      filters: features of the small-size convolutions and of the upsampled map.
      num_layers: the 3×3 convolutions.
      factor: f.
      stream_features: F.
      num_biases: the stream's biases (the conditional network's layers + 1).
    """

    def __init__(self, filters, num_layers, factor, stream_features, num_biases, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.num_layers = int(filters), int(num_layers)
        self.factor, self.stream_features = int(factor), int(stream_features)
        self.num_biases = int(num_biases)
        self.convolutions = [keras.layers.Conv2D(self.filters, 3, padding="same",
                                                 activation="relu", name=f"conv_{i}")
                             for i in range(self.num_layers)]
        self.upsample = keras.layers.Conv2DTranspose(self.filters, self.factor,
                                                     strides=self.factor, name="upsample")
        self.biases = [keras.layers.Dense(self.stream_features, use_bias=False,
                                          name=f"bias_{i}") for i in range(self.num_biases)]

    def build(self, input_shape):
        shape = (None, None, None, input_shape[-1])
        for layer in self.convolutions:
            layer.build(shape)
            shape = (None, None, None, self.filters)
        self.upsample.build(shape)
        for layer in self.biases:
            layer.build((None, self.filters))

    def small_features(self, small):
        """[B, b_h, b_w, C] in [-1, 1] -> the upsampling's input [B, b_h, b_w, filters]."""
        for layer in self.convolutions:
            small = layer(small)
        return small

    def call(self, small):
        upsampled = self.upsample(self.small_features(small))             # [B, H, W, filters]
        return [layer(upsampled) for layer in self.biases]

    def at_pixel(self, features, row, col):
        """The biases at pixel (row, col): `num_biases` tensors [n, F] from the small-size
        features [n, b_h, b_w, filters]: the transposed convolution's output there reads
        one small pixel, (row // f, col // f), through kernel tap (row % f, col % f)."""
        f = self.factor
        small = features[:, row // f, col // f]                              # [n, filters]
        kernel = tf.cast(self.upsample.kernel, small.dtype)[row % f, col % f]  # [out, in]
        upsampled = (tf.einsum("ni,oi->no", small, kernel)
                     + tf.cast(self.upsample.bias, small.dtype))
        return [layer(upsampled) for layer in self.biases]

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, num_layers=self.num_layers, factor=self.factor,
                      stream_features=self.stream_features, num_biases=self.num_biases)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class MultiscalePixelRNNNetwork(ImageNetwork):
    """values [B, D] (+ a condition's vector features) -> params [1, B, U, P] in the
    image's raster unit order: the small image's units from the base PixelRNN (`base`),
    every other unit from the conditional PixelRNN (`conditional`) biased by `context`.

    Args:
      image_shape, num_values, params_size, values_per_unit: see `ImageNetwork`.
      base_size: b, or (b_h, b_w): H = f · b_h, W = f · b_w with one integer f >= 2.
      cell, full_past, dropout: of both PixelRNNs (`PixelRNNNetwork`).
      base_layers, base_hidden_units: the base PixelRNN's LSTM layers and hidden units.
      num_layers, hidden_units: the conditional PixelRNN's.
      first_kernel_size: both PixelRNNs' mask-A input convolution.
      context_layers, context_filters: the `ContextNetwork`'s 3×3 convolutions and features.
      conditioning / conditional_size: a vector-valued condition for both PixelRNNs.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1, base_size=8,
                 cell="diagonal_bilstm", base_layers=2, base_hidden_units=16, num_layers=2,
                 hidden_units=16, first_kernel_size=7, full_past=None, context_layers=2,
                 context_filters=32, dropout=0.0, conditional_size=None, **kwargs):
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, **kwargs)
        self.require_vector_condition()
        (self.base_height, self.base_width), self.factor = subsampling_factor(
            self.image_shape, base_size)
        self.base_size = (self.base_height, self.base_width)
        self.cell = check_cell(cell)
        self.full_past = resolve_full_past(full_past, self.cell)
        self.base_layers = int(base_layers)
        self.base_hidden_units = int(base_hidden_units)
        self.num_layers, self.hidden_units = int(num_layers), int(hidden_units)
        self.first_kernel_size = int(first_kernel_size)
        self.context_layers, self.context_filters = int(context_layers), int(context_filters)
        self.dropout = float(dropout)
        self.units_per_pixel = self.output_features // self.params_size
        common = dict(num_values=num_values, params_size=params_size,
                      values_per_unit=values_per_unit, conditional_size=self.conditional_size,
                      cell=self.cell, first_kernel_size=self.first_kernel_size,
                      full_past=self.full_past, dropout=self.dropout)
        self.base = PixelRNNNetwork((self.base_height, self.base_width, self.image_shape[-1]),
                                    num_layers=self.base_layers, hidden_units=self.base_hidden_units,
                                    name="base", **common)
        self.conditional = PixelRNNNetwork(self.image_shape, num_layers=self.num_layers,
                                           hidden_units=self.hidden_units,
                                           name="conditional", **common)
        self.context = ContextNetwork(self.context_filters, self.context_layers, self.factor,
                                      2 * self.hidden_units, self.num_layers + 1, name="context")

    def base_units(self):
        """int [b_h · b_w · C_u]: the image's units of the small image, in its raster order."""
        height, width, _ = self.image_shape
        f, u = self.factor, self.units_per_pixel
        ys, xs = np.meshgrid(np.arange(0, height, f), np.arange(0, width, f), indexing="ij")
        pixels = (ys * width + xs).reshape(-1)
        return (pixels[:, None] * u + np.arange(u)).reshape(-1)

    def schedule(self):
        """The `GenerationSchedule`: the small image's units, then every other unit in
        raster order, one per step."""
        base = self.base_units()
        rest = np.setdiff1d(np.arange(self.num_units), base)
        return GenerationSchedule.groups([[u] for u in np.concatenate([base, rest])],
                                         unit_size=self.values_per_unit)

    def small_image(self, inputs):
        """[B, D] values -> the small image [B, b_h, b_w, C] in [-1, 1]."""
        f = self.factor
        return self.scale(tf.reshape(inputs, (-1,) + self.image_shape)[:, ::f, ::f])

    def call(self, inputs, conditional_input=None, training=False, seed=None):
        small = self.small_image(inputs)
        seeds = [None, None] if seed is None else tf.unstack(
            tf.random.experimental.stateless_split(seed, 2))
        base = self.base.stream_params(small, self.base.conditional_biases(conditional_input),
                                       training, seeds[0])
        bias = self.context(small)
        vector = self.conditional.conditional_biases(conditional_input)
        if vector:
            bias = [b + v for b, v in zip(bias, vector)]
        rest = self.conditional.stream_params(self.images(inputs), bias, training, seeds[1])
        # the small image's units take the base's params; the others the conditional's
        index = np.arange(self.num_units)
        index[self.base_units()] = self.num_units + np.arange(len(self.base_units()))
        params = tf.gather(tf.concat([rest[0], base[0]], axis=1), index, axis=1)
        return params[None]                                                  # [1, B, U, P]

    def get_config(self):
        config = super().get_config()
        config.update(self.image_config(), base_size=self.base_size, cell=self.cell,
                      base_layers=self.base_layers, base_hidden_units=self.base_hidden_units,
                      num_layers=self.num_layers, hidden_units=self.hidden_units,
                      first_kernel_size=self.first_kernel_size, full_past=self.full_past,
                      context_layers=self.context_layers,
                      context_filters=self.context_filters, dropout=self.dropout)
        return config


@register("multiscale_pixelrnn")
class MultiscalePixelRNN(ImageDistribution):
    """The Multi-Scale PixelRNN (PixelRNN paper §3.5) over images [H, W, C] of integers in
    [0, V); see the module docstring.

        d = tfar.MultiscalePixelRNN(image_shape=(32, 32, 1), num_values=2, base_size=8,
                                    cell="diagonal_bilstm")
        d.log_prob(x)                                   # exact: base + conditional terms
        big = d.complete(x_with_small_pixels, d.base_mask(), seed=(1, 2))

    Args:
      image_shape: (H, W, C) with H = f · b_h, W = f · b_w, f >= 2.
      num_values: V.
      base_size: b or (b_h, b_w): the small image, x[::f, ::f].
      cell, base_layers, base_hidden_units, num_layers, hidden_units, first_kernel_size,
        full_past, context_layers, context_filters, dropout: see
        `MultiscalePixelRNNNetwork`.
      likelihood: "bernoulli", "categorical" or "logistic_mixture"; None: "bernoulli" for
        V = 2, else "categorical".
      num_mixtures: components of the logistic mixture.
      conditional_shape, conditioning, text_encoder: a vector-valued condition (a vector,
        a class label, a caption; `tfar.conditioning`) for both PixelRNNs.
      network: a built `MultiscalePixelRNNNetwork` to wrap.
      dtype, validate_args, name: as `tfar.PixelRNN`.
    """

    def __init__(self, image_shape, num_values=2, base_size=8, cell="diagonal_bilstm",
                 base_layers=2, base_hidden_units=16, num_layers=2, hidden_units=16,
                 first_kernel_size=7, full_past=None, context_layers=2, context_filters=32,
                 dropout=0.0, likelihood=None, num_mixtures=5, conditional_shape=None,
                 conditioning=None, text_encoder=None, network=None, dtype=tf.float32,
                 validate_args=False, name="MultiscalePixelRNN"):
        parameters = dict(locals())
        parameters["full_past"] = full_past = resolve_full_past(full_past, check_cell(cell))
        image_shape, head, conditioning = image_arguments(
            image_shape, num_values, likelihood, num_mixtures,
            conditional_shape=conditional_shape, conditioning=conditioning,
            text_encoder=text_encoder)
        if network is None:
            network = MultiscalePixelRNNNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                base_size=base_size, cell=cell, base_layers=base_layers,
                base_hidden_units=base_hidden_units,
                num_layers=num_layers, hidden_units=hidden_units,
                first_kernel_size=first_kernel_size, full_past=full_past,
                context_layers=context_layers, context_filters=context_filters,
                dropout=dropout, conditioning=conditioning,
                name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, image_shape, num_values, head, conditioning, dtype,
                         validate_args, parameters, name, schedule=network.schedule())

    @property
    def base_size(self):
        return self._network.base_size

    @property
    def sampling_methods(self):
        """"naive" (the whole network per step) and "cached", the default
        (`MultiscalePixelRNNSampler`: each PixelRNN's cached sampler)."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return MultiscalePixelRNNSampler(self._network, c, components)
        return super()._make_sampler(method, c, components)

    def base_mask(self):
        """bool [H, W, C]: True at the small image's pixels (observe them in `complete` to
        super-resolve a small image)."""
        return subsampled_mask(self._network.image_shape, self._network.factor)
