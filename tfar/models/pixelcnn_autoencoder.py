"""The PixelCNN auto-encoder: a conv encoder to a code and a Gated PixelCNN decoder
conditioned on it.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image
Generation with PixelCNN Decoders", NIPS 2016, §2.4 and §3.4 (PixelCNN auto-encoders): a
deterministic conv encoder maps x to a code h, and a Gated PixelCNN conditioned on the
vector h (eq. 4) reconstructs x; trained end to end on −log p(x | encode(x)).

    x [B, H, W, C] in [0, V) ──conv encoder──► h [B, code_size] ──► Gated PixelCNN p(x | h)

The decoder is the repository's `tfar.GatedPixelCNN`, wrapping the network's own Gated
PixelCNN sub-network, so it samples with its cached sampler; the plumbing it shares with
PixelVAE is `tfar.models.latent`. (A model module that imports a sibling: its decoder
*is* a Gated PixelCNN.)
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar.inputs import COMPUTE_DTYPE, unless_empty
from tfar.layers.encoders import ConvEncoder
from tfar.models.gated_pixelcnn import GatedPixelCNN
from tfar.models.image import check_image_shape, image_head
from tfar.models.latent import (EncoderDecoderDistribution, EncoderDecoderNetwork,
                                check_network, check_positive)
from tfar.registry import register


# --------------------------------------------------------------------------- network

@keras.saving.register_keras_serializable(package="tfar")
class PixelCNNAutoEncoderNetwork(EncoderDecoderNetwork):
    """Every weight of a PixelCNN auto-encoder: the encoder x -> h and the Gated PixelCNN
    conditioned on the vector h.

        call(images [B, H, W, C] in [0, V)) -> h [B, code_size]

    Args:
      image_shape, num_values, params_size, values_per_unit, encoder_filters, num_layers,
        num_filters, first_kernel_size, kernel_size: see
        `tfar.models.latent.EncoderDecoderNetwork`.
      code_size: the size of h.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1, code_size=10,
                 encoder_filters=32, num_layers=3, num_filters=32, first_kernel_size=7,
                 kernel_size=3, **kwargs):
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         encoder_filters, num_layers, num_filters, first_kernel_size,
                         kernel_size, dict(conditional_size=int(code_size)), **kwargs)
        self.code_size = int(code_size)
        self.encoder = ConvEncoder(self.encoder_filters, self.code_size, name="encoder")

    def build(self, input_shape):
        """Creates every variable, by one pass of each part on zeros."""
        self.pixelcnn(tf.zeros([1, int(np.prod(self.image_shape))]),
                      conditional_input=self.encode(tf.zeros((1,) + self.image_shape)))

    def call(self, images):
        return self.encode(images)

    def encode(self, images, training=False):
        """images [B, H, W, C] in [0, V) -> h [B, code_size], float32."""
        return tf.cast(self.encoder(self.scale(images), training=training), COMPUTE_DTYPE)

    def get_config(self):
        config = super().get_config()
        config.update(code_size=self.code_size)
        return config


# --------------------------------------------------------------------------- distribution

@register("pixelcnn_autoencoder")
class PixelCNNAutoEncoder(EncoderDecoderDistribution):
    """The PixelCNN auto-encoder (van den Oord et al. 2016, §2.4, §3.4): a conv encoder
    x -> h [code_size] and a Gated PixelCNN p(x | h) conditioned on the vector h.

        ae = tfar.PixelCNNAutoEncoder(image_shape=(28, 28, 1), num_values=2, code_size=10)
        h = ae.encode(x)                                  # [B, 10]
        ae.log_prob(x, conditional_input=h)               # log p(x | h), normalized over x
        ae.reconstruction_log_prob(x)                     # log p(x | encode(x))
        ae.sample(4, seed=(1, 2), conditional_input=h)    # x' ~ p(x | h)

    `conditional_shape` is (code_size,): `log_prob` and `sample` are those of the
    conditional density p(x | h) and need the code h (so an export's standard signatures
    take it as `conditional_input`). The model has no prior over codes, so it has no
    likelihood of x alone: log p(x | encode(x)), the reconstruction objective, is not
    normalized over x (the code depends on x), and is `reconstruction_log_prob`, the
    figure the trainer reports as `test_reconstruction_nll_nats`.

    Args:
      image_shape: (H, W, C).
      num_values: V.
      code_size: the size of h.
      num_layers, num_filters, first_kernel_size, likelihood, num_mixtures: the Gated
        PixelCNN decoder's (see `tfar.PixelVAE`).
      encoder_filters: F of the conv encoder.
      network: a `PixelCNNAutoEncoderNetwork` to wrap.
      dtype, validate_args, name: as `tfar.PixelVAE`.
    """

    def __init__(self, image_shape, num_values=2, code_size=10, num_layers=3, num_filters=32,
                 first_kernel_size=7, encoder_filters=32, likelihood=None, num_mixtures=5,
                 network=None, dtype=tf.float32, validate_args=False,
                 name="PixelCNNAutoEncoder"):
        parameters = dict(locals())
        image_shape = check_image_shape(image_shape)
        check_positive(code_size=code_size, num_layers=num_layers, num_filters=num_filters,
                       first_kernel_size=first_kernel_size, encoder_filters=encoder_filters,
                       num_mixtures=num_mixtures)
        head = image_head(likelihood, num_values, image_shape[-1], num_mixtures)
        if network is None:
            network = PixelCNNAutoEncoderNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                code_size=code_size, encoder_filters=encoder_filters, num_layers=num_layers,
                num_filters=num_filters, first_kernel_size=first_kernel_size,
                name=f"{name}_network").build_variables()
        else:
            check_network(network, PixelCNNAutoEncoderNetwork, dict(
                image_shape=image_shape, num_values=int(num_values),
                params_size=head.params_size, values_per_unit=head.values_per_unit,
                code_size=int(code_size)), name)
        parameters["network"] = network
        decoder = GatedPixelCNN(
            image_shape, num_values, network.num_layers, network.num_filters,
            network.first_kernel_size, network.kernel_size, likelihood=likelihood,
            num_mixtures=num_mixtures, conditional_shape=(network.code_size,),
            network=network.pixelcnn, dtype=dtype, validate_args=validate_args,
            name=f"{name}_decoder")
        super().__init__(network, decoder, (network.code_size,), dtype, validate_args,
                         parameters, name)

    @property
    def code_size(self):
        return self._network.code_size

    def encode(self, x):
        """The code h = encoder(x): x [..., H, W, C] -> float32 [..., code_size]."""
        images, batch_shape = self._images(x)
        return tf.reshape(self._network.encode(images),
                          tf.concat([batch_shape, [self.code_size]], 0))

    def _log_prob(self, x, conditional_input=None):
        """log p(x | h) in nats, [...], for x [..., H, W, C] and the code h
        `conditional_input` [..., code_size] (batch dims broadcast): the normalized
        density of x given h. Without a code it is an error: see
        `reconstruction_log_prob`."""
        if conditional_input is None:
            raise ValueError(
                f"{self.name}: log_prob needs a code: pass conditional_input=h of shape "
                f"[..., {self.code_size}] (e.g. encode(x)). The auto-encoder has no prior "
                "over codes, so no likelihood of x alone; for log p(x | encode(x)), the "
                "reconstruction objective (not normalized over x), call "
                "reconstruction_log_prob(x).")
        return self._decoder.log_prob(x, conditional_input=conditional_input)

    def reconstruction_log_prob(self, x):
        """log p(x | encode(x)) in nats, [...], for x [..., H, W, C]: the paper's
        reconstruction objective. Not a normalized density over x (the code depends on
        x): a reconstruction figure, not a likelihood."""
        with tf.name_scope(f"{self.name}/reconstruction_log_prob"):
            images, batch_shape = self._images(x)
            value = unless_empty(
                images, lambda: self._decoder_log_prob(images, self._network.encode(images)),
                lambda: tf.zeros([0], COMPUTE_DTYPE))
            return tf.reshape(value, batch_shape)

    @property
    def evaluation_metric(self):
        """"reconstruction_nll": the trainer reports −`reconstruction_log_prob`."""
        return "reconstruction_nll"

    def evaluation_log_prob(self, x, conditional_input=None, seed=None):
        """`reconstruction_log_prob(x)`: [...] nats (deterministic; `seed` unused)."""
        del seed
        if conditional_input is not None:
            raise ValueError(f"{self.name}: the reconstruction figure uses the model's own "
                             "code; conditional_input must be None.")
        return self.reconstruction_log_prob(x)

    def _sample_n(self, n, seed=None, conditional_input=None, method=None, jit_compile=False):
        """x ~ p(x | h): conditional_input h [rows, code_size] is required, n a multiple
        of its rows (sample i uses row i mod rows, as `tfar.GatedPixelCNN`)."""
        if conditional_input is None:
            raise ValueError(f"{self.name}: sample needs a code: pass conditional_input=h of "
                             f"shape [rows, {self.code_size}] (e.g. encode(x)); the "
                             "auto-encoder has no prior over codes.")
        return self._decoder.sample(n, seed=seed, conditional_input=conditional_input,
                                    method=method, jit_compile=jit_compile)

    def training_terms(self, x, conditional_input=None, seed=None, step=None):
        """{"loss": mean −log p(x | encode(x))} (nats per image), the networks in training
        mode (dropout, if any, from `seed`); `step` is unused. `conditional_input` must be
        None: the model trains on its own code."""
        del step
        if conditional_input is not None:
            raise ValueError(f"{self.name}: training_terms trains on the model's own code "
                             "encode(x); conditional_input must be None.")
        images, _ = self._images(x)
        code = self._network.encode(images, training=True)
        return {"loss": -tf.reduce_mean(self._decoder.training_log_prob(images, code, seed))}

    def training_loss(self, x, conditional_input=None, seed=None):
        """`training_terms(x, conditional_input, seed)["loss"]`."""
        return self.training_terms(x, conditional_input, seed)["loss"]

    def evaluation_images(self, x, seed=None, conditional_input=None):
        """{"reconstructions": int32 [2, m, H, W, C]}, m = min(N, 8): test images x
        [N, H, W, C], then a sample of p(x' | encode(x)) for each. `conditional_input`
        must be None."""
        if conditional_input is not None:
            raise ValueError(f"{self.name}: evaluation_images reconstructs from the model's "
                             "own code; conditional_input must be None.")
        images, _ = self._images(x)
        seed = tfp.random.sanitize_seed(seed, salt="autoencoder_evaluation_images")

        @tf.function
        def grid(images, seed):
            shown = images[:8]
            reconstructions = self._decoder.sample(
                tf.shape(shown)[0], seed=seed, conditional_input=self._network.encode(shown))
            return {"reconstructions": tf.cast(tf.stack(
                [shown, tf.cast(reconstructions, COMPUTE_DTYPE)]), tf.int32)}

        return grid(images, seed)

    def serving_signatures(self):
        """The export endpoints beyond the standard ones (which take the code as
        `conditional_input`): name -> (function, input specs).

        - "reconstruction_log_prob": images [B, H, W, C] -> {"reconstruction_log_prob":
          [B]}, log p(x | encode(x));
        - "encode": images -> {"code": [B, code_size]}.
        """
        images = self._image_spec()

        def reconstruction_log_prob(images):
            return {"reconstruction_log_prob": self.reconstruction_log_prob(images)}

        def encode(images):
            return {"code": self.encode(images)}

        return {"reconstruction_log_prob": (reconstruction_log_prob, [images]),
                "encode": (encode, [images])}
