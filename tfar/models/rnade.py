"""RNADE: the real-valued Neural Autoregressive Density Estimator.

Uria, Murray, Larochelle, "RNADE: The real-valued neural autoregressive density
estimator", NIPS 2013, §2: NADE's tied weights (`tfar.models.nade.NADENetwork`) over
real values x_d, whose hidden layer of conditional d is

    a_1 = c,  a_{d+1} = a_d + x_d W_{:,d},       h_d = σ(ρ_d a_d)        (eq. 3–4)

(ρ_d a learned activity rescaling per dimension, §2), and each conditional a mixture of
K Gaussians (`tfar.likelihoods.MixtureOfGaussians`) whose weights, means and scales are
h_d times the dimension's own output weights plus its biases (V^α_d, V^μ_d, V^σ_d and
b^α_d, b^μ_d, b^σ_d, eq. 5–7: here V [D, H, 3K], b [D, 3K]). log p(x) costs O(D·H)
(one cumulative sum), sampling O(H) per dimension from the running pre-activation a_d
(`tfar.sampling.nade.NADESampler`, the "cached" sampler). Two differences from the paper:
the scales are softplus(s) + min_scale, not exp(s) (`MixtureOfGaussians` says why), and
order-agnostic training (`order_agnostic=True`) is DeepNADE's (Uria, Murray & Larochelle
2014, §3–4; the paper's §3.1 trains RNADE over orders the same way) with the exact
log-likelihood of each example's drawn order, as `tfar.NADE` does.

RNADE is NADE's real-valued variant: its Distribution subclasses `tfar.NADE` (the
order-agnostic objective, the samplers) with a continuous head.
"""

import tensorflow as tf

from tfar import likelihoods
from tfar.autoregressive import AutoregressiveDistribution, check_event_shape
from tfar.conditioning import from_arguments
from tfar.models.nade import NADE, build_network
from tfar.registry import register
from tfar.schedule import GenerationSchedule


@register("rnade")
class RNADE(NADE):
    """RNADE as a `tfd.Distribution` over real vectors; sampling is incremental ("cached").

    Example:
      d = tfar.RNADE(event_shape=(8,), hidden_units=100, num_mixtures=10)
      lp = d.log_prob(x)                 # x float32 [batch, 8] -> [batch], density in nats
      s = d.sample(16, seed=(1, 2))      # [16, 8] float32, method="cached" by default
      x2 = d.complete(x, observed_mask, seed=(1, 2))

    Args:
      event_shape: (D,) or an image shape, flattened in row-major order.
      hidden_units: H.
      num_mixtures: K Gaussians per conditional (unused for "gaussian" or a head instance).
      order_agnostic: train on a random order per example (DeepNADE, Uria et al. 2014).
      ordering: "left_to_right", "right_to_left", "random" or an explicit permutation: the
        evaluation order(s).
      num_orderings: evaluation orders of the ensemble (needs ordering="random").
      likelihood: "mixture_of_gaussians" (default) or "gaussian" (K = 1), or a continuous
        head instance (e.g. `tfar.likelihoods.MixtureOfGaussians(5, min_scale=1e-4)`).
      activity_rescaling: the learned ρ_d of §2 (True, as the paper).
      conditional_shape: shape of a conditional input (added to the hidden
        pre-activation and to the output params, as NADE's).
      conditioning: any vector-valued `tfar.conditioning.Conditioning` instead.
      seed: int seed for drawing random orders (stored in the network config).
      network: an existing `NADENetwork` (num_values None) to wrap.
      dtype: a float dtype of events (float32 by default).
      validate_args, name: as `tfd.Distribution`.

    Shapes: events [..., *event_shape] of finite floats; `log_prob` -> [...] nats.
    """

    def __init__(self, event_shape, hidden_units=100, num_mixtures=10, order_agnostic=False,
                 ordering="left_to_right", num_orderings=1, likelihood="mixture_of_gaussians",
                 activity_rescaling=True, conditional_shape=None, conditioning=None, seed=None,
                 network=None, dtype=tf.float32, validate_args=False, name="RNADE"):
        parameters = dict(locals())
        event_shape = check_event_shape(event_shape)
        if likelihood == "mixture_of_gaussians":
            head = likelihoods.get(likelihood, None, num_mixtures=num_mixtures)
        else:
            head = likelihoods.get(likelihood, None)
        if head.support.integer:
            raise ValueError(f"{name} models real values; likelihood must be a continuous "
                             f"head, got {head.name!r} (tfar.NADE models integers).")
        conditioning = from_arguments(conditional_shape=conditional_shape,
                                      conditioning=conditioning)
        if network is None:
            network = build_network(event_shape, None, head, hidden_units, ordering,
                                    num_orderings, seed, name, order_agnostic=order_agnostic,
                                    conditioning=conditioning,
                                    activity_rescaling=activity_rescaling)
        parameters["network"] = network
        AutoregressiveDistribution.__init__(
            self, network, event_shape, None, head,
            GenerationSchedule.orderings(network.orderings), conditioning=conditioning,
            dtype=dtype, validate_args=validate_args, parameters=parameters, name=name)

    @classmethod
    def from_data(cls, event_shape, num_values=None, seed=None, **fields):
        """The model for real-valued data of `event_shape` (`tfar.registry`): num_values
        must be None (integer data is NADE's, or dequantized first)."""
        if num_values is not None:
            raise ValueError(f"{cls.__name__} models real values; the data has "
                             f"num_values={num_values} integer values (use NADE, or "
                             "dequantize the data).")
        if fields.get("seed") is None:
            fields["seed"] = seed
        return cls(event_shape=event_shape, **fields)
