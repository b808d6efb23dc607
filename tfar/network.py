"""`AutoregressiveNetwork`: the contract of the Keras 3 model inside every tfar distribution.

A network maps teacher-forced values to the parameters of every conditional at once:

    call(values [B, D], conditional_input=[B, K] or [B, *map] or None,
         training=False, seed=None) -> params [M, B, U, P], float32

D = `num_dims` values in [0, `num_values`), M = `num_components` (MADE mask sets, NADE
orderings; 1 otherwise), U = `num_units` rows of P = `params_size` head parameters (one
per dimension, or per pixel for a head that models a pixel's channels together; see
`tfar.schedule`), and K = `conditional_size` the flat size of the condition (None: the
network takes none). A distribution checks these declared attributes against its own
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
      num_values: V.
      params_size: P.
      num_units: U (default D).
      conditional_size: K, or None for an unconditional network.
      **kwargs: as `keras.Model` (name, dtype).
    """

    num_components = 1

    def __init__(self, num_dims, num_values, params_size, num_units=None,
                 conditional_size=None, **kwargs):
        super().__init__(**kwargs)
        self.num_dims, self.num_values = int(num_dims), int(num_values)
        self.params_size = int(params_size)
        self.num_units = self.num_dims if num_units is None else int(num_units)
        self.conditional_size = None if conditional_size is None else int(conditional_size)

    def build(self, input_shape):
        """Creates every variable, the conditional ones included, by one call on zeros."""
        self.call(tf.zeros([1, self.num_dims]), conditional_input=self.example_condition())

    def example_condition(self):
        """A batch of one all-zero condition of this network's shape (None: unconditional)."""
        return None if self.conditional_size is None else tf.zeros([1, self.conditional_size])

    def build_variables(self):
        """Builds the network by calling it once on zeros; returns it (for constructors)."""
        self(tf.zeros([1, self.num_dims]), conditional_input=self.example_condition())
        return self

    def declared(self):
        """The attributes a distribution checks against its own: a dict."""
        return dict(num_dims=self.num_dims, num_values=self.num_values,
                    params_size=self.params_size, num_units=self.num_units,
                    conditional_size=self.conditional_size,
                    num_components=self.num_components)


def check_compatible(network, expected, owner):
    """Raises a ValueError unless `network` is an `AutoregressiveNetwork` whose declared
    attributes (`declared()`) equal `expected` (a dict), naming each that differs."""
    if not isinstance(network, AutoregressiveNetwork):
        raise ValueError(f"{owner}: the network must be a tfar AutoregressiveNetwork; "
                         f"got {type(network).__name__}.")
    found = network.declared()
    wrong = {key: (found[key], value) for key, value in expected.items() if found[key] != value}
    if wrong:
        details = ", ".join(f"{key}={got!r} (the distribution needs {want!r})"
                            for key, (got, want) in sorted(wrong.items()))
        raise ValueError(f"{owner}: the network models {details}.")
