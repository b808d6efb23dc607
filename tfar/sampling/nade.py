"""NADE's cached sampler: O(H) per step instead of a full O(D·H) network pass.

Larochelle & Murray 2011, §3: the hidden pre-activation of conditional i is
a_i = c + Σ_{k<i} W_{o_k} x_{o_k}, so a step adds the newest dimension's column to a
running a [n, H] (`NADENetwork.step_update`) and reads one dimension's params from
σ(a) (`NADENetwork.step_params`). Each row follows its own component's order.
"""

import tensorflow as tf

from tfar.sampling.base import Sampler


class NADESampler(Sampler):
    """State: (a [n, H], the dimension written at the previous step [n], -1 before any).

    Args:
      network: a `tfar.models.nade.NADENetwork`.
      conditional: [n, …] or None.
      components: unused (the schedule's units already follow each row's order).
    """

    def __init__(self, network, conditional, components):
        del components
        self._network = network
        self._conditional = conditional

    def initial_state(self, x):
        n = tf.shape(x)[0]
        a, self._output_term = self._network.initial_state(self._conditional, n)
        return a, tf.fill([n], -1)

    def step(self, state, i, units, x):
        a, previous = state
        written = tf.maximum(previous, 0)
        updated = self._network.step_update(a, written, tf.gather(x, written, batch_dims=1))
        a = tf.where((previous >= 0)[:, None], updated, a)
        dims = units[:, 0]
        params = self._network.step_params(a, dims, self._output_term)             # [n, P]
        return params[:, None], (a, dims)
