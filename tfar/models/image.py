"""The image base the image models share: their network base, head, schedule and shape checks.

An image model is a distribution over [H, W, C] integer images in raster order (row by
row, left to right; van den Oord et al., "Pixel Recurrent Neural Networks", ICML 2016,
§2.1): with a per-sub-pixel head (Bernoulli, categorical) each step writes one sub-pixel,
R then G then B (channel groups inside the network keep them causal, §3.4); with the
logistic mixture (PixelCNN++) each step writes a whole pixel, its channels coupled in the
head. `tfar.models.pixelcnn`, `tfar.models.gated_pixelcnn` and the models to come import
this module, never each other.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar.autoregressive import AutoregressiveDistribution, check_event_shape, head_for
from tfar.conditioning import from_arguments
from tfar.layers.dropout import check_rate, dropout
from tfar.layers.masked import MaskedConv2D
from tfar.network import PARAMS_DTYPE, AutoregressiveNetwork
from tfar.schedule import GenerationSchedule


class ImageNetwork(AutoregressiveNetwork):
    """What every image network shares: flat values [B, D] in, params [1, B, U, P] out.

    Inputs are rescaled to [-1, 1] images [B, H, W, C]; the output features at each pixel
    are reshaped to one row of P params per unit (per sub-pixel, or per pixel for a head
    with `values_per_unit` = C). `groups` is C for per-sub-pixel heads (channel masks) and
    1 otherwise; `output_features` = P times the units per pixel.

    Args:
      image_shape: (H, W, C).
      num_values, params_size, conditional_size: see `tfar.network.AutoregressiveNetwork`.
      values_per_unit: values one params row models: 1 (a sub-pixel) or C (a pixel).
      **kwargs: `conditioning` (`tfar.network.AutoregressiveNetwork`) and `keras.Model`'s.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1,
                 conditional_size=None, **kwargs):
        image_shape = tuple(int(s) for s in image_shape)
        num_dims = int(np.prod(image_shape))
        super().__init__(num_dims, num_values, params_size,
                         num_units=num_dims // int(values_per_unit),
                         conditional_size=conditional_size, **kwargs)
        self.image_shape = image_shape
        self.values_per_unit = int(values_per_unit)
        channels = self.image_shape[-1]
        self.groups = channel_groups(self.image_shape, self.values_per_unit)
        self.output_features = (channels if self.values_per_unit == 1 else 1) * self.params_size

    def images(self, inputs):
        """[B, D] values in [0, V) -> [B, H, W, C] in [-1, 1]."""
        return self.scale(tf.reshape(inputs, (-1,) + self.image_shape))

    def scale(self, values):
        """Values in [0, V) (any shape) -> the network's inputs in [-1, 1]."""
        return values * (2.0 / (self.num_values - 1)) - 1.0

    def params(self, features):
        """[B, H, W, output_features] -> [1, B, U, P]."""
        return tf.reshape(features, [1, tf.shape(features)[0], -1, self.params_size])

    def image_config(self):
        return dict(image_shape=self.image_shape, num_values=self.num_values,
                    params_size=self.params_size, values_per_unit=self.values_per_unit,
                    conditioning=self.conditioning_config())

    @classmethod
    def from_config(cls, config):
        """Configs saved before the schedule existed named `values_per_unit` `values_per_step`."""
        config = dict(config)
        if "values_per_step" in config:
            config["values_per_unit"] = config.pop("values_per_step")
        return super().from_config(config)


class ResidualStreamNetwork(ImageNetwork):
    """The layout PixelCNN and PixelRNN share (PixelRNN paper §3.3, §3.5, Figure 5): a
    mask-A `first_kernel_size`² convolution reads the image into a residual stream of
    `stream_features`; each of `num_layers` layers adds `residual(i, x, images)` to it (and, with
    a vector condition, a learned linear term of it); ReLU, a 1×1 mask-B hidden layer of
    `output_filters` (default `stream_features`), ReLU and a 1×1 mask-B output layer
    (float32, `PARAMS_DTYPE`) give the params. Every layer uses the head's channel
    `groups`. In training, `dropout` > 0 drops each layer's residual before it is added
    (`tfar.layers.dropout`, from the call's `seed`). Subclasses build their layers and
    define `residual`.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit, conditional_size,
                 num_layers, stream_features, first_kernel_size, output_filters, dropout=0.0,
                 **kwargs):
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, **kwargs)
        self.require_vector_condition()
        self.num_layers, self.first_kernel_size = int(num_layers), int(first_kernel_size)
        self.dropout = check_rate(dropout)
        self.output_filters = int(output_filters or stream_features)
        g = self.groups
        self.input_layer = MaskedConv2D(stream_features, first_kernel_size, "A", g, name="input")
        self.output_hidden = MaskedConv2D(self.output_filters, 1, "B", g, name="output_hidden")
        self.output_layer = MaskedConv2D(self.output_features, 1, "B", g, name="output",
                                         dtype=PARAMS_DTYPE)
        self.conditional_layers = (
            None if self.conditional_size is None else
            [keras.layers.Dense(stream_features, use_bias=False, name=f"conditional_{i}")
             for i in range(self.num_layers + 1)])

    def call(self, inputs, conditional_input=None, training=False, seed=None):
        return self.stream_params(self.images(inputs), self.conditional_biases(conditional_input),
                                  training, seed)

    def stream_params(self, images, bias, training=False, seed=None):
        """The network from its images [B, H, W, C] in [-1, 1] and the stream's biases: []
        or `num_layers` + 1 terms that broadcast to the stream [B, H, W, stream_features]
        (the condition's, `conditional_biases`, or maps such as the Multi-Scale PixelRNN's
        upsampled small image), added after the input layer and each layer -> params."""
        x = self.input_layer(images)
        if bias:
            x = x + bias[0]
        dropout_seeds = None
        if training and self.dropout > 0:
            dropout_seeds = tf.random.experimental.stateless_split(
                tfp.random.sanitize_seed(seed, salt="residual_dropout"), self.num_layers)
        for i in range(self.num_layers):
            y = self.residual(i, x, images)
            if dropout_seeds is not None:
                y = dropout(y, self.dropout, dropout_seeds[i])
            x = x + (y + bias[i + 1] if bias else y)
        y = self.output_layer(tf.nn.relu(self.output_hidden(tf.nn.relu(x))))
        return self.params(y)

    def residual(self, i, x, images):
        """What layer i adds to the stream x [B, H, W, stream_features]; `images` [B, H, W,
        C] in [-1, 1] is the network's input, for a layer whose field may hold the image
        itself (PixelRNN's right-to-left stream, shifted down a row)."""
        raise NotImplementedError

    def conditional_biases(self, conditional_input):
        """The condition's term of the input layer and of each layer: a list of
        [B, 1, 1, stream_features] (empty without a condition)."""
        if self.conditional_layers is None:
            return []
        c = tf.reshape(conditional_input, [-1, self.conditional_size])
        return [layer(c)[:, None, None, :] for layer in self.conditional_layers]


def image_arguments(image_shape, num_values, likelihood, num_mixtures, **condition):
    """An image model constructor's checked arguments: (image_shape (H, W, C), its head
    (`image_head`), its `tfar.conditioning.Conditioning` or None from `condition`:
    conditional_shape, spatial_conditional_shape, conditioning, text_encoder)."""
    image_shape = check_image_shape(image_shape)
    head = image_head(likelihood, num_values, image_shape[-1], num_mixtures)
    return image_shape, head, from_arguments(**condition)


def channel_groups(image_shape, values_per_unit):
    """The feature groups of a masked image network: one per channel with a sub-pixel
    head (PixelRNN paper §3.4: R, G, B), 1 when a step writes a whole pixel."""
    return int(image_shape[-1]) if int(values_per_unit) == 1 else 1


def check_grouped(image_shape, values_per_unit, **features):
    """A ValueError unless each feature count (e.g. num_filters=128) is a multiple of the
    `channel_groups`: a default sized for one channel may not fit three."""
    groups = channel_groups(image_shape, values_per_unit)
    for name, value in features.items():
        if int(value) % groups:
            raise ValueError(
                f"{name}={value} must be a multiple of the {groups} channel groups of a "
                f"{image_shape[-1]}-channel image (each channel's features form a group); "
                f"e.g. {name}={int(value) - int(value) % groups}.")


def image_head(likelihood, num_values, num_channels, num_mixtures):
    """The head of an image model: "bernoulli", "categorical" or "logistic_mixture"."""
    options = (dict(num_channels=num_channels, num_mixtures=num_mixtures)
               if likelihood == "logistic_mixture" else {})
    return head_for(likelihood, num_values, **options)


class ImageDistribution(AutoregressiveDistribution):
    """The distribution of an image network: raster order (see the module docstring), or
    the `schedule` a model gives (the multiscale model's groups)."""

    @classmethod
    def from_data(cls, event_shape, num_values, seed=None, **fields):
        """`cls(image_shape=event_shape, num_values=…, **fields)` (`tfar.registry`); image
        models draw nothing from a seed."""
        del seed
        return cls(image_shape=event_shape, num_values=num_values, **fields)

    def __init__(self, network, image_shape, num_values, head, conditioning, dtype,
                 validate_args, parameters, name, schedule=None):
        if schedule is None:
            num_units = int(np.prod(image_shape)) // head.values_per_unit
            schedule = GenerationSchedule.raster(num_units, head.values_per_unit)
        super().__init__(network, image_shape, num_values, head, schedule,
                         conditioning=conditioning, dtype=dtype,
                         validate_args=validate_args, parameters=parameters, name=name)


def check_image_shape(image_shape):
    """(H, W, C) as a tuple of ints, or a clear error."""
    shape = check_event_shape(image_shape)
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (height, width, channels); got {image_shape!r}.")
    return shape


def check_base_size(base_size):
    """(b_h, b_w) from b or (b_h, b_w), positive ints, or a ValueError."""
    base = (base_size, base_size) if np.ndim(base_size) == 0 else tuple(base_size)
    base = tuple(int(b) for b in base)
    if len(base) != 2 or min(base) < 1:
        raise ValueError(f"base_size must be a positive int or (height, width); got "
                         f"{base_size!r}.")
    return base


def subsampled_mask(image_shape, stride):
    """bool [H, W, C]: True at the pixels x[::stride, ::stride] (the base image)."""
    mask = np.zeros(image_shape, bool)
    mask[::stride, ::stride] = True
    return mask
