"""The sampler protocol, the naive sampler and the generation loop.

    sampler = distribution._make_sampler(method, conditional, components)
    state = sampler.initial_state(x)                  # a nest of tensors
    params, state = sampler.step(state, i, units, x)  # params [n, K, P] of units [n, K]

x [n, D] holds the observed values and every value written at steps < i (zeros
elsewhere). `initial_state` runs once, in the graph of the call, before the loop. One
convention for per-call state: what the steps read but never change (masked kernels,
the condition's terms) is formed there once and kept as attributes, which is why a
sampler serves one call only; the carried state holds only what the steps update (the
caches). `step` returns the params of the units step i writes given x, exactly those
the full network gives (the naive sampler's), so every sampler draws the same samples
from the same seed; it may update its caches from the values written since its last
step. `run` draws each step's values with the head and one seed per step, and writes
them (`GenerationSchedule.write`), keeping observed values.
"""

import tensorflow as tf


class Sampler:
    """The protocol (see the module docstring). A sampler is made for one call, bound to
    its rows' condition [n, …] (or None) and components [n]."""

    def initial_state(self, x):
        """The loop's carried state before step 0: a nest of tensors (may be empty)."""
        raise NotImplementedError

    def step(self, state, i, units, x):
        """(params [n, K, P] of `units` [n, K] at step i (scalar int32), next state)."""
        raise NotImplementedError


class NaiveSampler(Sampler):
    """The reference: one full network pass per step.

    Args:
      params_fn: (x [n, D]) -> params [n, U, P] of every unit under each row's component.
    """

    def __init__(self, params_fn):
        self._params_fn = params_fn

    def initial_state(self, x):
        return ()

    def step(self, state, i, units, x):
        params = self._params_fn(x)                                          # [n, U, P]
        return tf.gather(params, tf.maximum(units, 0), batch_dims=1), state  # [n, K, P]


def run(sampler, schedule, head, x, observed, components, step_seeds):
    """Fills x [n, D] step by step: the in-graph loop every sampler runs in.

    Args:
      sampler: a `Sampler` bound to the rows' condition and components.
      schedule: the model's `GenerationSchedule`.
      head: the model's likelihood head.
      x: float32 [n, D], observed values in place.
      observed: bool [n, D]; these values are kept.
      components: int32 [n], the component each row follows.
      step_seeds: int32 [S, 2], one stateless seed per step.

    Returns:
      float32 [n, D].
    """

    def body(i, x, state):
        units = schedule.step_units(components, i)                           # [n, K]
        params, state = sampler.step(state, i, units, x)
        values = head.sample(params, step_seeds[i])               # [n, K] or [n, K, C]
        return i + 1, schedule.write(x, observed, units, values), state

    _, x, _ = tf.while_loop(lambda i, *_: i < schedule.num_steps, body,
                            (tf.constant(0), x, sampler.initial_state(x)))
    return x
