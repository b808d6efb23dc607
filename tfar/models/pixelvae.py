"""PixelVAE: a VAE whose decoder is a Gated PixelCNN conditioned on a map of the latent.

Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez, Courville, "PixelVAE: A Latent Variable
Model for Natural Images", ICLR 2017, §3 and Figure 1: a VAE (Kingma & Welling 2014)
whose decoder p(x | z) is a PixelCNN conditioned on a spatial map of the latent z, so a
few autoregressive layers suffice for the local detail (§4.1: binarized MNIST), and the
latent carries the global structure. §3.1 (hierarchical architecture): with two levels,
z2 ~ N(0, I), z1 ~ p(z1 | z2), x ~ p(x | z1), inferred by q(z1 | x) q(z2 | z1). Here:

    x [B, H, W, C] in [0, V) ──conv encoder──► q(z1 | x) = N(μ(x), diag σ(x)²)
    num_levels = 2:   z1 ──MLP──► q(z2 | z1);   z2 ──MLP──► p(z1 | z2)   (p(z2) = N(0, I))
    z1 [B, d] ──Dense, ReLU, 3×3 conv──► map [B, h', w', c'] ──► Gated PixelCNN p(x | map)

(h', w') = (H/4, W/4) per dimension where 4 divides it, else (H, W); the Gated PixelCNN
upsamples the map and adds it to every gate (`tfar.models.gated_pixelcnn`; van den Oord,
Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image Generation with
PixelCNN Decoders", NIPS 2016, §2.3). `elbo` is the training bound, `log_prob` the
importance-weighted estimate of Burda, Grosse, Salakhutdinov, "Importance Weighted
Autoencoders", ICLR 2016.

The decoder is the repository's `tfar.GatedPixelCNN`, wrapping the network's own Gated
PixelCNN sub-network, so it samples with its cached sampler; the plumbing it shares with
the PixelCNN auto-encoder (`tfar.models.pixelcnn_autoencoder`) is `tfar.models.latent`,
the encoder `tfar.layers.encoders.ConvEncoder`. (A model module that imports a sibling:
its decoder *is* a Gated PixelCNN.)
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar import replicas
from tfar.inputs import COMPUTE_DTYPE, unless_empty
from tfar.layers.encoders import ConvEncoder
from tfar.models.gated_pixelcnn import GatedPixelCNN
from tfar.models.image import check_image_shape, image_head
from tfar.network import PARAMS_DTYPE
from tfar.models.latent import (EncoderDecoderDistribution, EncoderDecoderNetwork,
                                check_network, check_positive)
from tfar.registry import register

tfd = tfp.distributions

# `log_prob` evaluates the K importance samples of B images [H, W, C] in passes of
# max(1, IMPORTANCE_PIXELS // (B · H · W)) samples per image (at most about this many
# decoder pixels per pass, or one sample per image), so its memory does not grow with K.
IMPORTANCE_PIXELS = 2 ** 20
STDDEV_FLOOR = 1e-4  # σ = softplus(·) + floor: log σ stays finite
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- Gaussians

def _gaussian(raw):
    """[..., 2d] network outputs -> (mean, stddev) [..., d] of a diagonal Gaussian, float32."""
    mean, pre_stddev = tf.split(tf.cast(raw, COMPUTE_DTYPE), 2, axis=-1)
    return mean, tf.nn.softplus(pre_stddev) + STDDEV_FLOOR


def _log_normal_of_noise(eps, stddev):
    """log N(z; mean, diag stddev²) at z = mean + stddev · eps, summed over the last
    axis: [...]."""
    return -tf.reduce_sum(0.5 * tf.square(eps) + tf.math.log(stddev) + _HALF_LOG_2PI, -1)


def _log_normal(z, mean, stddev):
    """log N(z; mean, diag stddev²) summed over the last axis: [...]."""
    return _log_normal_of_noise((z - mean) / stddev, stddev)


def _log_standard_normal(z):
    """log N(z; 0, I) summed over the last axis: [...]."""
    return -tf.reduce_sum(0.5 * tf.square(z) + _HALF_LOG_2PI, -1)


def _kl_from_standard_normal(mean, stddev):
    """KL(N(mean, diag stddev²) ‖ N(0, I)), analytic, summed over the last axis: [...]."""
    return tf.reduce_sum(0.5 * (tf.square(mean) + tf.square(stddev) - 1.0)
                         - tf.math.log(stddev), -1)


def map_shape_for(image_shape, map_channels):
    """The decoder map's (h', w', c'): H/4 and W/4 where 4 divides them, else H and W."""
    height, width, _ = image_shape
    return (height // 4 if height % 4 == 0 else height,
            width // 4 if width % 4 == 0 else width, int(map_channels))


# --------------------------------------------------------------------------- network

@keras.saving.register_keras_serializable(package="tfar")
class PixelVAENetwork(EncoderDecoderNetwork):
    """Every weight of a PixelVAE: encoder q(z1 | x), for two levels q(z2 | z1) and the
    prior p(z1 | z2), the decoder map z1 -> [B, h', w', c'] and the Gated PixelCNN.

        call(images [B, H, W, C] in [0, V)) -> (mean, stddev) [B, d] of q(z1 | x)

    Args:
      image_shape, num_values, params_size, values_per_unit, encoder_filters, num_layers,
        num_filters, first_kernel_size, kernel_size: see
        `tfar.models.latent.EncoderDecoderNetwork`.
      latent_dim: d, the size of z1.
      num_levels: 1, or 2 for the hierarchy z2 -> z1 -> x (PixelVAE §3.1).
      latent2_dim: d2, the size of z2 (num_levels = 2; default d).
      hidden_units: width of the one-hidden-layer MLPs of q(z2 | z1) and p(z1 | z2).
      map_channels: c' of the decoder map.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1, latent_dim=32,
                 num_levels=1, latent2_dim=None, hidden_units=128, encoder_filters=32,
                 map_channels=16, num_layers=3, num_filters=32, first_kernel_size=7,
                 kernel_size=3, **kwargs):
        self.map_shape = map_shape_for(image_shape, map_channels)
        condition = dict(conditional_size=int(np.prod(self.map_shape)),
                         spatial_conditional_shape=self.map_shape)
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         encoder_filters, num_layers, num_filters, first_kernel_size,
                         kernel_size, condition, **kwargs)
        self.latent_dim, self.num_levels = int(latent_dim), int(num_levels)
        self.latent2_dim = (None if self.num_levels == 1 else
                            int(latent2_dim or latent_dim))
        self.hidden_units, self.map_channels = int(hidden_units), int(map_channels)
        self.encoder = ConvEncoder(self.encoder_filters, 2 * self.latent_dim, name="encoder")
        self.map_hidden = keras.layers.Dense(int(np.prod(self.map_shape)), activation="relu",
                                             name="map_hidden")
        self.map_conv = keras.layers.Conv2D(self.map_channels, 3, padding="same",
                                            name="map_conv")
        self.top_encoder_hidden = self.top_encoder_output = None
        self.prior_hidden = self.prior_output = None
        if self.num_levels == 2:
            self.top_encoder_hidden = keras.layers.Dense(self.hidden_units, activation="relu",
                                                         name="top_encoder_hidden")
            self.top_encoder_output = keras.layers.Dense(2 * self.latent2_dim,
                                                         name="top_encoder_output",
                                                         dtype=PARAMS_DTYPE)
            self.prior_hidden = keras.layers.Dense(self.hidden_units, activation="relu",
                                                   name="prior_hidden")
            self.prior_output = keras.layers.Dense(2 * self.latent_dim, name="prior_output",
                                                   dtype=PARAMS_DTYPE)

    def build(self, input_shape):
        """Creates every variable, by one pass of each part on zeros."""
        z1 = tf.zeros([1, self.latent_dim])
        self.posterior(tf.zeros((1,) + self.image_shape))
        if self.num_levels == 2:
            self.prior(self.top_posterior(z1)[0])
        self.pixelcnn(tf.zeros([1, int(np.prod(self.image_shape))]),
                      conditional_input=self.decode_map(z1))

    def call(self, images):
        return self.posterior(images)

    def posterior(self, images, training=False):
        """q(z1 | x): images [B, H, W, C] in [0, V) -> (mean, stddev) [B, d], float32."""
        return _gaussian(self.encoder(self.scale(images), training=training))

    def top_posterior(self, z1, training=False):
        """q(z2 | z1) (two levels): z1 [B, d] -> (mean, stddev) [B, d2], float32."""
        return _gaussian(self.top_encoder_output(
            self.top_encoder_hidden(z1, training=training), training=training))

    def prior(self, z2, training=False):
        """p(z1 | z2) (two levels): z2 [B, d2] -> (mean, stddev) [B, d], float32."""
        return _gaussian(self.prior_output(self.prior_hidden(z2, training=training),
                                           training=training))

    def decode_map(self, z1, training=False):
        """z1 [B, d] -> the decoder's condition map [B, h', w', c'], float32."""
        hidden = tf.reshape(self.map_hidden(z1, training=training), (-1,) + self.map_shape)
        return tf.cast(self.map_conv(hidden, training=training), COMPUTE_DTYPE)

    def get_config(self):
        config = super().get_config()
        config.update(latent_dim=self.latent_dim, num_levels=self.num_levels,
                      latent2_dim=self.latent2_dim, hidden_units=self.hidden_units,
                      map_channels=self.map_channels)
        return config


# --------------------------------------------------------------------------- distribution

@register("pixelvae")
class PixelVAE(EncoderDecoderDistribution):
    """PixelVAE (Gulrajani et al. 2017): a VAE whose decoder is a Gated PixelCNN over
    images [H, W, C] of integers in [0, V); see the module docstring.

        vae = tfar.PixelVAE(image_shape=(28, 28, 1), num_values=2, latent_dim=64)
        vae.elbo(x)                          # [batch] nats, the single-sample bound
        vae.log_prob(x, num_samples=64)      # importance-weighted estimate (IWAE)
        vae.sample(16, seed=(1, 2))          # z ~ p(z), x ~ p(x | z)

    Args:
      image_shape: (H, W, C).
      num_values: V.
      latent_dim: d, the size of z (z1 with two levels).
      num_levels: 1, or 2 for z2 -> z1 -> x (§3.1) with the learned prior p(z1 | z2).
      latent2_dim: d2, the size of z2 (num_levels = 2 only; default d).
      num_layers, num_filters, first_kernel_size: the Gated PixelCNN decoder's (few
        layers: the latent carries the global structure). On tiny images pass a small
        first_kernel_size (3).
      encoder_filters: F of the conv encoder of q(z | x).
      hidden_units: width of the MLPs of q(z2 | z1) and p(z1 | z2) (two levels).
      map_channels: c' of the decoder's condition map [h', w', c'].
      likelihood: the decoder's head: "bernoulli" (the default for V = 2), "categorical"
        (the default otherwise) or "logistic_mixture".
      num_mixtures: components of the logistic mixture.
      num_importance_samples: K of `log_prob` (and of its exported signature).
      kl_warmup_steps: the KL weight of the training loss rises as min(1, step / this);
        0 for none.
      free_bits: λ ≥ 0 of Kingma et al. 2016 (§C.8 of "Improved Variational Inference
        with Inverse Autoregressive Flow"): the training loss uses max(λ, KL of the level averaged over the global batch)
        per level; 0 for none.
      network: a `PixelVAENetwork` to wrap (e.g. loaded from a `.keras` file); its
        architecture then comes from it.
      dtype: dtype of the images (float32 by default).
      validate_args, name: as `tfd.Distribution`.
    """

    def __init__(self, image_shape, num_values=2, latent_dim=32, num_levels=1, latent2_dim=None,
                 num_layers=3, num_filters=32, first_kernel_size=7, encoder_filters=32,
                 hidden_units=128, map_channels=16, likelihood=None, num_mixtures=5,
                 num_importance_samples=64, kl_warmup_steps=0, free_bits=0.0, network=None,
                 dtype=tf.float32, validate_args=False, name="PixelVAE"):
        parameters = dict(locals())
        image_shape = check_image_shape(image_shape)
        check_positive(latent_dim=latent_dim, num_layers=num_layers, num_filters=num_filters,
                       first_kernel_size=first_kernel_size, encoder_filters=encoder_filters,
                       hidden_units=hidden_units, map_channels=map_channels,
                       num_mixtures=num_mixtures, num_importance_samples=num_importance_samples)
        if num_levels not in (1, 2) or isinstance(num_levels, bool):
            raise ValueError(f"num_levels must be 1 or 2; got {num_levels!r}.")
        if latent2_dim is not None:
            if num_levels == 1:
                raise ValueError("latent2_dim is the size of z2, which only num_levels=2 has; "
                                 f"got latent2_dim={latent2_dim!r} with num_levels=1.")
            check_positive(latent2_dim=latent2_dim)
        if isinstance(kl_warmup_steps, bool) or not isinstance(
                kl_warmup_steps, (int, np.integer)) or kl_warmup_steps < 0:
            raise ValueError(f"kl_warmup_steps must be an int >= 0; got {kl_warmup_steps!r}.")
        if not (isinstance(free_bits, (int, float, np.number)) and np.isfinite(free_bits)
                and free_bits >= 0):
            raise ValueError(f"free_bits must be a finite number >= 0 (nats per level); got "
                             f"{free_bits!r}.")
        head = image_head(likelihood, num_values, image_shape[-1], num_mixtures)
        latent2_dim = None if num_levels == 1 else int(latent2_dim or latent_dim)
        if network is None:
            network = PixelVAENetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                latent_dim=latent_dim, num_levels=num_levels, latent2_dim=latent2_dim,
                hidden_units=hidden_units, encoder_filters=encoder_filters,
                map_channels=map_channels, num_layers=num_layers, num_filters=num_filters,
                first_kernel_size=first_kernel_size, name=f"{name}_network").build_variables()
        else:
            check_network(network, PixelVAENetwork, dict(
                image_shape=image_shape, num_values=int(num_values),
                params_size=head.params_size, values_per_unit=head.values_per_unit,
                latent_dim=int(latent_dim), num_levels=int(num_levels),
                latent2_dim=latent2_dim), name)
        parameters["network"] = network
        decoder = GatedPixelCNN(
            image_shape, num_values, network.num_layers, network.num_filters,
            network.first_kernel_size, network.kernel_size, likelihood=likelihood,
            num_mixtures=num_mixtures, spatial_conditional_shape=network.map_shape,
            network=network.pixelcnn, dtype=dtype, validate_args=validate_args,
            name=f"{name}_decoder")
        self._num_importance_samples = int(num_importance_samples)
        self._kl_warmup_steps = int(kl_warmup_steps)
        self._free_bits = float(free_bits)
        super().__init__(network, decoder, None, dtype, validate_args, parameters, name)

    # ---------------------------------------------------------------- properties

    @property
    def latent_dim(self):
        """d, the size of z (of z1 with two levels)."""
        return self._network.latent_dim

    @property
    def num_levels(self):
        return self._network.num_levels

    @property
    def num_importance_samples(self):
        """K of `log_prob` by default."""
        return self._num_importance_samples

    @property
    def kl_warmup_steps(self):
        return self._kl_warmup_steps

    @property
    def free_bits(self):
        return self._free_bits

    # ---------------------------------------------------------------- encoder and decoder

    def encode(self, x):
        """The posterior q(z | x) (q(z1 | x) with two levels): x [..., H, W, C] -> a
        `tfd.MultivariateNormalDiag` of batch shape [...] and event shape [d]."""
        images, batch_shape = self._images(x)
        mean, stddev = self._network.posterior(images)
        shape = tf.concat([batch_shape, [self.latent_dim]], 0)
        return tfd.MultivariateNormalDiag(loc=tf.reshape(mean, shape),
                                          scale_diag=tf.reshape(stddev, shape))

    def _latents(self, z):
        """z [..., d] -> float32 [B, d] and the batch shape [...]."""
        z = self._convert(z, COMPUTE_DTYPE, "z", "latents (float32)")
        z = self._check_trailing_shape(tf.cast(z, COMPUTE_DTYPE),
                                       tf.TensorShape([self.latent_dim]), "z", "latent_dim")
        return tf.reshape(z, [-1, self.latent_dim]), tf.shape(z)[:-1]

    def decode_map(self, z):
        """The decoder's condition for z: z [..., d] -> map [..., h', w', c'] (float32)."""
        z, batch_shape = self._latents(z)
        return tf.reshape(self._network.decode_map(z),
                          tf.concat([batch_shape, self._network.map_shape], 0))

    def decoder_log_prob(self, x, z):
        """log p(x | z) in nats: x [..., H, W, C], z [..., d] (batch dims broadcast) ->
        [...]; `decoder_distribution.log_prob(x, conditional_input=decode_map(z))`."""
        return self._decoder.log_prob(x, conditional_input=self.decode_map(z))

    def decode(self, z, seed=None, method=None, jit_compile=False):
        """Samples x ~ p(x | z): z [..., d] -> images [..., H, W, C] (`dtype`), drawn by the
        decoder's sampler `method` (default: cached) from the stateless `seed`, its loop
        compiled with XLA when `jit_compile` (the same images)."""
        z, batch_shape = self._latents(z)
        images = self._decoder.sample(tf.shape(z)[0], seed=seed, method=method,
                                      jit_compile=jit_compile,
                                      conditional_input=self._network.decode_map(z))
        return tf.reshape(images, tf.concat([batch_shape, self._static_event_shape], 0))

    def reconstruct(self, x, seed=None, method=None, jit_compile=False):
        """x [..., H, W, C] -> decode(the posterior mean of z given x): a sample of
        p(x' | z = E_q[z | x]), [..., H, W, C]. The mean, not a posterior sample, so only
        the decoder's draws vary with the seed."""
        return self.decode(self.encode(x).mean(), seed=seed, method=method,
                           jit_compile=jit_compile)

    def interpolate(self, x_a, x_b, num_steps=8, seed=None, method=None):
        """Images decoded along the straight line between the posterior means of x_a and
        x_b ([..., H, W, C] each, broadcasting): [..., num_steps, H, W, C], endpoints
        included. Every step decodes with the same seed, so the decoder's draws of a row
        share their noise along the line and change only through the latent: with a
        stateless seed the endpoints are `decode(encode(x_a).mean(), seed)` and
        `decode(encode(x_b).mean(), seed)`."""
        if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or (
                num_steps < 2):
            raise ValueError(f"{self.name}: num_steps must be an int >= 2; got {num_steps!r}.")
        start, end = self.encode(x_a).mean(), self.encode(x_b).mean()
        seed = tfp.random.sanitize_seed(seed)
        lines = tf.map_fn(   # one decoder loop in a graph, whatever num_steps
            lambda t: self.decode((1.0 - t) * start + t * end, seed=seed, method=method),
            tf.constant(np.linspace(0.0, 1.0, num_steps, dtype=np.float32)),
            fn_output_signature=self.dtype)                         # [num_steps, ..., H, W, C]
        return tf.experimental.numpy.moveaxis(lines, 0, -4)

    def _sample_n(self, n, seed=None, conditional_input=None, method=None, jit_compile=False):
        """z ~ p(z) (two levels: z2 ~ N(0, I), z1 ~ p(z1 | z2)), then x ~ p(x | z)."""
        self._check_conditional(conditional_input)
        seed = tfp.random.sanitize_seed(seed, salt="pixelvae_sample")
        z2_seed, z1_seed, decoder_seed = tf.unstack(
            tf.random.experimental.stateless_split(seed, 3))
        z = tf.random.stateless_normal([n, self.latent_dim], seed=z1_seed)
        if self.num_levels == 2:
            mean, stddev = self._network.prior(
                tf.random.stateless_normal([n, self._network.latent2_dim], seed=z2_seed))
            z = mean + stddev * z
        return self.decode(z, seed=decoder_seed, method=method, jit_compile=jit_compile)

    # ---------------------------------------------------------------- bounds

    def _draw(self, images, eps1, eps2=None, training=False, seed=None):
        """Draws of z ~ q(z | x), reparameterized by the given noise, and their terms.

        Args:
          images: float32 [B, H, W, C].
          eps1: N(0, I) noise of z1, [num, B, d] or [num, 1, d] (the same draw for every
            image: an image's draws then depend on the noise alone, not on its batch).
          eps2: the noise of z2 (two levels), [num, B or 1, d2].
          training: run the networks in training mode (dropout).
          seed: the stateless seed of the networks' own noise in training (dropout).

        Returns:
          A dict of float32 [num, B]: "log_px" log p(x | z1); "log_weight" log p(x | z1)
          + log p(z) − log q(z | x) (two levels: over z1 and z2); "kl_z1" KL(q(z1 | x) ‖
          N(0, I)) analytic (one level), or log q(z1 | x) − log p(z1 | z2) at the draw
          (two levels); "kl_z2" (two levels) KL(q(z2 | z1) ‖ N(0, I)), analytic given z1.
        """
        network = self._network
        mean1, stddev1 = network.posterior(images, training=training)              # [B, d]
        z1 = mean1 + stddev1 * eps1                                               # [num, B, d]
        rows = tf.shape(z1)[:2]                                                   # [num, B]
        flat_z1 = tf.reshape(z1, [-1, self.latent_dim])                           # [num·B, d]
        log_q = _log_normal_of_noise(eps1, stddev1)                                # [num, B]
        log_q = tf.broadcast_to(log_q, rows)
        terms = {}
        if self.num_levels == 1:
            log_p = _log_standard_normal(z1)
            terms["kl_z1"] = tf.broadcast_to(_kl_from_standard_normal(mean1, stddev1)[None],
                                             rows)
        else:
            shape2 = tf.concat([rows, [network.latent2_dim]], 0)
            mean2, stddev2 = (tf.reshape(t, shape2) for t in
                              network.top_posterior(flat_z1, training=training))  # [num, B, d2]
            z2 = mean2 + stddev2 * eps2
            prior_mean, prior_stddev = network.prior(tf.reshape(z2, [-1, network.latent2_dim]),
                                                     training=training)          # [num·B, d]
            log_p1 = tf.reshape(_log_normal(flat_z1, prior_mean, prior_stddev), rows)
            log_q2 = _log_normal_of_noise(eps2, stddev2)
            terms["kl_z1"] = log_q - log_p1
            terms["kl_z2"] = _kl_from_standard_normal(mean2, stddev2)
            log_p = log_p1 + _log_standard_normal(z2)
            log_q = log_q + log_q2
        tiled = tf.tile(images, [rows[0], 1, 1, 1])
        condition = network.decode_map(flat_z1, training=training)
        if training:
            log_px = self._decoder.training_log_prob(tiled, condition, seed=seed)
        else:
            log_px = self._decoder_log_prob(tiled, condition)
        terms["log_px"] = tf.reshape(log_px, rows)
        terms["log_weight"] = terms["log_px"] + log_p - log_q
        return terms

    def _noise(self, num, seed):
        """Noise for `num` draws shared by every image: (eps1 [num, 1, d], eps2 [num, 1,
        d2] or None), a function of the stateless `seed` and the draw index only."""
        z1_seed, z2_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        eps1 = tf.random.stateless_normal([num, 1, self.latent_dim], seed=z1_seed)
        if self.num_levels == 1:
            return eps1, None
        return eps1, tf.random.stateless_normal([num, 1, self._network.latent2_dim],
                                                seed=z2_seed)

    def _kl_names(self):
        return ("kl_z1",) if self.num_levels == 1 else ("kl_z1", "kl_z2")

    def elbo(self, x, seed=None):
        """The evidence lower bound, single-sample: log p(x | z) − KL, z ~ q(z | x), in nats.

        One level: KL(q(z | x) ‖ N(0, I)), analytic. Two levels: KL(q(z2 | z1) ‖ N(0, I))
        analytic, plus log q(z1 | x) − log p(z1 | z2) at the drawn z1, z2 (PixelVAE §3.1).
        Its expectation is a lower bound on log p(x). Every image of the batch uses the
        same noise draw, so an image's ELBO depends on it and the seed only.

        Args:
          x: [..., H, W, C] integers in [0, V).
          seed: None, an int or a stateless pair (TFP); the same stateless seed gives the
            same estimate.

        Returns:
          float32 [...].
        """
        with tf.name_scope(f"{self.name}/elbo"):
            images, batch_shape = self._images(x)
            seed = tfp.random.sanitize_seed(seed, salt="pixelvae_elbo")

            def compute():
                terms = self._draw(images, *self._noise(1, seed))
                kl = tf.add_n([terms[name][0] for name in self._kl_names()])
                return terms["log_px"][0] - kl

            value = unless_empty(images, compute, lambda: tf.zeros([0], COMPUTE_DTYPE))
            return tf.reshape(value, batch_shape)

    def _log_prob(self, x, num_samples=None, seed=None, conditional_input=None):
        """The importance-weighted estimate of log p(x) (IWAE, Burda et al. 2016, eq. 8):

            log (1/K) Σ_k p(x | z_k) p(z_k) / q(z_k | x),    z_k ~ q(z | x)

        (two levels: p(x | z1) p(z1 | z2) p(z2) / (q(z1 | x) q(z2 | z1))), in nats. An
        estimate: a lower bound on log p(x) in expectation, non-decreasing in K, equal to
        the ELBO's expectation at K = 1 and tight as K → ∞. Draw k of every image uses
        the same noise, a function of the seed and k only, so an image's estimate does
        not depend on the batch it comes in (nor on TF Serving's request batching). The
        draws are evaluated in passes of max(1, IMPORTANCE_PIXELS // (B·H·W)) per image
        (a `tf.while_loop`), so memory stays bounded for any K.

        Args:
          x: [..., H, W, C] integers in [0, V).
          num_samples: K, a Python int >= 1 (default `num_importance_samples`).
          seed: None (a random estimate), an int or a stateless pair; the same stateless
            seed gives the same estimate of an image.
          conditional_input: must be None (PixelVAE is unconditional).

        Returns:
          float32 [...].
        """
        self._check_conditional(conditional_input)
        k = self._num_importance_samples if num_samples is None else num_samples
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"{self.name}: num_samples must be a Python int >= 1; got "
                             f"{num_samples!r}.")
        images, batch_shape = self._images(x)
        seed = tfp.random.sanitize_seed(seed, salt="pixelvae_log_prob")
        value = unless_empty(images, lambda: self._importance_weighted(images, int(k), seed),
                             lambda: tf.zeros([0], COMPUTE_DTYPE))
        return tf.reshape(value, batch_shape)

    def _importance_weighted(self, images, k, seed):
        """IWAE over images [B, H, W, C] with K = k draws: [B] (see `_log_prob`)."""
        batch = tf.shape(images)[0]
        height, width, _ = self._network.image_shape
        per_pass = tf.clip_by_value(IMPORTANCE_PIXELS // (batch * height * width), 1, k)
        num_passes = (k + per_pass - 1) // per_pass
        eps1, eps2 = self._noise(k, seed)                                  # [K, 1, d], …

        def one_pass(i, log_weights):
            draws = tf.range(i * per_pass, tf.minimum((i + 1) * per_pass, k))
            noise = [tf.gather(eps1, draws)] + ([] if eps2 is None else [tf.gather(eps2, draws)])
            terms = self._draw(images, *noise)
            return i + 1, log_weights.scatter(draws, terms["log_weight"])

        _, log_weights = tf.while_loop(
            lambda i, _: i < num_passes, one_pass,
            (tf.constant(0), tf.TensorArray(COMPUTE_DTYPE, size=k, element_shape=[None])))
        return tf.reduce_logsumexp(log_weights.stack(), axis=0) - math.log(k)     # [B]

    @property
    def evaluation_metric(self):
        """"nll_bound_iwae_k{K}": the trainer reports −`log_prob` with K =
        `num_importance_samples`, an upper bound on the NLL in expectation (not the NLL)."""
        return f"nll_bound_iwae_k{self._num_importance_samples}"

    def evaluation_log_prob(self, x, conditional_input=None, seed=None):
        """`log_prob(x, seed=seed)`: the importance-weighted estimate, [...] nats."""
        return self.log_prob(x, seed=seed, conditional_input=conditional_input)

    # ---------------------------------------------------------------- training

    def _kl_weight(self, step):
        """β = min(1, step / kl_warmup_steps); 1 without warm-up or without a step."""
        if self._kl_warmup_steps == 0 or step is None:
            return tf.constant(1.0)
        return tf.minimum(1.0, tf.cast(step, COMPUTE_DTYPE) / self._kl_warmup_steps)

    def training_terms(self, x, conditional_input=None, seed=None, step=None):
        """The training objective and its parts, float32 scalars (nats per image):

        - "loss": mean reconstruction + β · Σ_levels KL_eff, β = min(1, step /
          kl_warmup_steps) (1 when kl_warmup_steps = 0 or step is None), KL_eff =
          max(free_bits, KL of the level averaged over the global batch) (free bits,
          Kingma et al. 2016), or the mean KL itself when free_bits = 0;
        - "elbo": mean ELBO (β = 1, no free bits), "reconstruction": mean −log p(x | z),
          "kl": mean total KL, with two levels "kl_z1" and "kl_z2", and "kl_weight": β.

        One draw z ~ q(z | x) per image (reparameterized; see `elbo`), its noise drawn
        by `tfar.replicas` from `seed`, and the networks run in training mode. Under a
        `tf.distribute` strategy each replica returns its share and the trainer averages
        them: free bits compare λ with the global batch's KL (`tfar.replicas.
        global_mean`) and each replica's term is its own KL where that exceeds λ, else λ,
        so the mean over replicas, and its gradient, are those of one replica holding
        the whole batch, for any number of replicas. `conditional_input` must be None.
        """
        self._check_conditional(conditional_input)
        with tf.name_scope(f"{self.name}/training_terms"):
            images, _ = self._images(x)
            seed = tfp.random.sanitize_seed(seed, salt="pixelvae_training")
            z1_seed, z2_seed, network_seed = tf.unstack(
                tf.random.experimental.stateless_split(seed, 3))
            batch = tf.shape(images)[0]
            eps1 = replicas.normal([batch, self.latent_dim], z1_seed)[None]
            eps2 = (None if self.num_levels == 1 else
                    replicas.normal([batch, self._network.latent2_dim], z2_seed)[None])
            draw = self._draw(images, eps1, eps2, training=True, seed=network_seed)
            reconstruction = -tf.reduce_mean(draw["log_px"])
            kls = {name: tf.reduce_mean(draw[name]) for name in self._kl_names()}
            kl = tf.add_n(list(kls.values()))
            effective = kl
            if self._free_bits > 0:
                effective = tf.add_n([
                    tf.where(replicas.global_mean(value) > self._free_bits, value,
                             self._free_bits) for value in kls.values()])
            kl_weight = self._kl_weight(step)
            terms = {"loss": reconstruction + kl_weight * effective,
                     "elbo": -(reconstruction + kl), "reconstruction": reconstruction,
                     "kl": kl, "kl_weight": kl_weight}
            if self.num_levels == 2:
                terms.update(kls)
            return terms

    def training_loss(self, x, conditional_input=None, seed=None):
        """`training_terms(x, conditional_input, seed)["loss"]` (no warm-up step)."""
        return self.training_terms(x, conditional_input, seed)["loss"]

    def evaluation_images(self, x, seed=None, conditional_input=None, num_steps=8):
        """Grids of test images x [N, H, W, C] for the trainer, int32 values in [0, V):

        - "reconstructions" [2, m, H, W, C], m = min(N, 8): the images, then
          `reconstruct` of each;
        - "interpolations" [p, num_steps, H, W, C], p = min(4, max(1, N // 2)): row i
          interpolates between images 2i and 2i + 1 (`interpolate`; with N = 1, the
          image with itself), endpoints included.

        Runs in a `tf.function` (the decoder's sampling loop), so it is fast eagerly.
        """
        self._check_conditional(conditional_input)
        images, _ = self._images(x)
        seed = tfp.random.sanitize_seed(seed, salt="pixelvae_evaluation_images")

        @tf.function
        def grids(images, seed):
            reconstruction_seed, interpolation_seed = tf.unstack(
                tf.random.experimental.stateless_split(seed, 2))
            shown = images[:8]
            reconstructions = self.reconstruct(shown, seed=reconstruction_seed)
            n = tf.shape(images)[0]
            first = 2 * tf.range(tf.clip_by_value(n // 2, 1, 4))
            lines = self.interpolate(tf.gather(images, first),
                                     tf.gather(images, tf.minimum(first + 1, n - 1)),
                                     num_steps=num_steps, seed=interpolation_seed)
            return {"reconstructions": tf.cast(tf.stack([shown, tf.cast(
                        reconstructions, COMPUTE_DTYPE)]), tf.int32),
                    "interpolations": tf.cast(lines, tf.int32)}

        return grids(images, seed)

    # ---------------------------------------------------------------- export

    def serving_signatures(self):
        """The export endpoints beyond the standard "sample": name -> (function, input
        specs). Estimates use the fixed seed (0, 0), so an image always gets the same
        answer, whatever else shares its request (or TF Serving's batch).

        - "log_prob": images [B, H, W, C] -> {"log_prob_iwae_k{K}": [B]}, K =
          `num_importance_samples` (`log_prob`);
        - "elbo": images -> {"elbo": [B]};
        - "encode": images -> {"mean": [B, d], "stddev": [B, d]} of q(z | x);
        - "decode": latents float32 [B, d], seed int32 [2] -> {"images": [B, H, W, C]}.
        """
        images = self._image_spec()
        latents = tf.TensorSpec([None, self.latent_dim], tf.float32, name="latents")
        seed = tf.TensorSpec([2], tf.int32, name="seed")
        key = f"log_prob_iwae_k{self._num_importance_samples}"

        def log_prob(images):
            return {key: self.log_prob(images, seed=(0, 0))}

        def elbo(images):
            return {"elbo": self.elbo(images, seed=(0, 0))}

        def encode(images):
            posterior = self.encode(images)
            return {"mean": posterior.mean(), "stddev": posterior.stddev()}

        def decode(latents, seed):
            return {"images": self.decode(latents, seed=seed)}

        return {"log_prob": (log_prob, [images]), "elbo": (elbo, [images]),
                "encode": (encode, [images]), "decode": (decode, [latents, seed])}
