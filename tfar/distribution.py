"""`NetworkDistribution`: what every tfar model is, whatever its structure.

A tfar model is a `tfd.Distribution` over events of its `support` (integer values, or
real values for the continuous heads) (batch shape [], any
leading dims of x are batch dims) whose weights live in one Keras 3 model, `network`. This
base holds that, the input checks (`tfar.inputs`), and the contract the trainer and the
exporter rely on (DESIGN.md, "What the trainer and the exporter ask of a model"):
`from_data`, `training_terms`, `has_likelihood`, `evaluation_metric` /
`evaluation_log_prob`, `evaluation_images` and `serving_signatures`.
`AutoregressiveDistribution` (FVSBN … PixelRNN) and the latent-variable models
(`tfar.models.latent`: PixelVAE, the PixelCNN auto-encoder) build on it.
"""

import inspect

import tensorflow as tf
import tensorflow_probability as tfp

from tfar import conditioning as conditioning_lib
from tfar.inputs import InputChecks, IntegerValues
from tfar.layers import weight_norm

tfd = tfp.distributions


class NetworkDistribution(InputChecks, tfd.Distribution):
    """A distribution whose weights are those of one Keras 3 model.

    `has_likelihood` (a class attribute, True here) says whether the model has a
    `log_prob`: an implicit model (`tfar.GMMN`) sets it False, and the trainer then
    reports its samples' MMD² to the test split instead of a test NLL, and the exporter
    writes no `log_prob` signature.

    Args:
      network: the built Keras 3 model holding every weight.
      event_shape: shape of one event, e.g. (784,) or (28, 28, 1).
      num_values: number of integer values per dimension, or None for real values.
      conditioning: what `conditional_input` is (`tfar.conditioning`), or None for none.
      dtype, validate_args, allow_nan_stats, parameters, name: as `tfd.Distribution`.
      support: the values an event may hold (a `tfar.inputs.Support`, the head's);
        None: integers in [0, num_values).
    """

    has_likelihood = True

    def __init__(self, network, event_shape, num_values, conditioning=None,
                 dtype=tf.float32, validate_args=False, allow_nan_stats=True, parameters=None,
                 name=None, support=None):
        self._network = network
        self._static_event_shape = tf.TensorShape(event_shape)
        self._num_values = None if num_values is None else int(num_values)
        self._support = IntegerValues(num_values) if support is None else support
        self._support.check_dtype(dtype, name or type(self).__name__)
        self._conditioning = conditioning_lib.get(conditioning)
        super().__init__(dtype=dtype, reparameterization_type=tfd.NOT_REPARAMETERIZED,
                         validate_args=validate_args, allow_nan_stats=allow_nan_stats,
                         parameters=parameters, name=name)

    @classmethod
    def from_data(cls, event_shape, num_values, seed=None, **fields):
        """The model for data of `event_shape` with `num_values` values (None: real
        values) (`tfar.registry`):
        `cls(event_shape=…, num_values=…, **fields)`, with `seed=seed` (masks, orders)
        when the class takes one and `fields` sets none."""
        if "seed" in inspect.signature(cls.__init__).parameters and fields.get("seed") is None:
            fields["seed"] = seed
        return cls(event_shape=event_shape, num_values=num_values, **fields)

    # ---------------------------------------------------------------- properties

    @property
    def network(self):
        """The Keras 3 model holding every weight."""
        return self._network

    @property
    def num_values(self):
        """Integer values per dimension, or None for a model of real values."""
        return self._num_values

    @property
    def support(self):
        """The values an event may hold and their checks (`tfar.inputs.Support`:
        `IntegerValues` or `RealValues`); the exporter reads `support.exact_dtypes`."""
        return self._support

    @property
    def conditioning(self):
        """What `conditional_input` is (a `tfar.conditioning.Conditioning`), or None."""
        return self._conditioning

    @property
    def conditional_shape(self):
        """The shape of one example's conditional input (() for a class label or a
        caption), or None for an unconditional model."""
        return None if self._conditioning is None else self._conditioning.shape

    # A tfd.Distribution is a tf.Module, which does not look inside Keras 3 objects.
    @property
    def trainable_variables(self):
        return tuple(v.value for v in self._network.trainable_variables)

    @property
    def non_trainable_variables(self):
        return tuple(v.value for v in self._network.non_trainable_variables)

    @property
    def variables(self):
        return tuple(v.value for v in self._network.variables)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return {}

    def _batch_shape(self):
        return tf.TensorShape([])

    def _batch_shape_tensor(self):
        return tf.constant([], dtype=tf.int32)

    def _event_shape(self):
        return self._static_event_shape

    def _event_shape_tensor(self):
        return tf.constant(self._static_event_shape.as_list(), dtype=tf.int32)

    # ---------------------------------------------------------------- input checks

    def _call_log_prob(self, value, name, **kwargs):
        """`tfd.Distribution.log_prob`'s wrapper, given a tensor of the caller's own dtype:
        TFP casts NumPy input to `self.dtype` first, which for an integer dtype would
        truncate 0.5 to 0 before `_check_values` could see it."""
        return super()._call_log_prob(
            self._convert(value, self.dtype, "x", self._support.describe()),
            name, **kwargs)

    def _call_sample_n(self, sample_shape, seed, **kwargs):
        """`tfd.Distribution.sample`'s wrapper, after checking `sample_shape`: non-negative
        integers (TFP would cast 2.5 to 2 and fail obscurely on -1)."""
        return super()._call_sample_n(self._check_sample_shape(sample_shape), seed, **kwargs)

    # ---------------------------------------------------------------- trainer / exporter

    @property
    def data_dependent_init(self):
        """Whether `initialize_from_data` sets anything: the network has weight-normalized
        layers (`tfar.layers.weight_norm`)."""
        return bool(weight_norm.layers_in(self._network))

    def initialize_from_data(self, x, conditional_input=None):
        """Weight normalization's data-dependent initialization (Salimans & Kingma 2016,
        §3) from a batch x [B, *event_shape] (and its condition): in one evaluation of
        log_prob, every weight-normalized layer in turn sets g and its bias so that its
        outputs on x have zero mean and unit variance per unit. Nothing changes without
        such layers. The trainer runs it on a fresh run's first global batch (in the
        strategy's scope, on the whole batch, so the values do not depend on the
        replicas); a resumed run's checkpoint then replaces them."""
        if not self.data_dependent_init:
            return
        with weight_norm.data_dependent_init():
            self.log_prob(x, conditional_input=conditional_input)

    def training_loss(self, x, conditional_input=None, seed=None):
        """The scalar to minimize in training (nats per example)."""
        raise NotImplementedError

    def training_terms(self, x, conditional_input=None, seed=None, step=None):
        """The training objective and what to log about it: a dict of scalars, "loss"
        (to minimize, nats per example) and any other named terms the trainer writes to
        TensorBoard and metrics.json (a latent-variable model adds its ELBO's
        reconstruction and KL terms). `step` (the optimizer's step) lets an objective
        change over training (KL warm-up). Here: {"loss": `training_loss`}."""
        del step
        return {"loss": self.training_loss(x, conditional_input, seed)}

    @property
    def evaluation_metric(self):
        """The name of the figure `evaluation_log_prob` gives, as the trainer reports it
        (metrics.json `test_<name>_nats`, TensorBoard `test/<name>_nats`): "nll" here, the
        normalized likelihood's; a model whose figure is a bound or a reconstruction term
        names it (PixelVAE "nll_bound_iwae_k64", the auto-encoder "reconstruction_nll")."""
        return "nll"

    def evaluation_log_prob(self, x, conditional_input=None, seed=None):
        """[...] nats per image of x [..., *event_shape], the negative of what the trainer
        averages over the test split as `evaluation_metric`; `seed` (a stateless seed)
        fixes a stochastic estimate. Here `log_prob(x)`."""
        del seed
        return self.log_prob(x, conditional_input=conditional_input)

    def evaluation_images(self, x, seed=None, conditional_input=None):
        """Named image grids the trainer writes after training (PNG and TensorBoard), from
        test images x [N, *event_shape]: {name: [rows, cols, *event_shape]} values. None
        here (a model's samples are written anyway)."""
        del x, seed, conditional_input
        return {}

    def serving_signatures(self):
        """Signatures `tfar.export` adds to (or replaces among) its standard `log_prob`,
        `sample` and `complete`: {name: (function, [tf.TensorSpec, …])}, each function
        returning a dict of named outputs. None here."""
        return {}
