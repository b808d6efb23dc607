"""What PixelVAE and the PixelCNN auto-encoder share: an encoder to a latent (a Gaussian
posterior, or a deterministic code) and a Gated PixelCNN decoder conditioned on it.

`EncoderDecoderNetwork` is their Keras network base (image shape and values, input
scaling, the Gated PixelCNN sub-network `pixelcnn`), `EncoderDecoderDistribution` their
`tfd.Distribution` base (a `tfar.GatedPixelCNN` decoder over that sub-network, image
checks, export specs); `check_network` and `check_positive` their argument checks. The
models are `tfar.models.pixelvae` and `tfar.models.pixelcnn_autoencoder`; their encoder
is `tfar.layers.encoders.ConvEncoder`. (It imports the sibling `gated_pixelcnn`: these
models' decoder *is* a Gated PixelCNN.)
"""

import numpy as np
import tensorflow as tf

import keras

from tfar.conditioning import Vector
from tfar.distribution import NetworkDistribution
from tfar.network import check_compatible
from tfar.models.gated_pixelcnn import GatedPixelCNNNetwork


def check_positive(**values):
    """A ValueError unless every value is a positive int (a bool is not)."""
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{key} must be a positive int; got {value!r}.")


def check_network(network, network_class, expected, owner):
    """A ValueError unless `network` is a `network_class` whose config has `expected`
    (`tfar.network.check_compatible` on the config)."""
    found = network.get_config() if isinstance(network, network_class) else None
    check_compatible(network, expected, owner, network_class, found)


# --------------------------------------------------------------------------- network

class EncoderDecoderNetwork(keras.Model):
    """What both networks share: the image shape and values, the input scaling, and a
    Gated PixelCNN decoder (`GatedPixelCNNNetwork`) named `pixelcnn`.

    Args:
      image_shape: (H, W, C).
      num_values: V.
      params_size, values_per_unit: of the decoder's head (`tfar.likelihoods`).
      encoder_filters: F of the `tfar.layers.ConvEncoder`.
      num_layers, num_filters, first_kernel_size, kernel_size: of the Gated PixelCNN.
      condition: the decoder's condition, `conditional_size=` or
        `spatial_conditional_shape=` (a dict).
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit, encoder_filters,
                 num_layers, num_filters, first_kernel_size, kernel_size, condition, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.num_values, self.params_size = int(num_values), int(params_size)
        self.values_per_unit, self.encoder_filters = int(values_per_unit), int(encoder_filters)
        self.num_layers, self.num_filters = int(num_layers), int(num_filters)
        self.first_kernel_size, self.kernel_size = int(first_kernel_size), int(kernel_size)
        self.pixelcnn = GatedPixelCNNNetwork(
            self.image_shape, self.num_values, self.params_size, self.values_per_unit,
            num_layers=self.num_layers, num_filters=self.num_filters,
            first_kernel_size=self.first_kernel_size, kernel_size=self.kernel_size,
            name="pixelcnn", **condition)

    def scale(self, images):
        """Values in [0, V) -> the encoder's inputs in [-1, 1]."""
        return images * (2.0 / (self.num_values - 1)) - 1.0

    def build_variables(self):
        """Creates every variable (one call on a zero image); returns the network."""
        self(tf.zeros((1,) + self.image_shape))
        return self

    def get_config(self):
        config = super().get_config()
        config.update(image_shape=self.image_shape, num_values=self.num_values,
                      params_size=self.params_size, values_per_unit=self.values_per_unit,
                      encoder_filters=self.encoder_filters, num_layers=self.num_layers,
                      num_filters=self.num_filters, first_kernel_size=self.first_kernel_size,
                      kernel_size=self.kernel_size)
        return config


# --------------------------------------------------------------------------- distribution

class EncoderDecoderDistribution(NetworkDistribution):
    """The plumbing PixelVAE and the PixelCNN auto-encoder share: a distribution over
    images [H, W, C] of integers in [0, V) (batch shape [], any leading dims of x are
    batch dims) with a Keras network holding every weight and a `tfar.GatedPixelCNN`
    decoder wrapping the network's `pixelcnn`.

    Args:
      network: the built `EncoderDecoderNetwork`.
      decoder: the `tfar.GatedPixelCNN` over `network.pixelcnn`.
      conditional_shape: what `conditional_input` holds, or None for none.
      dtype, validate_args, parameters, name: as `tfd.Distribution`.
    """

    def __init__(self, network, decoder, conditional_shape, dtype, validate_args, parameters,
                 name):
        self._decoder = decoder
        super().__init__(network, network.image_shape, network.num_values,
                         None if conditional_shape is None else Vector(conditional_shape),
                         dtype, validate_args, parameters=parameters, name=name)

    @classmethod
    def from_data(cls, event_shape, num_values, seed=None, **fields):
        """`cls(image_shape=event_shape, num_values=…, **fields)` (`tfar.registry`); the
        model draws nothing from a seed at construction."""
        del seed
        return cls(image_shape=event_shape, num_values=num_values, **fields)

    @property
    def decoder_distribution(self):
        """The decoder, a `tfar.GatedPixelCNN` over the network's `pixelcnn`."""
        return self._decoder

    @property
    def likelihood(self):
        """The decoder's per-unit head (`tfar.likelihoods.Likelihood`)."""
        return self._decoder.likelihood

    @property
    def sampling_methods(self):
        """The decoder's samplers; the last ("cached") is the default."""
        return self._decoder.sampling_methods

    def _images(self, x):
        """x [..., H, W, C] -> checked float32 images [B, H, W, C] and the batch shape."""
        x = self._check_values(x)
        batch_shape = tf.shape(x)[:-3]
        return tf.reshape(x, [-1] + self._static_event_shape.as_list()), batch_shape

    def _decoder_log_prob(self, images, condition):
        """log p(x | condition) [B] under the decoder: images [B, H, W, C] float32."""
        return self._decoder.log_prob(tf.cast(images, self.dtype), conditional_input=condition)

    def _image_spec(self):
        return tf.TensorSpec([None] + self._static_event_shape.as_list(), self.dtype,
                             name="images")
