"""The shared batch stream of the side-by-side benchmarks (no flags: importable by each)."""

import numpy as np
import tensorflow as tf


def shuffled_batches(train, batch_size, steps, seed):
    """`steps` batches of `train` (a numpy array), epoch after epoch, each epoch a fresh
    permutation (the last partial batch dropped): the same list for every contender."""
    rng = np.random.default_rng(seed)
    per_epoch = len(train) // batch_size
    order = np.concatenate([rng.permutation(len(train))[: per_epoch * batch_size]
                            for _ in range(steps // per_epoch + 1)])
    return [tf.constant(train[order[i * batch_size:(i + 1) * batch_size]]) for i in range(steps)]
