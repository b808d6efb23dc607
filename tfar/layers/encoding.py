"""How values enter a network: as themselves (binary or real) or one-hot.

Shapes: values [..., D] -> features [..., D, E] with E = 1 for num_values = 2 (the value
0/1 itself, as in NADE and MADE) or None (a real value itself, as in RNADE and MADE MoG)
and E = num_values otherwise (one-hot).
"""

import tensorflow as tf


def encoding_size(num_values):
    """E, the number of input features per dimension."""
    return 1 if num_values in (2, None) else int(num_values)


def encode_values(x, num_values):
    """[..., D] float values in [0, num_values) (or real, num_values None) -> [..., D, E]
    float features."""
    if num_values in (2, None):
        return x[..., None]
    return tf.one_hot(tf.cast(x, tf.int32), num_values, dtype=x.dtype)
