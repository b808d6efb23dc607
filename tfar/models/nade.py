"""NADE: the Neural Autoregressive Distribution Estimator, and its order-agnostic variant.

Larochelle & Murray, AISTATS 2011, §3: with tied weights, the hidden layer of conditional
d is h_d = σ(c + W_{:,<d} x_{<d}), so all D pre-activations are one cumulative sum and
every conditional p(x_d | x_<d) = σ(b_d + V_d · h_d) costs O(H): log p(x) in O(D·H),
without a loop over D. Sigmoid hidden units as in the paper. `num_values` > 2 uses
one-hot inputs and a softmax per dimension.

Uria, Murray, Larochelle, "A Deep and Tractable Density Estimator", ICML 2014, §3–4:
order-agnostic training draws a fresh order per example; as in their DeepNADE, the
network is told which dimensions are observed (input = (x ⊙ m, m)): with tied weights
the mask input is one more cumulative sum of learned vectors U_d. Evaluation averages
`num_orderings` fixed orders as an ensemble, p(x) = (1/K) Σ_k p(x | o_k) (log-mean-exp).
Here every training step uses the exact log-likelihood of the drawn order (O(D·H) per
example, thanks to the tied weights) rather than DeepNADE's one-step estimator.
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar import replicas
from tfar.conditioning import from_arguments
from tfar.autoregressive import (AutoregressiveDistribution, check_event_shape,
                                 head_for)
from tfar.layers.encoding import encode_values, encoding_size
from tfar.layers.masked import input_order
from tfar.network import PARAMS_DTYPE, AutoregressiveNetwork
from tfar.sampling.nade import NADESampler
from tfar.schedule import GenerationSchedule
from tfar.registry import register


def exclusive_cumsum(a):
    """Σ_{k<d} a[k] along axis 0 of a [D, ...], blocked: equals `tf.cumsum(a, 0, exclusive=True)`.

    With blocks of s ≈ √D rows, the sums inside a block are one matmul with a strictly
    lower-triangular s×s matrix and the block offsets a cumulative sum over D/s rows.
    TF's CPU Cumsum over a [784, 100, 500] tensor is memory-bound and ~2.5x slower.
    """
    num_dims = a.shape[0]
    size = max(1, int(round(math.sqrt(num_dims))))
    num_blocks = -(-num_dims // size)
    rest = tf.shape(a)[1:]
    blocks = tf.reshape(tf.pad(tf.reshape(a, [num_dims, -1]), [[0, num_blocks * size - num_dims], [0, 0]]),
                        [num_blocks, size, -1])
    strictly_lower = tf.constant(np.tril(np.ones((size, size)), -1), a.dtype)
    within = tf.einsum("ij,njk->nik", strictly_lower, blocks)
    offsets = tf.cumsum(tf.reduce_sum(blocks, axis=1), axis=0, exclusive=True)
    sums = tf.reshape(within + offsets[:, None], [num_blocks * size, -1])[:num_dims]
    return tf.reshape(sums, tf.concat([[num_dims], rest], 0))


@keras.saving.register_keras_serializable(package="tfar")
class NADENetwork(AutoregressiveNetwork):
    """Tied-weight NADE: values [B, D] (+ conditional) -> params [K, B, D, P] for K orders.

    Weights: W [D, E, H] (input → hidden, E = input features per dimension), c [H],
    V [D, H, P] (hidden → params of dimension d), b [D, P], U [D, H] (the
    observed-mask input) when order-agnostic, and ρ [D] (RNADE's activity rescaling,
    h_d = σ(ρ_d · a_d), Uria et al. 2013 §2; initialized to 1) when `activity_rescaling`.

    Args:
      num_dims: D.
      num_values: values per dimension (input encoding), or None for real values (RNADE:
        the value itself is the input, E = 1).
      params_size: P.
      hidden_units: H.
      orderings: int array/list [K, D], the stored evaluation orders.
      order_agnostic: add the mask-input weights U (Uria et al. 2014).
      activity_rescaling: add RNADE's per-dimension rescaling ρ_d of the hidden
        pre-activation.
      conditional_size: size of a flattened conditional input (added to the hidden
        pre-activation and to the output params), or None.
    """

    def __init__(self, num_dims, num_values, params_size, hidden_units, orderings,
                 order_agnostic=False, conditional_size=None, activity_rescaling=False,
                 **kwargs):
        super().__init__(num_dims, num_values, params_size, conditional_size=conditional_size,
                         **kwargs)
        self.require_vector_condition()
        self.hidden_units = int(hidden_units)
        self.orderings = np.atleast_2d(np.asarray(orderings, dtype=np.int64))
        self.num_components = self.orderings.shape[0]
        self.order_agnostic = bool(order_agnostic)
        self.activity_rescaling = bool(activity_rescaling)
        self.features = encoding_size(self.num_values)
        if self.conditional_size is not None:
            self.conditional_hidden = keras.layers.Dense(self.hidden_units, use_bias=False,
                                                         name="conditional_hidden")
            self.conditional_output = keras.layers.Dense(self.num_dims * self.params_size,
                                                         use_bias=False, name="conditional_output",
                                                         dtype=PARAMS_DTYPE)

    def build(self, input_shape):
        d, e, h, p = self.num_dims, self.features, self.hidden_units, self.params_size
        self.w = self.add_weight(name="W", shape=(d, e, h), initializer="glorot_uniform")
        self.c = self.add_weight(name="c", shape=(h,), initializer="zeros")
        # The output weights compute in float32 under a mixed policy (never autocast).
        self.v = self.add_weight(name="V", shape=(d, h, p), initializer="glorot_uniform",
                                 autocast=False)
        self.b = self.add_weight(name="b", shape=(d, p), initializer="zeros", autocast=False)
        self.u = (self.add_weight(name="U", shape=(d, h), initializer="glorot_uniform")
                  if self.order_agnostic else None)
        self.rho = (self.add_weight(name="rho", shape=(d,), initializer="ones")
                    if self.activity_rescaling else None)
        if self.conditional_size is not None:
            self.conditional_hidden.build((None, self.conditional_size))
            self.conditional_output.build((None, self.conditional_size))

    def _conditional_terms(self, conditional_input, batch_size):
        """(hidden term [B, H], output term [B, D, P]), or zeros without a condition."""
        if self.conditional_size is None:
            return 0.0, 0.0
        flat = tf.reshape(conditional_input, [batch_size, self.conditional_size])
        out = tf.reshape(self.conditional_output(flat), [batch_size, self.num_dims, self.params_size])
        return self.conditional_hidden(flat), out

    def conditionals(self, inputs, order=None, conditional_input=None, encoded=False):
        """Params of every conditional under one order per example, in O(D·H).

        The work happens in a dimension-major layout [D, B, H]: the contributions
        W_d x_d are one batched matmul (`_contributions`), the cumulative sum runs over the
        outer axis and the outputs are one more batched matmul (`_ordered_params`), so no
        [B, D, H] tensor is ever transposed.

        Args:
          inputs: [B, D] values, or features [B, D, E] when `encoded`.
          order: None (left to right), int [D] (one order) or [B, D] (one per example).
          conditional_input: [B, *cond] or None.

        Returns:
          [B, D, P], indexed by dimension (not by position in the order).
        """
        batch_size = tf.shape(inputs)[0]
        return self._ordered_params(self._contributions(inputs, encoded), order,
                                    *self._conditional_terms(conditional_input, batch_size))

    def _contributions(self, inputs, encoded=False):
        """W_d x_d (+ U_d when order-agnostic) of every dimension d: [D, B, H].

        The part of the hidden pre-activations that does not depend on the order: an
        ensemble computes it once for all its orders (`call`).

        Args:
          inputs: [B, D] values, or features [B, D, E] when `encoded`.
        """
        features = inputs if encoded else encode_values(inputs, self.num_values)
        contributions = tf.matmul(tf.transpose(features, [1, 0, 2]), self.w)      # [D, B, H]
        if self.u is not None:
            contributions = contributions + self.u[:, None, :]
        return contributions

    def _ordered_params(self, contributions, order, hidden_term=0.0, output_term=0.0):
        """Params [B, D, P] from `contributions` [D, B, H] under `order` (as `conditionals`):
        the exclusive cumulative sum of the contributions in that order, σ, then V and b.

        hidden_term [B, H] and output_term [B, D, P] are the condition's terms (or 0.0).
        """
        v, b = tf.convert_to_tensor(self.v), tf.convert_to_tensor(self.b)
        per_example = order is not None and len(order.shape) == 2
        if per_example:  # position i of example n holds dimension order[n, i]
            batch_size = tf.shape(contributions)[1]
            rows = tf.broadcast_to(tf.range(batch_size)[None, :], [self.num_dims, batch_size])
            contributions = tf.gather_nd(contributions,
                                         tf.stack([tf.transpose(order), rows], axis=-1))
        elif order is not None:  # one order: permute the small output weights instead
            contributions = tf.gather(contributions, order)
            v, b = tf.gather(v, order), tf.gather(b, order)
        pre_activation = exclusive_cumsum(contributions) + self.c
        if self.conditional_size is not None:
            pre_activation = pre_activation + hidden_term[None]
        if self.rho is not None:  # ρ of the dimension at each position: [D, 1 or B, 1]
            rho = tf.convert_to_tensor(self.rho)
            if per_example:  # a one-hot product, not a gather: a dense gradient of ρ
                rho = tf.linalg.matvec(tf.one_hot(tf.transpose(order), self.num_dims,
                                                  dtype=rho.dtype), rho)[..., None]
            else:
                rho = (rho if order is None else tf.gather(rho, order))[:, None, None]
            pre_activation = tf.cast(rho, pre_activation.dtype) * pre_activation
        hidden = tf.sigmoid(pre_activation)                                         # [D, B, H]
        if per_example:  # back from positions to dimensions
            positions = tf.transpose(tf.argsort(order, axis=-1))
            hidden = tf.gather_nd(hidden, tf.stack([positions, rows], axis=-1))
        params = tf.transpose(tf.matmul(tf.cast(hidden, v.dtype), v), [1, 0, 2]) + b  # [B, D, P]
        if order is not None and not per_example:
            params = tf.gather(params, tf.argsort(order), axis=1)
        return params + output_term

    def call(self, inputs, conditional_input=None, encoded=False, training=False, seed=None):
        """Params [K, B, D, P] under each stored order (see `conditionals`). NADE has no
        dropout: `training` and `seed` change nothing.

        The order-independent parts, the contributions W_d x_d [D, B, H] and the
        condition's terms, are computed once and shared by the K orders; each order adds
        its own cumulative sum. Memory: the shared [D, B, H] contributions beside each
        order's working tensors of the same size."""
        del training, seed
        contributions = self._contributions(inputs, encoded)
        terms = self._conditional_terms(conditional_input, tf.shape(inputs)[0])
        params = []
        for order in self.orderings:
            is_identity = np.array_equal(order, np.arange(self.num_dims))
            params.append(self._ordered_params(
                contributions, None if is_identity else tf.constant(order, tf.int32), *terms))
        return tf.stack(params)

    # Incremental (cached) sampling: the running pre-activation a = c + Σ_{k<i} W_{o_k} x_{o_k}.

    def initial_state(self, conditional_input, batch_size):
        """(a [n, H], output term [n, D, P] or 0.0) before any dimension is generated.

        The sampler carries them in the variables' dtype (float32 also under a mixed
        policy, whose Dense layers return float16 terms)."""
        c = tf.convert_to_tensor(self.c)
        hidden_term, output_term = (
            term if isinstance(term, float) else tf.cast(term, c.dtype)
            for term in self._conditional_terms(conditional_input, batch_size))
        a = tf.broadcast_to(c + hidden_term,
                            [batch_size, self.hidden_units])
        return a, output_term

    def step_params(self, a, dims, output_term):
        """Params [n, P] of dimension dims[b] given the running pre-activation a [n, H]."""
        v = tf.gather(self.v, dims)
        if self.rho is not None:
            a = tf.gather(tf.cast(self.rho, a.dtype), dims)[:, None] * a
        params = tf.einsum("nh,nhp->np", tf.cast(tf.sigmoid(a), v.dtype), v) + tf.gather(self.b, dims)
        if self.conditional_size is not None:
            params = params + tf.gather(output_term, dims, batch_dims=1)
        return params

    def step_update(self, a, dims, values):
        """Adds the contribution of x_{dims[b]} = values[b] to a [n, H]."""
        features = encode_values(values[:, None], self.num_values)[:, 0]       # [n, E]
        a = a + tf.einsum("ne,neh->nh", features, tf.gather(self.w, dims))
        return a if self.u is None else a + tf.gather(self.u, dims)

    def get_config(self):
        config = super().get_config()
        config.update(num_dims=self.num_dims, num_values=self.num_values,
                      params_size=self.params_size, hidden_units=self.hidden_units,
                      orderings=self.orderings.tolist(), order_agnostic=self.order_agnostic,
                      activity_rescaling=self.activity_rescaling,
                      conditioning=self.conditioning_config())
        return config


def build_network(event_shape, num_values, head, hidden_units, ordering, num_orderings,
                  seed, name, **options):
    """A built `NADENetwork` for a constructor's arguments: `num_orderings` orders drawn
    by `ordering` from `seed`; `options` (order_agnostic, conditioning,
    activity_rescaling) go to the network."""
    num_dims = int(np.prod(event_shape))
    if num_orderings > 1 and not (isinstance(ordering, str) and ordering == "random"):
        raise ValueError(f"num_orderings={num_orderings} > 1 needs ordering='random'; "
                         f"got ordering={ordering!r} (every order would be the same).")
    rng = np.random.default_rng(seed)
    orderings = [input_order(num_dims, ordering, rng) for _ in range(num_orderings)]
    return NADENetwork(num_dims, num_values, head.params_size, hidden_units, orderings,
                       name=f"{name}_network", **options).build_variables()


@register("nade")
class NADE(AutoregressiveDistribution):
    """NADE as a `tfd.Distribution`; sampling is incremental ("cached", O(D·H) per image).

    Example:
      d = tfar.NADE(event_shape=(784,), num_values=2, hidden_units=500)
      lp = d.log_prob(x)                               # [batch] nats
      s = d.sample(16, seed=(1, 2))                    # method="cached" by default
      oa = tfar.NADE(event_shape=(784,), hidden_units=500, order_agnostic=True,
                     ordering="random", num_orderings=8)   # DeepNADE-style training,
                                                           # 8-order ensemble at test

    Args:
      event_shape: (D,) or an image shape, flattened in row-major order.
      num_values: values per dimension (2: Bernoulli head by default).
      hidden_units: H.
      ordering: "left_to_right", "right_to_left", "random" or an explicit permutation:
        the evaluation order(s).
      num_orderings: K evaluation orders for the ensemble (needs ordering="random").
      order_agnostic: train on a random order per example (Uria et al. 2014).
      likelihood: "bernoulli" or "categorical".
      conditional_shape: shape of a conditional input.
      conditioning: any vector-valued `tfar.conditioning.Conditioning` instead.
      seed: int seed for drawing random orders (stored in the network config).
      network: an existing `NADENetwork` to wrap.
      dtype, validate_args, name: as `tfd.Distribution`.
    """

    def __init__(self, event_shape, num_values=2, hidden_units=500, ordering="left_to_right",
                 num_orderings=1, order_agnostic=False, likelihood=None, conditional_shape=None,
                 conditioning=None, seed=None, network=None, dtype=tf.float32,
                 validate_args=False, name="NADE"):
        parameters = dict(locals())
        event_shape = check_event_shape(event_shape)
        head = head_for(likelihood, num_values)
        conditioning = from_arguments(conditional_shape=conditional_shape,
                                      conditioning=conditioning)
        if network is None:
            network = build_network(event_shape, num_values, head, hidden_units, ordering,
                                    num_orderings, seed, name, order_agnostic=order_agnostic,
                                    conditioning=conditioning)
        parameters["network"] = network
        super().__init__(network, event_shape, num_values, head,
                         GenerationSchedule.orderings(network.orderings),
                         conditioning=conditioning, dtype=dtype,
                         validate_args=validate_args, parameters=parameters, name=name)

    def _training_log_prob(self, x, conditional_input, seed):
        """A random order per example when order-agnostic; otherwise the exact log-prob."""
        if not self._network.order_agnostic:
            return self._flat_log_prob(x, conditional_input)
        seed = tfp.random.sanitize_seed(seed, salt="NADE_orders")
        orders = tf.argsort(replicas.uniform(tf.shape(x), seed), axis=-1)   # one per example
        params = self._network.conditionals(x, orders, conditional_input)
        return tf.reduce_sum(self._likelihood.log_prob(params, x), axis=-1)

    @property
    def sampling_methods(self):
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return NADESampler(self._network, c, components)
        return super()._make_sampler(method, c, components)
