"""How integer values enter a network: as themselves (binary) or one-hot.

Shapes: values [..., D] -> features [..., D, E] with E = 1 for num_values = 2 (the value
0/1 itself, as in NADE and MADE) and E = num_values otherwise (one-hot).
"""

import tensorflow as tf


def encoding_size(num_values):
    """E, the number of input features per dimension."""
    return 1 if num_values == 2 else int(num_values)


def encode_values(x, num_values):
    """[..., D] float values in [0, num_values) -> [..., D, E] float features."""
    if num_values == 2:
        return x[..., None]
    return tf.one_hot(tf.cast(x, tf.int32), num_values, dtype=x.dtype)
