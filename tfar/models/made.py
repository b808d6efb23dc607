"""MADE: Masked Autoencoder for Distribution Estimation.

Germain, Gregor, Murray, Larochelle, ICML 2015. An MLP whose weight matrices are masked
(§4, `tfar.layers.masked`) so that output d depends only on inputs before d in an order;
one pass gives every conditional. Connectivity-agnostic / order-agnostic training (§4.2)
draws `num_masks` mask sets up front, trains on one random set per step, and evaluates
the ensemble p(x) = (1/M) Σ_m p_m(x) (log-mean-exp of joint log-probabilities).
Direct input→output connections as in §4.3. `num_values` > 2 uses one-hot inputs and a
softmax head (`tfar.likelihoods.Categorical`).

Real values: `likelihood="mixture_of_gaussians"` (`num_mixtures=K`) is MADE MoG
(Papamakarios, Pavlakou & Murray, "Masked Autoregressive Flow for Density Estimation",
NIPS 2017, §4: each dimension's params are the mixture's K weights, means and scales),
`likelihood="gaussian"` its K = 1 case; the real value itself is the input.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar.autoregressive import (COMPUTE_DTYPE, AutoregressiveDistribution, check_event_shape,
                                 head_for)
from tfar.conditioning import from_arguments
from tfar.layers.encoding import encode_values, encoding_size
from tfar.layers.masked import MaskedDense, made_degrees
from tfar.network import PARAMS_DTYPE, AutoregressiveNetwork
from tfar.sampling.made import made_sampler
from tfar.schedule import GenerationSchedule
from tfar.registry import register

# "auto" runs as many of an ensemble's mask sets at once as keep the masks and masked
# kernels they form together under this many bytes (`parallel_mask_sets`).
PARALLEL_MASK_BYTES = 256 * 2**20


@keras.saving.register_keras_serializable(package="tfar")
class MADENetwork(AutoregressiveNetwork):
    """The masked MLP: values [B, D] (+ conditional [B, *cond]) -> params [M', B, D, P].

    M' = M (every mask set side by side) when `mask_index` is None, else 1.

    Args:
      num_dims: D.
      num_values: values per dimension (sets the input encoding, `tfar.layers.encoding`).
      params_size: P, parameters per dimension of the likelihood head.
      degrees: `[input_degrees, hidden_1, …]`, int arrays/lists [M, D], [M, H_l]
        (`tfar.layers.masked.made_degrees`): the masks actually drawn.
      direct_connections: add a masked linear input→output path (MADE §4.3).
      column_blocks: column blocks of every masked kernel (`MaskedDense`; "auto" lets
        each layer choose).
      activation: hidden activation.
      conditional_size: size of the flattened conditional input, connected unmasked to
        every hidden layer and to the output; None for an unconditional model.
      parallel_mask_sets: how many of the M mask sets the ensemble pass (`call` without a
        `mask_index`) runs at once, an int >= 1 or "auto" (`mask_sets_at_once`).
    """

    def __init__(self, num_dims, num_values, params_size, degrees, direct_connections=False,
                 column_blocks="auto", activation="relu", conditional_size=None,
                 parallel_mask_sets="auto", **kwargs):
        super().__init__(num_dims, num_values, params_size, conditional_size=conditional_size,
                         **kwargs)
        self.require_vector_condition()
        self.degrees = [np.atleast_2d(np.asarray(d, dtype=np.int64)) for d in degrees]
        self.direct_connections = bool(direct_connections)
        self.column_blocks = column_blocks
        self.activation = activation
        self.num_masks = self.num_components = self.degrees[0].shape[0]
        features = encoding_size(self.num_values)
        input_degrees = np.repeat(self.degrees[0], features, axis=1)
        output_degrees = np.repeat(self.degrees[0], self.params_size, axis=1)
        # Without a conditional term the activation goes inside the layer (a fused kernel).
        inner_activation = activation if self.conditional_size is None else None
        self.hidden_layers = [
            MaskedDense(d.shape[1], below, d, strict=False, activation=inner_activation,
                        column_blocks=self.column_blocks, name=f"hidden_{i}")
            for i, (below, d) in enumerate(zip([input_degrees] + self.degrees[1:-1],
                                               self.degrees[1:]))]
        self.output_layer = MaskedDense(
            self.num_dims * self.params_size, ([input_degrees] + self.degrees[1:])[-1],
            output_degrees, strict=True, column_blocks=self.column_blocks,
            name="output", dtype=PARAMS_DTYPE)
        self.direct_layer = (MaskedDense(self.num_dims * self.params_size, input_degrees,
                                         output_degrees, strict=True, use_bias=False,
                                         column_blocks=self.column_blocks,
                                         name="direct", dtype=PARAMS_DTYPE)
                             if self.direct_connections else None)
        self.conditional_layers = (
            [keras.layers.Dense(layer.units, use_bias=False, name=f"conditional_{i}",
                                dtype=layer.dtype_policy)
             for i, layer in enumerate(self.hidden_layers + [self.output_layer])]
            if self.conditional_size is not None else None)
        self.hidden_activation = keras.activations.get(activation)
        self.parallel_mask_sets = parallel_mask_sets
        self.mask_sets_at_once = self._mask_sets_at_once(parallel_mask_sets)

    def _mask_sets_at_once(self, parallel_mask_sets):
        """The int that `parallel_mask_sets` means, in [1, M].

        Masks are formed in the graph so that no [M, n_in, n_out] array ever exists; each
        mask set in flight still forms its own float masks and masked kernels (as many
        values as the stored kernels, `MaskedDense.blocks`) and activations
        (B · (hidden units + D · P) values). "auto" runs as many sets at once as keep
        those masks and kernels under PARALLEL_MASK_BYTES (256 MiB): all M for small
        models, where independent sets running in parallel save per-op overhead
        (`benchmarks/ensembles.py`); one at a time for the paper's largest MADE (two
        layers of 8,000 units: 0.6 GB per set by this count), whose matmuls already fill
        the cores: there 4 at once raised the measured peak from 1.69 to 2.44 GB for no
        speed-up (`benchmarks/made_large.py --parallel_mask_sets 4`).
        """
        if parallel_mask_sets == "auto":
            weights = sum((b - a) * (hi - lo)
                          for layer in self.hidden_layers + [self.output_layer, self.direct_layer]
                          if layer is not None for a, b, lo, hi in layer.blocks)
            return int(np.clip(PARALLEL_MASK_BYTES // (2 * 4 * weights), 1, self.num_masks))
        try:  # an int, or its string from a command-line override
            count = int(parallel_mask_sets)
        except (TypeError, ValueError):
            count = 0
        if count < 1:
            raise ValueError(f"parallel_mask_sets must be an int >= 1 or 'auto'; got "
                             f"{parallel_mask_sets!r}.")
        return min(count, self.num_masks)

    def build(self, input_shape):
        """Creates every variable from the input shape [B, D] (so Keras can reload it)."""
        features = self.num_dims * encoding_size(self.num_values)
        width = features
        for layer in self.hidden_layers:
            layer.build((None, width))
            width = layer.units
        self.output_layer.build((None, width))
        if self.direct_layer is not None:
            self.direct_layer.build((None, features))
        for layer in self.conditional_layers or []:
            layer.build((None, self.conditional_size))

    def call(self, inputs, conditional_input=None, mask_index=None, encoded=False,
             training=False, seed=None):
        """inputs: values [B, D], or features [B, D, E] when `encoded` (e.g. to take
        gradients with respect to the input); returns params [M', B, D, P]. MADE has no
        dropout: `training` and `seed` change nothing.

        With M > 1 and no `mask_index`, the M mask sets run in a `tf.map_fn`,
        `mask_sets_at_once` of them in parallel (`parallel_iterations`; in a compiled
        graph: eagerly they run one after another), so memory holds that many sets'
        masked kernels at a time, not M."""
        del training, seed
        if not encoded:
            inputs = encode_values(inputs, self.num_values)
        features = tf.reshape(inputs, [tf.shape(inputs)[0], -1])
        conditional_terms = [None] * (len(self.hidden_layers) + 1)
        if self.conditional_layers is not None:
            flat = tf.reshape(conditional_input, [tf.shape(inputs)[0], self.conditional_size])
            conditional_terms = [layer(flat) for layer in self.conditional_layers]
        if mask_index is None and self.num_masks > 1:
            outputs = tf.map_fn(  # (eagerly map_fn runs in turn, and warns of more)
                lambda m: self._masked_pass(features, conditional_terms, m),
                tf.range(self.num_masks), fn_output_signature=self.output_layer.compute_dtype,
                parallel_iterations=1 if tf.executing_eagerly() else self.mask_sets_at_once)
        else:
            outputs = self._masked_pass(features, conditional_terms, mask_index)[None]
        return tf.reshape(outputs, [-1, tf.shape(inputs)[0], self.num_dims, self.params_size])

    def _masked_pass(self, features, conditional_terms, mask_index):
        """features [B, D·E] -> outputs [B, D·P] under one mask set (None when M = 1)."""
        h = features
        for layer, term in zip(self.hidden_layers, conditional_terms):
            h = layer(h, mask_index=mask_index)
            if term is not None:
                h = self.hidden_activation(h + term)
        outputs = self.output_layer(h, mask_index=mask_index)
        if self.direct_layer is not None:
            outputs = outputs + self.direct_layer(features, mask_index=mask_index)
        if conditional_terms[-1] is not None:
            outputs = outputs + conditional_terms[-1]
        return outputs

    @classmethod
    def from_config(cls, config):
        """Configs saved before `column_blocks` existed held one dense kernel per layer."""
        return super().from_config({"column_blocks": 1, **config})

    def get_config(self):
        config = super().get_config()
        config.update(num_dims=self.num_dims, num_values=self.num_values,
                      params_size=self.params_size,
                      degrees=[d.tolist() for d in self.degrees],
                      direct_connections=self.direct_connections,
                      column_blocks=self.column_blocks, activation=self.activation,
                      conditioning=self.conditioning_config(),
                      parallel_mask_sets=self.parallel_mask_sets)
        return config


@register("made")
class MADE(AutoregressiveDistribution):
    """MADE as a `tfd.Distribution` over integer vectors or images, or real vectors.

    Example:
      d = tfar.MADE(event_shape=(28, 28, 1), num_values=2, hidden_units=(500,))
      loss = d.training_loss(x, seed=step_seed)    # one random mask set when num_masks > 1
      lp = d.log_prob(x)                           # [batch] nats (ensemble over masks)
      lp_1 = d.log_prob(x, mask_index=0)           # one mask set
      s = d.sample(16, seed=(1, 2))
      mog = tfar.MADE(event_shape=(8,), hidden_units=(100,),
                      likelihood="mixture_of_gaussians", num_mixtures=10)   # MADE MoG
      lp = mog.log_prob(x)                         # x float32 [batch, 8]: density, nats

    Args:
      event_shape: (D,) or an image shape (H, W, C), flattened in row-major order.
      num_values: values per dimension; 2 (the default, None) uses the Bernoulli head by
        default; None (and no other) for a continuous head.
      hidden_units: sizes of the hidden layers.
      ordering: "left_to_right", "right_to_left", "random" (one order per mask set:
        order-agnostic) or an explicit permutation of range(D).
      hidden_degrees: "equal" or "random" (connectivity-agnostic when num_masks > 1).
      num_masks: number of mask sets M (MADE §4.2); log_prob averages them.
      direct_connections: masked linear input→output connections (§4.3).
      column_blocks: how each masked kernel is stored and multiplied: "auto" cuts a
        staircase mask (left-to-right / right-to-left orders) into column blocks that skip
        its zero corner, about 100 units each; 1 keeps one dense kernel (`MaskedDense`).
      activation: hidden activation.
      parallel_mask_sets: how many mask sets the ensemble `log_prob` runs at once (an int,
        or "auto": all M unless their masked kernels would pass 256 MiB; see
        `MADENetwork`). 1 holds one set's masked kernels at a time.
      likelihood: "bernoulli" or "categorical" (default: Bernoulli iff num_values == 2),
        or for real values "mixture_of_gaussians" or "gaussian" (`tfar.likelihoods`),
        or a head instance (e.g. `MixtureOfGaussians(5, min_scale=1e-4)`).
      num_mixtures: K of the mixture of Gaussians (default 10).
      conditional_shape: shape of a conditional input (e.g. (10,) for one-hot labels).
      conditioning: any vector-valued `tfar.conditioning.Conditioning` instead (e.g.
        `ClassLabel(10)`: int labels).
      seed: int seed for drawing orderings and degrees (stored in the network config).
      network: an existing `MADENetwork` to wrap (shares its weights).
      dtype, validate_args, name: as `tfd.Distribution`.
    """

    def __init__(self, event_shape, num_values=None, hidden_units=(500,),
                 ordering="left_to_right", hidden_degrees="equal", num_masks=1,
                 direct_connections=False, column_blocks="auto", activation="relu",
                 parallel_mask_sets="auto", likelihood=None, num_mixtures=None,
                 conditional_shape=None, conditioning=None, seed=None, network=None,
                 dtype=tf.float32, validate_args=False, name="MADE"):
        parameters = dict(locals())
        event_shape = check_event_shape(event_shape)
        head = head_for(likelihood, num_values,
                        **({} if num_mixtures is None else {"num_mixtures": num_mixtures}))
        num_values = parameters["num_values"] = head.num_values
        conditioning = from_arguments(conditional_shape=conditional_shape,
                                      conditioning=conditioning)
        if network is None:
            num_dims = int(np.prod(event_shape))
            degrees = made_degrees(num_dims, tuple(hidden_units), ordering, hidden_degrees,
                                   num_masks, seed)
            network = MADENetwork(
                num_dims, num_values, head.params_size, degrees,
                direct_connections=direct_connections, column_blocks=column_blocks,
                activation=activation, conditioning=conditioning,
                parallel_mask_sets=parallel_mask_sets, name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, event_shape, num_values, head,
                         GenerationSchedule.orderings(np.argsort(network.degrees[0], axis=1)),
                         conditioning=conditioning, dtype=dtype,
                         validate_args=validate_args, parameters=parameters, name=name)

    @property
    def num_masks(self):
        return self._network.num_masks

    @property
    def sampling_methods(self):
        """The default, "cached" (`tfar.sampling.made`), keeps the first hidden layer's
        pre-activation and reads one dimension's params per step; "naive" runs the whole
        network per step. Ensembles sample each mask set on the rows that drew it."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return made_sampler(self._network, c, components)
        return super()._make_sampler(method, c, components)

    def _log_prob(self, x, conditional_input=None, mask_index=None):
        if mask_index is None:
            return super()._log_prob(x, conditional_input)
        if isinstance(mask_index, int) and not 0 <= mask_index < self.num_masks:
            raise ValueError(f"{self.name}: mask_index must be in [0, {self.num_masks}); "
                             f"got {mask_index}.")
        x, c, batch_shape = self._flatten(x, conditional_input)
        return tf.reshape(self._masked_log_prob(x, self._features(c), mask_index), batch_shape)

    def _masked_params(self, x, c, mask_index, training=False):
        """[B, D, P] params under one mask set."""
        return tf.cast(self._network(x, conditional_input=c, mask_index=mask_index,
                                     training=training)[0], COMPUTE_DTYPE)

    def _masked_log_prob(self, x, c, mask_index, training=False):
        params = self._masked_params(x, c, mask_index, training)
        return tf.reduce_sum(self._likelihood.log_prob(params, x), axis=-1)

    def _params_of_components(self, x, c, components):
        """Each mask set runs on the rows that drew it (one network pass in all, where
        evaluating every set for every row would make M): [n, S, P]."""
        if self.num_masks == 1:
            return super()._params_of_components(x, c, components)
        rows = tf.dynamic_partition(tf.range(tf.shape(x)[0]), components, self.num_masks)
        params = [self._masked_params(tf.gather(x, index),
                                      None if c is None else tf.gather(c, index), m)
                  for m, index in enumerate(rows)]
        return tf.dynamic_stitch(rows, params)

    def _training_log_prob(self, x, conditional_input, seed):
        """One mask set drawn per call (MADE §4.2); the exact log-prob when M = 1."""
        if self.num_masks == 1:
            return self._masked_log_prob(x, conditional_input, 0, training=True)
        seed = tfp.random.sanitize_seed(seed, salt="MADE_mask")
        mask_index = tf.random.stateless_uniform([], seed=seed, maxval=self.num_masks,
                                                 dtype=tf.int32)
        return self._masked_log_prob(x, conditional_input, mask_index, training=True)
