"""GMMN: a generative moment-matching network, with a dense or a convolutional generator.

Li, Swersky & Zemel, "Generative Moment Matching Networks", ICML 2015, and Dziugaite, Roy
& Ghahramani, "Training generative neural networks via maximum mean discrepancy
optimization", UAI 2015; Deep Learning §20.10.5–20.10.6. A generator g maps noise
z ~ U[-1, 1]^h to an image g(z) in [0, 1]^D (intensities, a sigmoid output); it is trained
so that its samples' moments match the data's: the loss is the squared maximum mean
discrepancy (`tfar.metrics`, a sum of Gaussian kernels of several bandwidths) between a
batch of samples and a batch of data (Li et al. §3, eq. 3). The model is implicit: one
pass samples, but there is no tractable density, so `log_prob` raises and the trainer
reports the test MMD² instead of an NLL.

Generators:
  "dense"  Li et al.'s MNIST generator (§4: 10 → 64 → 256 → 256 → 1024 → 784, ReLU): dense
           ReLU layers of `hidden_units`, then a dense sigmoid layer of D units.
  "conv"   §20.10.6's convolutional generator ("un-pooling", Dosovitskiy et al. 2015): a
           dense ReLU projection of z to a (H/2^k, W/2^k, 2^k·F) map, then k transposed
           convolutions (kernel 4, stride 2, ReLU) each doubling the resolution and halving
           the filters to F, then a 3×3 sigmoid convolution to C channels
           (k = `num_upsamplings`).

GMMN+AE (`autoencoder=True`, Li et al. §3.2): an auto-encoder (dense ReLU encoder of
`autoencoder_units` to a sigmoid code of `code_size`, the mirror-image decoder) is trained
to reconstruct the data (cross-entropy of the intensities), and the generator makes codes
whose MMD² to the encoder's codes of the data (held fixed in that term) is minimized; a
sample is the decoder's image of a generated code. The paper trains the auto-encoder
first and the GMMN after; here both train at once, the loss the sum of the two terms.

Why the batch must be large: the loss compares two sets of B points; its estimate's
standard deviation falls as 1/√B, and its gradient moves a sample only toward the data
points within a few bandwidths of it, so with a small B the generator chases the batch's
noise (the paper used B = 1000). Every replica computes the loss of the whole global
batch (its data gathered with `tfar.replicas.global_batch`, the generator's noise drawn for
all of it from the step's seed), so it is the same for any number of replicas.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar import metrics, replicas
from tfar.distribution import NetworkDistribution
from tfar.inputs import IntegerValues, RealValues
from tfar.layers.tracking import ListsInCheckpoints
from tfar.registry import register

GENERATORS = ("dense", "conv")


@keras.saving.register_keras_serializable(package="tfar")
class GMMNNetwork(ListsInCheckpoints, keras.Model):
    """The generator (and the GMMN+AE's auto-encoder) as one Keras 3 model.

    `call(z [B, latent_dim])` -> images [B, *event_shape] in [0, 1]; with an auto-encoder
    also `encode(images [B, *event_shape])` -> codes [B, code_size] and
    `decode(codes)` -> images. Args as `GMMN`.
    """

    def __init__(self, event_shape, latent_dim, generator, hidden_units, num_filters,
                 num_upsamplings, autoencoder, code_size, autoencoder_units, **kwargs):
        super().__init__(**kwargs)
        self.event_shape = tuple(int(s) for s in event_shape)
        self.latent_dim, self.generator_kind = int(latent_dim), generator
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.num_filters, self.num_upsamplings = int(num_filters), int(num_upsamplings)
        self.autoencoder, self.code_size = bool(autoencoder), int(code_size)
        self.autoencoder_units = tuple(int(u) for u in autoencoder_units)
        num_dims = int(np.prod(self.event_shape))
        output_size = self.code_size if self.autoencoder else num_dims
        if generator == "dense" or self.autoencoder:
            self.generator_layers = [keras.layers.Dense(u, activation="relu",
                                                        name=f"generator_dense_{i}")
                                     for i, u in enumerate(self.hidden_units)]
            self.generator_layers.append(keras.layers.Dense(output_size, activation="sigmoid",
                                                            name="generator_output"))
        else:
            height, width, channels = self.event_shape
            k = self.num_upsamplings
            base = (height // 2**k, width // 2**k, self.num_filters * 2**k)
            self.generator_layers = [
                keras.layers.Dense(int(np.prod(base)), activation="relu",
                                   name="generator_projection"),
                keras.layers.Reshape(base)]
            self.generator_layers += [
                keras.layers.Conv2DTranspose(self.num_filters * 2**(k - 1 - i), 4, strides=2,
                                             padding="same", activation="relu",
                                             name=f"generator_unpool_{i}")
                for i in range(k)]
            self.generator_layers.append(keras.layers.Conv2D(
                channels, 3, padding="same", activation="sigmoid", name="generator_output"))
        if self.autoencoder:
            self.encoder_layers = [keras.layers.Dense(u, activation="relu", name=f"encoder_{i}")
                                   for i, u in enumerate(self.autoencoder_units)]
            self.encoder_layers.append(keras.layers.Dense(self.code_size, activation="sigmoid",
                                                          name="code"))
            self.decoder_layers = [keras.layers.Dense(u, activation="relu", name=f"decoder_{i}")
                                   for i, u in enumerate(reversed(self.autoencoder_units))]
            self.decoder_layers.append(keras.layers.Dense(num_dims, activation="sigmoid",
                                                          name="decoder_output"))

    def generate(self, z):
        """Generator outputs [B, code_size] (GMMN+AE) or images [B, *event_shape]."""
        h = z
        for layer in self.generator_layers:
            h = layer(h)
        if self.autoencoder:
            return h
        return tf.reshape(h, [-1, *self.event_shape])

    def encode(self, images):
        h = tf.reshape(images, [tf.shape(images)[0], -1])
        for layer in self.encoder_layers:
            h = layer(h)
        return h

    def decode(self, codes):
        h = codes
        for layer in self.decoder_layers:
            h = layer(h)
        return tf.reshape(h, [-1, *self.event_shape])

    def call(self, z):
        out = self.generate(z)
        return self.decode(out) if self.autoencoder else out

    def build(self, input_shape=None):
        """Creates every variable (the layers run once on zeros)."""
        out = self.generate(tf.zeros([1, self.latent_dim]))
        if self.autoencoder:
            self.decode(out)
            self.encode(tf.zeros([1, *self.event_shape]))
        self.built = True

    def build_variables(self):
        """Creates every variable; returns the network."""
        if not self.built:
            self.build()
        return self

    def get_config(self):
        config = super().get_config()
        config.update(event_shape=self.event_shape, latent_dim=self.latent_dim,
                      generator=self.generator_kind, hidden_units=self.hidden_units,
                      num_filters=self.num_filters, num_upsamplings=self.num_upsamplings,
                      autoencoder=self.autoencoder, code_size=self.code_size,
                      autoencoder_units=self.autoencoder_units)
        return config


@register("gmmn")
class GMMN(NetworkDistribution):
    """A generative moment-matching network as a `tfd.Distribution` over images of
    intensities in [0, 1] (see the module docstring); `sample` only, no density.

    Example:
      d = tfar.GMMN(event_shape=(8, 8, 1), generator="conv", data_num_values=17)
      s = d.sample(16, seed=(1, 2))         # float32 [16, 8, 8, 1] in [0, 1]
      loss = d.training_loss(x, seed=(3, 4))   # MMD² of a batch of samples and x

    Args:
      event_shape: (D,) or an image shape (H, W, C).
      latent_dim: h, the noise's size (z ~ U[-1, 1]^h; 10 in Li et al.).
      generator: "dense" or "conv" (needs (H, W, C) with H and W divisible by
        2^num_upsamplings).
      hidden_units: the dense generator's ReLU layers (and the GMMN+AE's code generator).
      num_filters: F, the conv generator's last transposed convolution's filters.
      num_upsamplings: k, its resolution doublings.
      bandwidths: the σ of the loss's Gaussian kernels, in units of intensities
        (`tfar.metrics.BANDWIDTHS` for images; smaller for a few dimensions).
      autoencoder: GMMN+AE: the generator makes an auto-encoder's codes.
      code_size, autoencoder_units: the auto-encoder's code and its ReLU layers.
      data_num_values: V of integer training data in [0, V), scaled to x / (V - 1); None:
        the data are intensities in [0, 1] already.
      network: an existing `GMMNNetwork` to wrap.
      dtype, validate_args, name: as `tfd.Distribution`.

    Shapes: `sample(n)` -> [n, *event_shape] float32; `training_terms(x [B, ...])` ->
    {"loss", "mmd2"} (GMMN+AE: also "reconstruction", nats per example).
    """

    has_likelihood = False

    def __init__(self, event_shape, latent_dim=10, generator="dense",
                 hidden_units=(64, 256, 256, 1024), num_filters=32, num_upsamplings=2,
                 bandwidths=metrics.BANDWIDTHS, autoencoder=False, code_size=32,
                 autoencoder_units=(1024,), data_num_values=None, network=None,
                 dtype=tf.float32, validate_args=False, name="GMMN"):
        parameters = dict(locals())
        event_shape = tuple(int(s) for s in np.atleast_1d(event_shape))
        if generator not in GENERATORS:
            raise ValueError(f"{name}: generator must be one of {GENERATORS}; got {generator!r}.")
        if generator == "conv" and not autoencoder:
            divisor = 2 ** int(num_upsamplings)
            if len(event_shape) != 3 or event_shape[0] % divisor or event_shape[1] % divisor:
                raise ValueError(
                    f"{name}: the conv generator needs event_shape (H, W, C) with H and W "
                    f"divisible by 2**num_upsamplings = {divisor}; got {event_shape} "
                    "(pad the images, e.g. config.data.pad_to, or lower num_upsamplings).")
        if int(latent_dim) < 1:
            raise ValueError(f"{name}: latent_dim must be positive; got {latent_dim}.")
        if data_num_values is not None and int(data_num_values) < 2:
            raise ValueError(f"{name}: data_num_values must be at least 2; got "
                             f"{data_num_values}.")
        self._bandwidths = metrics.check_bandwidths(bandwidths)
        self._data_num_values = None if data_num_values is None else int(data_num_values)
        if network is None:
            network = GMMNNetwork(event_shape, latent_dim, generator, hidden_units, num_filters,
                                  num_upsamplings, autoencoder, code_size, autoencoder_units,
                                  name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, event_shape, None, dtype=dtype, validate_args=validate_args,
                         parameters=parameters, name=name, support=RealValues())

    @classmethod
    def from_data(cls, event_shape, num_values, seed=None, **fields):
        """`cls(event_shape=…, data_num_values=num_values, **fields)` (`tfar.registry`):
        integer data are scaled to intensities; nothing is drawn from a seed at
        construction."""
        del seed
        return cls(event_shape=event_shape, data_num_values=num_values, **fields)

    @property
    def latent_dim(self):
        return self._network.latent_dim

    @property
    def bandwidths(self):
        return self._bandwidths

    @property
    def data_num_values(self):
        """V of the integer data the model trains on (None: intensities)."""
        return self._data_num_values

    def intensities(self, x):
        """Training data x [B, *event_shape] (integers in [0, V), or intensities) as checked
        float32 intensities in [0, 1]."""
        if self._data_num_values is None:
            return self._support.check(tf.convert_to_tensor(x), self.name, "x",
                                       self.validate_args)
        x = IntegerValues(self._data_num_values).check(tf.convert_to_tensor(x), self.name, "x",
                                                      self.validate_args)
        return x / float(self._data_num_values - 1)

    def _noise(self, n, seed):
        return 2.0 * tf.random.stateless_uniform([n, self.latent_dim], seed) - 1.0

    def _sample_n(self, n, seed=None, conditional_input=None):
        self._check_conditional(conditional_input)
        seed = tfp.random.sanitize_seed(seed, salt="gmmn_sample")
        return tf.cast(self._network(self._noise(n, seed)), self.dtype)

    def _call_log_prob(self, value, name, **kwargs):
        raise NotImplementedError(
            f"{self.name}: a GMMN is an implicit model with no tractable density, so it has "
            "no log_prob; compare its samples with data by kernel MMD instead: "
            "tfar.metrics.mmd2(d.sample(n, seed=…), images) (or mmd2_permutation_test for a "
            "p-value).")

    def training_terms(self, x, conditional_input=None, seed=None, step=None):
        """{"loss", "mmd2"} of the global batch x (see the module docstring), GMMN+AE also
        "reconstruction"; `seed` (a stateless seed) draws the generator's noise."""
        del step
        self._check_conditional(conditional_input)
        if seed is None:
            raise ValueError(f"{self.name}: training_terms needs a seed (the generator's "
                             "noise is drawn from it).")
        data = replicas.global_batch(self.intensities(x))
        data = tf.reshape(data, [tf.shape(data)[0], -1])
        generated = self._network.generate(self._noise(tf.shape(data)[0], seed))
        generated = tf.reshape(generated, [tf.shape(generated)[0], -1])
        if not self._network.autoencoder:
            distance = metrics.mmd2_graph(generated, data, self._bandwidths)
            return {"loss": distance, "mmd2": distance}
        codes = self._network.encode(data)
        reconstructed = tf.reshape(self._network.decode(codes), tf.shape(data))
        reconstruction = tf.reduce_mean(tf.reduce_sum(
            keras.losses.binary_crossentropy(data[..., None], reconstructed[..., None]), -1))
        distance = metrics.mmd2_graph(generated, tf.stop_gradient(codes), self._bandwidths)
        return {"loss": distance + reconstruction, "mmd2": distance,
                "reconstruction": reconstruction}

    def training_loss(self, x, conditional_input=None, seed=None):
        """MMD² of a batch of samples and x (GMMN+AE: plus the reconstruction term)."""
        return self.training_terms(x, conditional_input, seed)["loss"]
