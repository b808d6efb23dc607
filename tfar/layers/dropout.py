"""Dropout drawn from a stateless seed, the same for any number of replicas.

Keras' `Dropout` draws its masks from a stateful seed generator, so its noise depends on
how many calls came before (a resumed run draws other masks) and it cannot take the
trainer's per-step seed. tfar's networks call `dropout(x, rate, seed)` at the points
where they drop features, only when called with `training=True` (from the training
objective): the mask of example i is the same whether it trains on 1 or 8 replicas
(`tfar.replicas.uniform`).
"""

import tensorflow as tf

from tfar import replicas


def dropout(x, rate, seed):
    """Inverted dropout: x [B, ...] with each entry zeroed with probability `rate` and
    the rest scaled by 1 / (1 − rate), the mask drawn from the stateless `seed` [2]."""
    keep = replicas.uniform(tf.shape(x), seed, dtype=tf.float32) >= rate
    return tf.where(keep, x / tf.cast(1.0 - rate, x.dtype), tf.zeros_like(x))


def check_rate(rate):
    """`rate` as a float in [0, 1), or a ValueError."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"dropout must be a rate in [0, 1); got {rate!r}.")
    return float(rate)
