"""`AutoregressiveDistribution`: the `tfd.Distribution` every tfar model subclasses.

An autoregressive model factorizes p(x) = ∏_i p(x_{o_i} | x_{o_<i}) over an order o of the
D = prod(event_shape) dimensions (Larochelle & Murray 2011, §2; Germain et al. 2015, §3).
A subclass supplies a network that, from a teacher-forced input, returns the parameters of
every conditional at once; this base class turns them into

- `log_prob(x)`: one network pass, summed per-dimension head log-probs (nats);
- `sample(n, seed)` / `complete(x, observed_mask, seed)`: the in-graph `tf.while_loop`
  of `tfar.sampling` over the model's `tfar.schedule.GenerationSchedule`, fed by one
  network pass per step (`method="naive"`) or by the model's cached sampler;
- ensembles: a model may hold M components (MADE mask sets, NADE orderings), and then
  p(x) = (1/M) Σ_m p_m(x): log-mean-exp of joint log-probs, never an average of logits
  (Germain et al. 2015, §4.2). Sampling draws a component per sample, then samples it.

Seeds follow TFP: `None`, an int, or a stateless pair; the seed is sanitized once and split
into one stateless seed per step (`tfar.random.split`, TF's `stateless_split`), so a
stateless seed gives the same samples eagerly, under `tf.function`, inside a SavedModel
and with the loop compiled by XLA (`sample(n, seed, jit_compile=True)`: every draw goes
through `tfar.random`, the same numbers inside and outside XLA).
"""

import math

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfar import conditioning as conditioning_lib
from tfar import likelihoods, random, sampling
from tfar.distribution import NetworkDistribution
from tfar.inputs import COMPUTE_DTYPE, fail_unless, unless_empty
from tfar.network import check_compatible, signature
from tfar.sampling import completion

tfd = tfp.distributions

class AutoregressiveDistribution(NetworkDistribution):
    """Base class of tfar's models; see the module docstring.

    Subclasses call `__init__` with their built network (a `tfar.network.
    AutoregressiveNetwork`: its call returns params [M, B, U, P], see `_component_params`)
    and its generation schedule; they may override `_training_log_prob` (a stochastic
    training objective, e.g. one random MADE mask per step) and `_params_of_components`
    (each row under its own component), and offer faster samplers by listing their names
    in `sampling_methods` and returning them from `_make_sampler`.

    Args:
      network: the Keras 3 model inside (already built, so its variables exist).
      event_shape: shape of one event, e.g. (784,) or (28, 28, 1).
      num_values: number of integer values per dimension; None takes the head's (None
        for a continuous head: real values).
      likelihood: a `tfar.likelihoods.Likelihood`; its `values_per_unit` must be the
        schedule's `unit_size`, its `support` says what values events hold.
      schedule: a `tfar.schedule.GenerationSchedule` over the network's units: for each
        of the M components and each step, the units that step writes.
      conditioning: what `conditional_input` is (a `tfar.conditioning.Conditioning`),
        or None for none; it must be the network's.
      conditional_shape: the older way to say `conditioning=Vector(conditional_shape)`.
      dtype: dtype of events, float or integer (float32 by default; float for real
        values); values are the head's `support`. Networks compute, and log_prob
        returns, float32.
      validate_args: check values of inputs (range, integrality) at run time.
      allow_nan_stats, parameters, name: as `tfd.Distribution`.
    """

    def __init__(self, network, event_shape, num_values, likelihood, schedule,
                 conditioning=None, dtype=tf.float32, validate_args=False,
                 allow_nan_stats=True, parameters=None, name=None, conditional_shape=None):
        conditioning = conditioning_lib.from_arguments(conditional_shape=conditional_shape,
                                                       conditioning=conditioning)
        self._num_dims = int(np.prod(list(event_shape)))
        self._likelihood = likelihood
        if num_values is None:
            num_values = likelihood.num_values
        elif likelihood.num_values != int(num_values):
            raise ValueError(f"The {likelihood.name} head models {likelihood.num_values} "
                             f"values, not num_values={num_values}.")
        self._schedule = schedule
        if schedule.num_dims != self._num_dims or (
                schedule.unit_size != likelihood.values_per_unit):
            raise ValueError(
                f"The schedule writes {schedule.num_units} units of {schedule.unit_size} "
                f"values, but the {likelihood.name} head models {likelihood.values_per_unit} "
                f"values per unit of the {self._num_dims} dimensions.")
        check_compatible(network, dict(
            num_dims=self._num_dims,
            num_values=None if num_values is None else int(num_values),
            params_size=likelihood.params_size, num_units=schedule.num_units,
            conditioning=signature(conditioning),
            num_components=schedule.num_components), name or type(self).__name__)
        # The network's own object: a caption's text encoder is the network's layer.
        super().__init__(network, event_shape, num_values, network.conditioning, dtype,
                         validate_args, allow_nan_stats, parameters, name,
                         support=likelihood.support)

    # ---------------------------------------------------------------- properties

    @property
    def likelihood(self):
        """The per-dimension head (`tfar.likelihoods.Likelihood`)."""
        return self._likelihood

    @property
    def schedule(self):
        """The `tfar.schedule.GenerationSchedule`: which units each step writes."""
        return self._schedule

    @property
    def orderings(self):
        """int array [M, U]: the units (dimensions, or pixels for a pixel head) of each of
        the M components in generation order (`schedule.order`)."""
        return self._schedule.order

    @property
    def num_components(self):
        """M, the ensemble's components (MADE mask sets, NADE orderings)."""
        return self._schedule.num_components

    @property
    def sampling_methods(self):
        """The samplers this model offers; the last is the default of `sample`/`complete`."""
        return ("naive",)

    # ---------------------------------------------------------------- subclass hooks

    def _component_params(self, x, conditional_input, training=False, seed=None):
        """Parameters of every conditional, teacher-forced: one call of the network.

        Args:
          x: float [B, D], values in [0, num_values).
          conditional_input: the condition's features (`_features`) [B, ...] or None.
          training: True only for the training objective (the network's dropout).
          seed: the stateless seed of the network's noise in training.

        Returns:
          float32 [M, B, U, params_size]: the params of p_m(unit u | the units written
          before u in component m's schedule) (the networks emit float32 params under
          every dtype policy; `tfar.network.PARAMS_DTYPE`).
        """
        return tf.cast(self._network(x, conditional_input=conditional_input,
                                     training=training, seed=seed), COMPUTE_DTYPE)

    def _training_log_prob(self, x, conditional_input, seed):
        """[B] log-probs used as the training objective: by default the exact ones with
        the network in training mode (its dropout, if any, drawn from `seed`).

        `seed` comes as the caller gave it; a model or network that draws from it
        sanitizes it (`tfp.random.sanitize_seed`), so deterministic objectives pay
        nothing for it."""
        return self._flat_log_prob(x, conditional_input, training=True, seed=seed)

    # ---------------------------------------------------------------- input handling

    def _flatten(self, x, conditional_input):
        """Broadcasts batch dims of x and c; returns x [B, D], the checked raw condition
        c [B, *conditional_shape] (or None) and the batch shape."""
        x = self._check_values(x)
        c = self._check_conditional(conditional_input)
        event_rank = self._static_event_shape.rank
        batch_shape = tf.shape(x)[:tf.rank(x) - event_rank]
        if c is not None:
            cond_shape = self._conditioning.shape
            cond_rank = cond_shape.rank
            x_batch = x.shape[:x.shape.rank - event_rank] if x.shape.rank is not None else None
            c_batch = c.shape[:c.shape.rank - cond_rank] if c.shape.rank is not None else None
            if x_batch is not None and c_batch is not None:
                try:
                    tf.broadcast_static_shape(x_batch, c_batch)
                except ValueError:
                    raise ValueError(
                        f"{self.name}: the batch dims of x {x_batch} and of conditional_input "
                        f"{c_batch} do not broadcast; expected equal batch dims (or 1s).") from None
            batch_shape = tf.broadcast_dynamic_shape(batch_shape, tf.shape(c)[:tf.rank(c) - cond_rank])
            c = tf.broadcast_to(c, tf.concat([batch_shape, cond_shape], 0))
            c = tf.reshape(c, [-1] + cond_shape.as_list())
            x = tf.broadcast_to(x, tf.concat([batch_shape, self._static_event_shape], 0))
        return tf.reshape(x, [-1, self._num_dims]), c, batch_shape

    def _features(self, c, training=False):
        """The raw condition c [B, *conditional_shape] (or None) -> the features the
        network takes (`AutoregressiveNetwork.encode_condition`): computed once per call,
        then shared by every step of a sampling loop."""
        return self._network.encode_condition(c, training=training)

    # ---------------------------------------------------------------- log-probabilities

    def _flat_log_prob(self, x, c, training=False, seed=None):
        """[B] exact log p(x): log-mean-exp over the M components of joint log-probs
        (`training`, `seed`: see `_component_params`)."""
        params = self._component_params(x, c, training, seed)          # [M, B, U, P]
        joint = tf.reduce_sum(
            self._likelihood.log_prob(params, self._unit_values(x)[None]),
            axis=-1)                                                    # [M, B]
        if self.num_components == 1:
            return joint[0]
        return tf.reduce_logsumexp(joint, axis=0) - math.log(self.num_components)

    def _unit_values(self, x):
        """x [..., D] as the head takes it: [..., U] or [..., U, C] (`pixel_head`)."""
        return self._schedule.unit_values(x, channel_axis=self._likelihood.pixel_head)

    def _log_prob(self, x, conditional_input=None):
        x, c, batch_shape = self._flatten(x, conditional_input)
        log_prob = unless_empty(x, lambda: self._flat_log_prob(x, self._features(c)),
                                 lambda: tf.zeros([0], COMPUTE_DTYPE))
        return tf.reshape(log_prob, batch_shape)

    def training_log_prob(self, x, conditional_input=None, seed=None):
        """[...] the log-probs of x [..., *event_shape] that training maximizes, nats.

        Equal to `log_prob(x)` unless the model trains on a stochastic objective (MADE
        with `num_masks` > 1: one random mask set per call; order-agnostic NADE: a random
        order per example; dropout in the network), whose choices `seed` draws. The
        network runs in training mode only here (and in `training_loss`).
        """
        with tf.name_scope(f"{self.name}/training_log_prob"):
            x, c, batch_shape = self._flatten(x, conditional_input)
            features = self._features(c, training=True)
            return tf.reshape(self._training_log_prob(x, features, seed), batch_shape)

    def training_loss(self, x, conditional_input=None, seed=None):
        """Mean negative log-likelihood (nats per example) to minimize in training:
        `-mean(training_log_prob(x, conditional_input, seed))`."""
        with tf.name_scope(f"{self.name}/training_loss"):
            x, c, _ = self._flatten(x, conditional_input)
            return -tf.reduce_mean(self._training_log_prob(x, self._features(c, training=True),
                                                           seed))

    # ---------------------------------------------------------------- sampling

    def _sample_n(self, n, seed=None, conditional_input=None, method=None, jit_compile=False):
        c = self._check_conditional(conditional_input)
        x = tf.zeros([n, self._num_dims], dtype=COMPUTE_DTYPE)
        observed = tf.zeros([n, self._num_dims], dtype=tf.bool)

        def loop():
            features = None
            if c is not None:   # the C rows' features, once; sample i takes row i mod C
                rows = tf.reshape(c, [-1] + self._conditioning.shape.as_list())   # [C, ...]
                count = tf.shape(rows)[0]
                repeats = n // tf.maximum(count, 1)   # no division by zero for no rows
                with tf.control_dependencies([fail_unless(
                        tf.equal(repeats * count, n),
                        [f"{self.name}: the sample shape must end in the batch shape of "
                         "conditional_input (TFP's PixelCNN convention); got", n,
                         "samples for", count, "conditional rows."])]):
                    features = self._features(rows)
                    features = tf.tile(features, tf.concat(
                        [[repeats], tf.ones([tf.rank(features) - 1], tf.int32)], 0))
            return self._run_loop(x, observed, features, seed, method, jit_compile)

        samples = unless_empty(x, loop, lambda: x)
        return tf.cast(tf.reshape(samples, tf.concat([[n], self._static_event_shape], 0)),
                       self.dtype)

    def complete(self, x, observed_mask, seed=None, conditional_input=None, method=None,
                 num_particles=1, jit_compile=False, name="complete"):
        """Fills the unobserved dimensions of x by sampling them in the model's order.

        Each unobserved dimension is drawn from p(x_d | x_<d) given everything before it
        in the order (observed values and earlier draws): exact conditional sampling when
        the observed dimensions precede the unobserved ones (e.g. the top rows of an
        image in raster order). An ensemble first draws its component from
        q(m) ∝ p_m(observed dims given their predecessors), which is the posterior
        p(m | observed) when the observed dimensions come first in every component's
        order.

        For any other observed set (e.g. the left half of an image in raster order, or
        an order-agnostic ensemble), that sequential completion q(x_u | x_o) is only an
        approximation; `num_particles` = K > 1 makes it exact in the limit by
        sampling–importance–resampling (`tfar.sampling.completion`): K completions are
        drawn per row from q and one is kept with probability ∝ p(x) / q(x_u | x_o),
        both from one more network pass over the K completions. The result tends to
        p(x_u | x_o) as K → ∞, with a bias O(1/K); it costs K times the loop. With the
        observed dimensions first in every component's order, K = 1 is already exact.
        Exact for units of one dimension (every head but a pixel head), or units
        observed wholly or not at all: a partially observed pixel of the logistic
        mixture is not weighed exactly.

        Args:
          x: [..., *event_shape] values; unobserved entries are ignored.
          observed_mask: bool, broadcastable to x: True where x is observed.
          seed, conditional_input, method, jit_compile: as `sample`.
          num_particles: K >= 1, a Python int or an integer scalar tensor (as in exported
            signatures): completions drawn per row to resample from, the first with
            `seed` itself; K = 1 (the default) returns the sequential completion.

        Returns:
          [..., *event_shape]: x with the unobserved dimensions sampled; observed values
          are kept.
        """
        with self._name_and_control_scope(name):
            num_particles = self._check_num_particles(num_particles)
            x = self._convert(x, self.dtype, "x", self._support.describe())
            x = self._check_trailing_shape(x, self._static_event_shape, "x", "event_shape")
            observed = self._check_observed_mask(observed_mask, x)
            x = tf.where(observed, x, tf.zeros([], x.dtype))   # unobserved values are ignored
            flat_x, c, batch_shape = self._flatten(x, conditional_input)
            full_shape = tf.concat([batch_shape, self._static_event_shape], 0)
            flat_observed = tf.reshape(tf.broadcast_to(observed, full_shape), [-1, self._num_dims])

            def fill():
                features = self._features(c)
                if isinstance(num_particles, int) and num_particles == 1:
                    return self._run_loop(flat_x, flat_observed, features, seed, method,
                                          jit_compile)
                return self._resampled_completion(flat_x, flat_observed, features, seed,
                                                  method, num_particles, jit_compile)

            filled = unless_empty(flat_x, fill, lambda: flat_x)
            return tf.cast(tf.reshape(filled, full_shape), self.dtype)

    def _check_num_particles(self, num_particles):
        """K as a Python int >= 1, or an int32 scalar tensor (an exported `complete`'s
        input) checked >= 1 at run time; a ValueError or InvalidArgumentError naming it."""
        if isinstance(num_particles, (int, np.integer)) and not isinstance(num_particles, bool):
            if num_particles < 1:
                raise ValueError(f"{self.name}: num_particles must be an int >= 1; got "
                                 f"{num_particles!r}.")
            return int(num_particles)
        if not tf.is_tensor(num_particles) or not num_particles.dtype.is_integer or (
                num_particles.shape.rank != 0):
            raise ValueError(f"{self.name}: num_particles must be an int >= 1 or an integer "
                             f"scalar tensor; got {num_particles!r}.")
        if tf.executing_eagerly():
            return self._check_num_particles(int(num_particles))
        k = tf.cast(num_particles, tf.int32)
        message = f"{self.name}: num_particles must be >= 1; got"
        with tf.control_dependencies([fail_unless(k >= 1, [message, k])]):
            return tf.identity(k)

    def _resampled_completion(self, x, observed, c, seed, method, num_particles, jit_compile):
        """`complete` by sampling–importance–resampling over K = `num_particles` (a Python
        int, or an int32 scalar tensor) sequential completions per row
        (`tfar.sampling.completion`): x, observed [n, D], the condition's features c
        [n, …] or None -> [n, D]. The particles are drawn with `seed` itself, so K = 1
        gives the sequential completion of the same seed (a tensor K = 1 skips the
        weighing pass)."""
        resample_seed = tfp.random.sanitize_seed(seed, salt="autoregressive_resample")
        k = num_particles
        tiled_c = None if c is None else tf.repeat(c, k, axis=0)
        tiled_observed = tf.repeat(observed, k, axis=0)           # row b's particles: b·K …
        particles = self._run_loop(tf.repeat(x, k, axis=0), tiled_observed, tiled_c, seed,
                                   method, jit_compile)                          # [n·K, D]
        if isinstance(k, int):
            return self._resample(x, observed, c, particles, tiled_c, tiled_observed, k,
                                  resample_seed)
        return tf.cond(k > 1, lambda: self._resample(x, observed, c, particles, tiled_c,
                                                     tiled_observed, k, resample_seed),
                       lambda: particles)

    def _resample(self, x, observed, c, particles, tiled_c, tiled_observed, k, seed):
        """One of each row's K particles [n·K, D], kept with probability ∝ its importance
        weight p(x) / q(x_u | x_o) (`tfar.sampling.completion`) -> [n, D]."""
        joint = self._likelihood.log_prob(self._component_params(particles, tiled_c),
                                          self._unit_values(particles)[None])    # [M, n·K, U]
        unobserved = tf.logical_not(tf.reduce_all(
            self._schedule.unit_values(tiled_observed, channel_axis=True), axis=-1))  # [n·K, U]
        if self.num_components == 1:
            logits = tf.zeros([tf.shape(particles)[0], 1])
        else:  # the logits `_draw_components` drew each particle's component from
            logits = tf.repeat(tf.transpose(self._component_logits(x, observed, c)), k, axis=0)
        log_weights = completion.log_importance_weights(joint, unobserved, logits,
                                                      self.num_components)
        n = tf.shape(x)[0]
        return completion.resample(
            tf.reshape(particles, [n, k, self._num_dims]), tf.reshape(log_weights, [n, k]), seed)

    def _run_loop(self, x, observed, c, seed, method, jit_compile=False):
        """x, observed [n, D], the condition's features c (or None) -> [n, D]: the
        component draw and `tfar.sampling.run` with the sampler named `method`, compiled
        with XLA when `jit_compile` (the same samples: `tfar.random`)."""
        method = method or self.sampling_methods[-1]
        if method not in self.sampling_methods:
            raise ValueError(f"{self.name}: method must be one of {self.sampling_methods}; "
                             f"got {method!r}.")
        seed = tfp.random.sanitize_seed(seed, salt="autoregressive_sample")
        if jit_compile:
            return self._compiled_loop(x, observed, c, seed, method)
        return self._loop(x, observed, c, seed, method)

    @tf.function(jit_compile=True, autograph=False)
    def _compiled_loop(self, x, observed, c, seed, method):
        """`_loop` compiled with XLA, its draws on `tfar.random`'s XLA path; one trace
        and compilation per method, condition and shape, kept per distribution."""
        with random.xla():
            return self._loop(x, observed, c, seed, method)

    def _loop(self, x, observed, c, seed, method):
        component_seed, loop_seed = tf.unstack(random.split(seed, 2))
        step_seeds = random.split(loop_seed, self._schedule.num_steps)
        components = self._draw_components(x, observed, c, component_seed)
        sampler = self._make_sampler(method, c, components)
        return sampling.run(sampler, self._schedule, self._likelihood, x, observed, components,
                            step_seeds)

    def _make_sampler(self, method, c, components):
        """The `tfar.sampling.Sampler` named `method`, bound to the rows' condition
        features c (`_features`) and components [n]. Subclasses with faster samplers override this (and
        `sampling_methods`) and defer to it for "naive"."""
        del method  # the base class offers "naive" only
        return sampling.NaiveSampler(lambda x: self._params_of_components(x, c, components))

    def _draw_components(self, x, observed, c, seed):
        """[n] component per row, from p(m | observed units): uniform when none is observed."""
        if self.num_components == 1:
            return tf.zeros([tf.shape(x)[0]], tf.int32)
        logits = self._component_logits(x, observed, c)                          # [M, n]
        return random.categorical(tf.transpose(logits), seed)

    def _component_logits(self, x, observed, c):
        """[M, n]: log p_m(observed units | the units before each in m's order), the
        unobserved values read as zeros; a unit is observed when all its dimensions are.
        `_draw_components` draws from their softmax."""
        log_probs = self._likelihood.log_prob(self._component_params(x, c),
                                              self._unit_values(x)[None])         # [M, n, U]
        observed_units = self._schedule.unit_values(observed, channel_axis=True)
        observed_units = tf.reduce_all(observed_units, axis=-1)                  # [n, U]
        return tf.reduce_sum(tf.where(observed_units[None], log_probs, 0.0), axis=-1)

    def _params_of_components(self, x, c, components):
        """[n, U, P]: the params of row b under component `components[b]`.

        This default evaluates every component and keeps one per row; a model that can
        run one component on a subset of rows overrides it (MADE)."""
        params = self._component_params(x, c)                                   # [M, n, U, P]
        if self.num_components == 1:
            return params[0]
        index = tf.stack([components, tf.range(tf.shape(components)[0])], axis=-1)
        return tf.gather_nd(params, index)


def check_event_shape(event_shape):
    """Validates an event shape given to a constructor; returns it as a tuple of ints."""
    shape = tuple(int(s) for s in event_shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"event_shape must be a non-empty tuple of positive ints; got {event_shape!r}.")
    return shape


def head_for(likelihood, num_values, **options):
    """The likelihood head for a constructor's `likelihood=` / `num_values=` arguments
    (`options` go to heads that take them, e.g. the logistic mixture's `num_channels`;
    num_values None: 2 for the default head, none for a continuous head)."""
    return likelihoods.get(likelihood, None if num_values is None else int(num_values),
                           **options)
