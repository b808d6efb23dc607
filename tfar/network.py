"""`AutoregressiveNetwork`: the contract of the Keras 3 model inside every tfar distribution.

A network maps teacher-forced values to the parameters of every conditional at once:

    call(values [B, D], conditional_input=features [B, K] or [B, *map] or None,
         training=False, seed=None) -> params [M, B, U, P], float32
    encode_condition(raw condition [B, *shape]) -> the features `call` takes

D = `num_dims` values in [0, `num_values`) (or real values: `num_values` None), M = `num_components` (MADE mask sets, NADE
orderings; 1 otherwise), U = `num_units` rows of P = `params_size` head parameters (one
per dimension, or per pixel for a head that models a pixel's channels together; see
`tfar.schedule`), and K = `conditional_size` the width of the condition's vector features
(None: no vector condition). The network declares its `conditioning`
(`tfar.conditioning`: a float vector or map, a class label, a caption), owns the layer
that makes the condition's features (`condition_encoder`: a one-hot, an embedding, a
text encoder; none for a float vector or map), and encodes a raw condition with
`encode_condition`, once per distribution call (samplers get the features). A distribution checks these declared attributes against its own
(`check_compatible`) when it wraps a network, e.g. one loaded from a `.keras` file.
`training=True` comes only from the training objective (`training_terms`): it turns on
a network's dropout, whose masks are drawn from the stateless `seed` (through
`tfar.replicas`, the same for any number of replicas); everything else (log_prob,
evaluation, sampling, export) runs with `training=False`. The layers that emit the params
compute in float32 under every dtype policy (`PARAMS_DTYPE`).

One rule for variables: every variable exists after `build()`, which knows only the
input shape (Keras calls it when it loads a `.keras` file, and a checkpoint restored
before the first call reaches every variable); the default `build` calls the network
once on zeros, conditional inputs included (`example_condition`).
"""

import tensorflow as tf

import keras

from tfar import conditioning as conditioning_lib
from tfar.layers.tracking import ListsInCheckpoints

# The dtype policy of every layer that emits head parameters (and of any other head
# input): float32 under every policy, as Keras' mixed-precision guide prescribes for a
# model's outputs. A float16 layer would round logits, mixture means and log-scales
# before any cast (float16's spacing near ±1 is ~5e-4, near the smallest scale e⁻⁷).
PARAMS_DTYPE = "float32"


class AutoregressiveNetwork(ListsInCheckpoints, keras.Model):
    """Base class of tfar's networks (see the module docstring).

    Args:
      num_dims: D.
      num_values: V, or None for real values (`tfar.layers.encoding`: one input feature).
      params_size: P.
      num_units: U (default D).
      conditional_size: K of a float vector condition (`tfar.conditioning.Vector`), or
        None; `conditioning` says it for every kind.
      conditioning: a `tfar.conditioning.Conditioning` (or its config), or None for an
        unconditional network (or one given by `conditional_size`).
      **kwargs: as `keras.Model` (name, dtype).
    """

    num_components = 1

    def __init__(self, num_dims, num_values, params_size, num_units=None,
                 conditional_size=None, conditioning=None, **kwargs):
        super().__init__(**kwargs)
        self.num_dims = int(num_dims)
        self.num_values = None if num_values is None else int(num_values)
        self.params_size = int(params_size)
        self.num_units = self.num_dims if num_units is None else int(num_units)
        if conditioning is not None and conditional_size is not None:
            raise ValueError("Give conditioning or conditional_size, not both.")
        self.conditioning = conditioning_lib.get(conditioning) or (
            None if conditional_size is None else conditioning_lib.Vector((conditional_size,)))
        # K, the width of the condition's vector features (None: none, or a map).
        self.conditional_size = (None if self.conditioning is None
                                 else self.conditioning.feature_size)
        self.condition_encoder = (None if self.conditioning is None
                                  else self.conditioning.encoder())

    def encode_condition(self, conditional_input, training=False):
        """The raw conditional input (a checked batch [B, *shape] of its conditioning's
        dtype) -> the features `call` takes: [B, K] or a map [B, h', w', c']; None for
        None. Runs the condition's encoder (a one-hot, an embedding, a text encoder), once
        per call of a distribution's method."""
        if conditional_input is None or self.condition_encoder is None:
            return conditional_input
        return self.condition_encoder(conditional_input, training=training)

    def build(self, input_shape):
        """Creates every variable, the conditional ones included, by one call on zeros."""
        self.call(tf.zeros([1, self.num_dims]),
                  conditional_input=self.encode_condition(self.example_condition()))

    def example_condition(self):
        """A batch of one valid raw condition (None: unconditional)."""
        return None if self.conditioning is None else self.conditioning.example()

    def build_variables(self):
        """Builds the network by calling it once on zeros; returns it (for constructors)."""
        self(tf.zeros([1, self.num_dims]),
             conditional_input=self.encode_condition(self.example_condition()))
        return self

    def require_vector_condition(self):
        """A ValueError if the conditioning's features are maps (a network that adds its
        condition as a vector calls this)."""
        if self.conditioning is not None and self.conditioning.map_shape is not None:
            raise ValueError(f"{type(self).__name__} takes a vector condition (a vector, a "
                             "class label or a caption's summary), not a spatial map; a Gated "
                             "PixelCNN takes maps.")

    def conditioning_config(self):
        """The conditioning's config for `get_config` (None: unconditional)."""
        return None if self.conditioning is None else self.conditioning.get_config()

    def declared(self):
        """The attributes a distribution checks against its own: a dict."""
        return dict(num_dims=self.num_dims, num_values=self.num_values,
                    params_size=self.params_size, num_units=self.num_units,
                    conditioning=signature(self.conditioning),
                    num_components=self.num_components)


def signature(conditioning):
    """What a network and a distribution must agree on about a conditioning: (kind, input
    shape, dtype, feature size, map shape), or None."""
    if conditioning is None:
        return None
    return (conditioning.kind, tuple(conditioning.shape.as_list()), conditioning.dtype.name,
            conditioning.feature_size, conditioning.map_shape)


def check_compatible(network, expected, owner, network_class=None, found=None):
    """Raises a ValueError unless `network` is a `network_class` (default: any
    `AutoregressiveNetwork`) whose attributes `found` (default: its `declared()`) equal
    `expected` (a dict), naming each that differs. The one check every distribution
    makes of a network it wraps (the latent models check their networks' configs)."""
    network_class = network_class or AutoregressiveNetwork
    if not isinstance(network, network_class):
        article = "a tfar" if network_class is AutoregressiveNetwork else "a"
        raise ValueError(f"{owner}: the network must be {article} {network_class.__name__}; "
                         f"got {type(network).__name__}.")
    found = network.declared() if found is None else found
    wrong = {key: (found[key], value) for key, value in expected.items() if found[key] != value}
    if wrong:
        details = ", ".join(f"{key}={got!r} (the distribution needs {want!r})"
                            for key, (got, want) in sorted(wrong.items()))
        raise ValueError(f"{owner}: the network models {details}.")
