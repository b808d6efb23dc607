"""FVSBN: the fully visible sigmoid belief network (logistic autoregressive network).

Goodfellow, Bengio, Courville, *Deep Learning*, §20.10.7–20.10.8 (after Frey 1998):
p(x_d = 1 | x_<d) = σ(b_d + Σ_{k<d} W_dk x_k) — a linear map of the previous dimensions
through a strictly lower-triangular weight matrix. With `num_values` > 2 the inputs are
one-hot and each conditional is a softmax over linear logits. This is exactly a MADE
without hidden layers (the output mask m_out > m_in is the triangle), so the network is a
`MADENetwork` with `hidden_units=()`.
"""

import numpy as np
import tensorflow as tf

from tfar.autoregressive import AutoregressiveDistribution, check_event_shape, head_for
from tfar.conditioning import from_arguments
from tfar.layers.masked import made_degrees
from tfar.models.made import MADENetwork
from tfar.schedule import GenerationSchedule
from tfar.registry import register


@register("fvsbn")
class FVSBN(AutoregressiveDistribution):
    """FVSBN as a `tfd.Distribution`: D(D-1)/2 · E·P weights in a masked triangle.

    Example:
      d = tfar.FVSBN(event_shape=(784,), num_values=2)
      lp = d.log_prob(x)      # [batch] nats

    Args:
      event_shape: (D,) or an image shape, flattened in row-major order.
      num_values: values per dimension; 2 (the default, None) uses the Bernoulli head by
        default; None (and no other) for the Gaussian head.
      ordering: "left_to_right", "right_to_left", "random" or an explicit permutation.
      column_blocks: how the triangle is stored and multiplied (`tfar.MADE`): "auto" cuts
        it into column blocks without the zero corner for the left-to-right and
        right-to-left orders; 1 keeps one dense masked kernel.
      likelihood: "bernoulli" or "categorical", or "gaussian" for real values: the
        linear-Gaussian autoregressive model of Deep Learning §20.10.8 (each conditional's
        mean linear in x_<d, its scale the head's softplus of a linear term).
      conditional_shape: shape of a conditional input, added linearly to every logit.
      conditioning: any vector-valued `tfar.conditioning.Conditioning` instead.
      seed: int seed for a random ordering.
      network: an existing network to wrap.
      dtype, validate_args, name: as `tfd.Distribution`.
    """

    def __init__(self, event_shape, num_values=None, ordering="left_to_right", column_blocks="auto",
                 likelihood=None, conditional_shape=None, conditioning=None, seed=None,
                 network=None, dtype=tf.float32, validate_args=False, name="FVSBN"):
        parameters = dict(locals())
        event_shape = check_event_shape(event_shape)
        head = head_for(likelihood, num_values)
        num_values = parameters["num_values"] = head.num_values
        conditioning = from_arguments(conditional_shape=conditional_shape,
                                      conditioning=conditioning)
        if network is None:
            num_dims = int(np.prod(event_shape))
            network = MADENetwork(
                num_dims, num_values, head.params_size,
                made_degrees(num_dims, (), ordering, seed=seed), column_blocks=column_blocks,
                conditioning=conditioning,
                name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, event_shape, num_values, head,
                         GenerationSchedule.orderings(np.argsort(network.degrees[0], axis=1)),
                         conditioning=conditioning, dtype=dtype,
                         validate_args=validate_args, parameters=parameters, name=name)

