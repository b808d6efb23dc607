"""The shared batch stream of the side-by-side benchmarks (no flags: importable by each)."""

import ml_collections
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


def data_config(source, **fields):
    """A `config.data` for `tfar.training.input_pipeline` (TrainBatches, test_batches):
    `source` and the defaults of configs/default.py, `fields` overriding them."""
    config = ml_collections.ConfigDict(dict(
        source=source, train_split="train", test_split="test", num_values=None, binarize="",
        dequantize=False, data_dir=None, image_size=None, pad_to=None, test_seed=0,
        max_in_memory_mb=1024, shuffle_buffer=10_000))
    config.update(fields)
    return config
