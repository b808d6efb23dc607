"""The Parallel Multiscale PixelCNN: coarse to fine, each group of pixels in parallel.

Reed, van den Oord, Kalchbrenner, Gómez Colmenarejo, Wang, Belov, de Freitas, "Parallel
Multiscale Autoregressive Density Estimation", ICML 2017, §3 and Figure 2. An image of
H × W = (b_h · 2^L) × (b_w · 2^L) pixels is modelled as

    p(x) = p(x_0) · Π_{l=0}^{L-1} Π_{g=1}^{3} p(x_{l+1}^g | x_{l+1}^{<g})

where x_l = x[::2^(L-l), ::2^(L-l)] is the image at resolution b·2^l (x_0 the base image,
b_h × b_w) and x_{l+1}^g the pixels of x_{l+1} at position g of every 2×2 block:

    block:  0 1        group 0 = x_l (known), 1 = right, 2 = below, 3 = diagonal
            2 3

p(x_0) is a Gated PixelCNN on the base image (`tfar.models.gated_pixelcnn`, raster order,
its cached sampler). The pixels of a group are conditionally independent given the
earlier groups: their params come from an upscaling ResNet (one per group, shared across
scales) over the space-to-depth of x_{l+1} (b·2^l × b·2^l × 4C) whose groups ≥ g are
left out, so no pixel sees its own group, a later group or a finer scale. For a head
with one unit per sub-pixel and C > 1 channels, a shallow autoregressive output layer
draws a group's channels in turn (R, then G given R, then B), each sub-pixel seeing the
earlier channels of its pixel (`ChannelHead`); the logistic mixture couples them inside
the head. `log_prob` is exact (every pixel modelled once); `sample` makes
b_h·b_w·C (the base) + 3·L·C network evaluations in sequence, O(log N) for N pixels;
`complete` with the base pixels observed super-resolves a b_h × b_w image (§5).

    d = tfar.MultiscalePixelCNN(image_shape=(32, 32, 1), num_values=2, base_size=8)
    d.sample(16, seed=(1, 2))                       # 64 + 6 sequential evaluations
"""

import math

import numpy as np
import tensorflow as tf

import keras

from tfar.layers.tracking import ListsInCheckpoints
from tfar.models.gated_pixelcnn import GatedPixelCNNNetwork
from tfar.models.image import (ImageDistribution, ImageNetwork, check_base_size,
                               image_arguments, subsampled_mask)
from tfar.network import PARAMS_DTYPE
from tfar.registry import register
from tfar.sampling.multiscale import MultiscaleSampler
from tfar.schedule import GenerationSchedule

GROUPS = 3        # the new pixels of a 2×2 block: right, below, diagonal


def levels(image_shape, base_size):
    """(b_h, b_w) and L with (H, W) = (b_h · 2^L, b_w · 2^L), or a ValueError."""
    height, width, _ = image_shape
    base = check_base_size(base_size)
    scales = [height / base[0], width / base[1]]
    num_levels = math.log2(scales[0]) if scales[0] >= 1 else -1
    if scales[0] != scales[1] or num_levels != int(num_levels) or num_levels < 0:
        raise ValueError(f"The image {height}×{width} must be the base {base[0]}×{base[1]} "
                         "doubled L >= 0 times in both dimensions.")
    return base, int(num_levels)


@keras.saving.register_keras_serializable(package="tfar")
class ChannelHead(keras.layers.Layer):
    """The params of a group's pixels: features [B, h, w, F] (and, for C > 1 sub-pixel
    units, the pixels' own values [B, h, w, C] in [-1, 1]) -> [B, h, w, C_u · P], where
    sub-pixel c's P params see the features and the pixel's channels < c (a masked linear
    map, mask B of the PixelRNN paper §3.4 over one pixel's channels). float32 params.

    Args:
      params_size: P.
      units_per_pixel: C_u, C (one unit per sub-pixel) or 1 (a pixel head).
    """

    def __init__(self, params_size, units_per_pixel, **kwargs):
        super().__init__(dtype=PARAMS_DTYPE, **kwargs)
        self.params_size, self.units_per_pixel = int(params_size), int(units_per_pixel)
        self.features = keras.layers.Dense(self.params_size * self.units_per_pixel,
                                           name="features", dtype=PARAMS_DTYPE)
        self.channels = (None if self.units_per_pixel == 1 else keras.layers.Dense(
            self.params_size * self.units_per_pixel, use_bias=False, name="channels",
            dtype=PARAMS_DTYPE))

    def build(self, features_shape):
        self.features.build(features_shape)
        if self.channels is not None:
            self.channels.build((None, self.units_per_pixel))
        c, p = self.units_per_pixel, self.params_size
        # input channel j reaches the params of sub-pixel c > j only
        self._mask = tf.constant(np.repeat(np.triu(np.ones((c, c)), 1), p, axis=1),
                                 tf.float32)

    def call(self, features, own=None):
        params = self.features(features)
        if self.channels is not None:
            kernel = tf.convert_to_tensor(self.channels.kernel) * self._mask
            params = params + tf.einsum("bhwc,cq->bhwq", tf.cast(own, kernel.dtype), kernel)
        return params

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        config.update(params_size=self.params_size, units_per_pixel=self.units_per_pixel)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class UpscalingNetwork(ListsInCheckpoints, keras.layers.Layer):
    """One group's conditionals: the known groups of x_{l+1} in space-to-depth form
    [B, h, w, g·C] in [-1, 1] (and a condition vector [B, K]) -> params [B, h, w, C_u·P]:
    a 3×3 convolution, `num_blocks` residual blocks (ReLU, 3×3, ReLU, 3×3; the condition
    added to each through a learned linear map), ReLU, `ChannelHead`. Unmasked: its input
    holds only pixels of earlier groups and scales.

    Args:
      filters: F.
      num_blocks: residual blocks.
      params_size, units_per_pixel: of the `ChannelHead`.
      conditional_size: K of the condition vector, or None.
    """

    def __init__(self, filters, num_blocks, params_size, units_per_pixel,
                 conditional_size=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.num_blocks = int(filters), int(num_blocks)
        self.params_size, self.units_per_pixel = int(params_size), int(units_per_pixel)
        self.conditional_size = None if conditional_size is None else int(conditional_size)
        self.input_layer = keras.layers.Conv2D(self.filters, 3, padding="same", name="input")
        self.blocks = [
            (keras.layers.Conv2D(self.filters, 3, padding="same", name=f"block_{i}_a"),
             keras.layers.Conv2D(self.filters, 3, padding="same", name=f"block_{i}_b"))
            for i in range(self.num_blocks)]
        self.conditional_layers = (
            None if self.conditional_size is None else
            [keras.layers.Dense(self.filters, use_bias=False, name=f"conditional_{i}")
             for i in range(self.num_blocks)])
        self.head = ChannelHead(self.params_size, self.units_per_pixel, name="head")

    def build(self, input_shape):
        shape = (None, None, None, input_shape[-1])
        self.input_layer.build(shape)
        inner = (None, None, None, self.filters)
        for a, b in self.blocks:
            a.build(inner)
            b.build(inner)
        for layer in self.conditional_layers or []:
            layer.build((None, self.conditional_size))
        self.head.build(inner)

    def call(self, known, condition=None, own=None):
        h = self.input_layer(known)
        for i, (a, b) in enumerate(self.blocks):
            y = b(tf.nn.relu(a(tf.nn.relu(h))))
            if self.conditional_layers is not None:
                y = y + self.conditional_layers[i](condition)[:, None, None, :]
            h = h + y
        return self.head(tf.nn.relu(h), own)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, num_blocks=self.num_blocks,
                      params_size=self.params_size, units_per_pixel=self.units_per_pixel,
                      conditional_size=self.conditional_size)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class MultiscalePixelCNNNetwork(ImageNetwork):
    """values [B, D] (+ the condition's vector features) -> params [1, B, U, P] of every
    unit, in the image's raster unit order: the base image's from a Gated PixelCNN
    (`base`), group g's at each scale from `upscalers[g - 1]` (see the module docstring).

    Args:
      image_shape, num_values, params_size, values_per_unit: see `ImageNetwork`.
      base_size: b, or (b_h, b_w): H = b_h · 2^L, W = b_w · 2^L.
      base_layers, base_filters, base_kernel_size: the base Gated PixelCNN's layers,
        filters and first-layer receptive field.
      upscale_blocks, upscale_filters: each upscaling ResNet's blocks and filters.
      conditioning / conditional_size: a vector-valued condition (see
        `tfar.network.AutoregressiveNetwork`); it reaches the base's gates and every
        upscaling block.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1, base_size=4,
                 base_layers=5, base_filters=64, base_kernel_size=5, upscale_blocks=4,
                 upscale_filters=64, conditional_size=None, **kwargs):
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, **kwargs)
        self.require_vector_condition()
        (self.base_height, self.base_width), self.num_levels = levels(self.image_shape,
                                                                      base_size)
        self.base_size = (self.base_height, self.base_width)
        self.base_layers, self.base_filters = int(base_layers), int(base_filters)
        self.base_kernel_size = int(base_kernel_size)
        self.upscale_blocks, self.upscale_filters = int(upscale_blocks), int(upscale_filters)
        channels = self.image_shape[-1]
        self.units_per_pixel = self.output_features // self.params_size
        self.base = GatedPixelCNNNetwork(
            (self.base_height, self.base_width, channels), num_values, params_size,
            values_per_unit, conditional_size=self.conditional_size,
            num_layers=self.base_layers, num_filters=self.base_filters,
            first_kernel_size=self.base_kernel_size, name="base")
        self.upscalers = [UpscalingNetwork(self.upscale_filters, self.upscale_blocks,
                                           params_size, self.units_per_pixel,
                                           self.conditional_size, name=f"upscale_group_{g}")
                          for g in range(1, GROUPS + 1)]

    # ---------------------------------------------------------------- layout

    def stride(self, level):
        """The full image's stride of resolution level `level`: 2^(L - level)."""
        return 2 ** (self.num_levels - level)

    def base_units(self):
        """int [b_h · b_w · C_u]: the image's units of the base image, in its raster order."""
        height, width, _ = self.image_shape
        t, u = self.stride(0), self.units_per_pixel
        ys, xs = np.meshgrid(np.arange(0, height, t), np.arange(0, width, t), indexing="ij")
        pixels = (ys * width + xs).reshape(-1)
        return (pixels[:, None] * u + np.arange(u)).reshape(-1)

    def group_units(self, level, group):
        """int [h · w, C_u]: the image's units of group `group` (1…3) added by doubling
        level `level` → `level` + 1 (h × w = the base · 2^level), block by block."""
        height, width, _ = self.image_shape
        t, u = self.stride(level + 1), self.units_per_pixel
        dy, dx = divmod(group, 2)
        ys = np.arange(dy * t, height, 2 * t)
        xs = np.arange(dx * t, width, 2 * t)
        pixels = (ys[:, None] * width + xs[None, :]).reshape(-1)
        return pixels[:, None] * u + np.arange(u)

    def group_steps(self):
        """The steps after the base's, in order: (level, group, channel) for each doubling
        level, group 1…3 and (for sub-pixel units; else 0) channel."""
        return [(level, group, c) for level in range(self.num_levels)
                for group in range(1, GROUPS + 1) for c in range(self.units_per_pixel)]

    def schedule(self):
        """The `GenerationSchedule`: the base's units one per step, then one step per
        `group_steps` entry, every unit of the group (at that channel) at once."""
        steps = [[unit] for unit in self.base_units()]
        steps += [list(self.group_units(level, group)[:, c])
                  for level, group, c in self.group_steps()]
        return GenerationSchedule.groups(steps, unit_size=self.values_per_unit)

    # ---------------------------------------------------------------- the parts

    def _image(self, inputs):
        """[B, D] values -> [B, H, W, C] values (not rescaled)."""
        return tf.reshape(inputs, (-1,) + self.image_shape)

    def base_values(self, inputs):
        """[B, D] -> the base image's flat values [B, b_h · b_w · C]."""
        t = self.stride(0)
        base = self._image(inputs)[:, ::t, ::t]
        return tf.reshape(base, [tf.shape(inputs)[0], -1])

    def group_params(self, inputs, level, group, condition=None):
        """Params [B, h · w, C_u, P] of group `group` at doubling `level` (the units of
        `group_units(level, group)`), from the known groups of the image [B, D]."""
        t = self.stride(level + 1)
        channels = self.image_shape[-1]
        fine = tf.nn.space_to_depth(self.scale(self._image(inputs)[:, ::t, ::t]), 2)
        known = fine[..., :group * channels]                           # groups < g
        own = fine[..., group * channels:(group + 1) * channels]
        params = self.upscalers[group - 1](known, condition, own)    # [B, h, w, C_u·P]
        return tf.reshape(params, [tf.shape(inputs)[0], -1, self.units_per_pixel,
                                   self.params_size])

    def call(self, inputs, conditional_input=None, training=False, seed=None):
        del training, seed  # no dropout
        batch = tf.shape(inputs)[0]
        pieces = [(self.base_units(),
                   tf.reshape(self.base(self.base_values(inputs),
                                        conditional_input=conditional_input)[0],
                              [batch, -1, self.params_size]))]
        for level in range(self.num_levels):
            for group in range(1, GROUPS + 1):
                params = self.group_params(inputs, level, group, conditional_input)
                pieces.append((self.group_units(level, group).reshape(-1),
                               tf.reshape(params, [batch, -1, self.params_size])))
        order = np.argsort(np.concatenate([units for units, _ in pieces]))
        params = tf.gather(tf.concat([p for _, p in pieces], axis=1), order, axis=1)
        return tf.cast(params, tf.float32)[None]                          # [1, B, U, P]

    def get_config(self):
        config = super().get_config()
        config.update(self.image_config(), base_size=self.base_size,
                      base_layers=self.base_layers, base_filters=self.base_filters,
                      base_kernel_size=self.base_kernel_size,
                      upscale_blocks=self.upscale_blocks, upscale_filters=self.upscale_filters)
        return config


@register("multiscale_pixelcnn")
class MultiscalePixelCNN(ImageDistribution):
    """The Parallel Multiscale PixelCNN (Reed et al. 2017) over images [H, W, C] of
    integers in [0, V); see the module docstring.

        d = tfar.MultiscalePixelCNN(image_shape=(32, 32, 1), num_values=2, base_size=8,
                                    likelihood="bernoulli")
        d.log_prob(x)                                    # exact, one pass per group
        d.sample(16, seed=(1, 2))                        # O(log N) sequential steps
        big = d.complete(x_with_base_pixels, base_mask, seed=(1, 2))   # super-resolution

    Args:
      image_shape: (H, W, C) with H = b_h · 2^L, W = b_w · 2^L.
      num_values: V.
      base_size: b or (b_h, b_w): the base image the Gated PixelCNN models.
      base_layers, base_filters, base_kernel_size, upscale_blocks, upscale_filters: see
        `MultiscalePixelCNNNetwork`.
      likelihood: "bernoulli" (V = 2), "categorical" (default) or "logistic_mixture".
      num_mixtures: components of the logistic mixture.
      conditional_shape, conditioning, text_encoder: a vector-valued condition (a vector,
        a class label, a caption; `tfar.conditioning`), at most one.
      network: a built `MultiscalePixelCNNNetwork` to wrap.
      dtype, validate_args, name: as `tfar.PixelCNN`.
    """

    def __init__(self, image_shape, num_values=256, base_size=4, base_layers=5,
                 base_filters=64, base_kernel_size=5, upscale_blocks=4, upscale_filters=64,
                 likelihood="categorical", num_mixtures=5, conditional_shape=None,
                 conditioning=None, text_encoder=None, network=None, dtype=tf.float32,
                 validate_args=False, name="MultiscalePixelCNN"):
        parameters = dict(locals())
        image_shape, head, conditioning = image_arguments(
            image_shape, num_values, likelihood, num_mixtures,
            conditional_shape=conditional_shape, conditioning=conditioning,
            text_encoder=text_encoder)
        if network is None:
            network = MultiscalePixelCNNNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                base_size=base_size, base_layers=base_layers, base_filters=base_filters,
                base_kernel_size=base_kernel_size, upscale_blocks=upscale_blocks,
                upscale_filters=upscale_filters, conditioning=conditioning,
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
        (`MultiscaleSampler`: the base's cached sampler, then one upscaling network per
        group step)."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return MultiscaleSampler(self._network, c, components)
        return super()._make_sampler(method, c, components)

    def base_mask(self):
        """bool [H, W, C]: True at the base image's pixels (observe them in `complete` to
        super-resolve a base image)."""
        return subsampled_mask(self._network.image_shape, self._network.stride(0))
