"""Exact completion of any observed set: sampling–importance–resampling (SIR).

`AutoregressiveDistribution.complete` fills the unobserved units in each row's order,
each from p_m(unit | the units before it in component m's order, observed values in
place), after drawing the component m from q(m) ∝ exp(logits_m), the logits being
p_m(observed units | their predecessors) with unobserved ones read as zeros. That
sequential completion q(x_u | x_o) is the exact conditional p(x_u | x_o) when the
observed units come first in every component's order, and only a proposal otherwise:
a later observed unit's probability never feeds back into the earlier draws.

SIR (Rubin 1988; Smith & Gelfand 1992) corrects it: draw K completions x^(1…K) from q,
weigh each by

    w_k = p(x^(k)) / q(x_u^(k) | x_o),
    q(x_u | x_o) = Σ_m q(m) ∏_{u unobserved} p_m(x_u | units before u in m's order),

and keep one with probability ∝ w_k. p(x_o, x_u) ∝ p(x_u | x_o) for fixed x_o, so
the unknown normalizer p(x_o) cancels in the self-normalized weights. The kept sample's
distribution tends to p(x_u | x_o) as K → ∞, with a bias of order 1/K (smaller the
closer q is to the conditional); K = 1 returns the proposal's draw unchanged.

Both densities come from one teacher-forced pass over the completed rows: p(x) is the
ensemble's log-mean-exp of the joints (as `log_prob`), q's inner product sums the same
per-unit log-probs over the unobserved units only, since the loop drew each of them
from exactly those params.

A unit counts as unobserved when any of its dimensions is (as `_draw_components`
decides). For heads that model several dimensions per unit (a pixel's channels in the
logistic mixture), a partially observed unit is drawn whole and its observed channels
are then put back: q's density of the other channels is a marginal of p_m that these
weights do not compute (they use p_m of the whole unit), so completions of partially
observed units are not exact for any K.
"""

import math

import tensorflow as tf

from tfar import random


def log_importance_weights(joint_log_probs, unobserved_units, component_logits,
                           num_components):
    """log p(x) − log q(x_u | x_o) of completed rows (see the module docstring).

    Args:
      joint_log_probs: float [M, N, U]: log p_m(unit u | the units before u in component
        m's order) of the completed rows, every component.
      unobserved_units: bool [N, U]: the units the proposal drew.
      component_logits: float [N, M]: the logits its components were drawn from.
      num_components: M, a Python int (the params' static shape may not say it).

    Returns:
      float [N].
    """
    log_p = tf.reduce_logsumexp(tf.reduce_sum(joint_log_probs, axis=-1), axis=0)
    drawn = tf.reduce_sum(tf.where(unobserved_units[None], joint_log_probs, 0.0), axis=-1)
    log_q = tf.reduce_logsumexp(
        tf.transpose(tf.nn.log_softmax(component_logits, axis=-1)) + drawn, axis=0)
    return log_p - math.log(num_components) - log_q


def resample(particles, log_weights, seed):
    """One particle per row, drawn with probability ∝ exp(log_weights).

    Args:
      particles: [n, K, D].
      log_weights: float [n, K].
      seed: a stateless seed.

    Returns:
      [n, D].
    """
    index = random.categorical(log_weights, seed)                             # Gumbel-max
    return tf.gather(particles, index, batch_dims=1)
