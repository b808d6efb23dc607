"""Training and test batches from `config.data`, deterministic in the step number.

The training stream is a pure function of (seed, step), so a run resumed at step s sees
exactly the batches an uninterrupted run sees from step s on.
"""

import os

import numpy as np
import tensorflow as tf
from absl import logging

import tfar.data


# Where a source has only a test set (the MNIST copy of ../shared/data), the benchmark split.
TEST_ONLY_SPLITS = ("test[:8000]", "test[8000:]")


def with_splits(data_config):
    """A copy of `data_config` whose train/test splits are filled in: the config's, or
    else the source's "train" and "test".

    An `idx:` folder that holds only the t10k files (no train-images file) has no train
    split; it is then split as `TEST_ONLY_SPLITS`, the first 8,000 images for training and
    the last 2,000 for testing (the split of ../shared/data/README.md), with a log line.
    """
    data_config = data_config.copy_and_resolve_references()
    train, test = data_config.train_split, data_config.test_split
    source = data_config.source
    if not (train and test) and source.startswith("idx:") and not any(
            os.path.exists(os.path.join(source[len("idx:"):], name))
            for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz")):
        logging.info("%s holds no train-images file: training on %s and testing on %s.",
                     source, *TEST_ONLY_SPLITS)
        train, test = train or TEST_ONLY_SPLITS[0], test or TEST_ONLY_SPLITS[1]
    with data_config.unlocked():
        data_config.train_split, data_config.test_split = train or "train", test or "test"
    return data_config


def _load(data_config, split, seed=None):
    return tfar.data.load(
        data_config.source, split, num_values=data_config.num_values,
        binarize=data_config.binarize or None, with_labels=True, data_dir=data_config.data_dir,
        image_size=data_config.image_size, seed=seed)


def _cardinality(dataset):
    count = int(dataset.cardinality())
    if count < 0:  # unknown (some tfds builds): count once
        count = int(dataset.reduce(np.int64(0), lambda n, _: n + 1))
    return count


def describe(data_config):
    """(event_shape [H, W, C], num_values) of the images `config.data` gives."""
    train = _load(data_config, data_config.train_split)
    num_values = data_config.num_values or (2 if data_config.binarize else
                                            tfar.data.source_levels(data_config.source))
    return tuple(train.element_spec[0].shape.as_list()), int(num_values)


class TrainBatches:
    """The training stream of global batches, epoch by epoch.

    Epoch e is the train split shuffled with seed `seed · 1000003 + e` and cut into
    batches of `global_batch_size` (the last partial batch dropped), so batch k of epoch e
    is the same in every run, resumed or not.
    """

    def __init__(self, data_config, global_batch_size, seed):
        split = data_config.train_split
        self._data = _load(data_config, split, seed)
        self._size = _cardinality(self._data)
        self._buffer = min(self._size, data_config.shuffle_buffer)
        self._batch_size, self._seed = global_batch_size, seed
        self.steps_per_epoch = self._size // global_batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(f"The global batch size {global_batch_size} is larger than the "
                             f"{self._size} images of split {split!r}.")

    def epoch(self, e, skip=0):
        """Epoch `e` from its batch `skip` on: (images [B, H, W, C], labels [B]) batches."""
        shuffled = self._data.shuffle(self._buffer, seed=self._seed * 1_000_003 + int(e),
                                      reshuffle_each_iteration=False)
        batches = shuffled.batch(self._batch_size, drop_remainder=True)
        return batches.skip(int(skip)).prefetch(tf.data.AUTOTUNE)


def test_batches(data_config, batch_size, seed):
    """The whole test split as (images, labels) batches (the last one may be smaller);
    `seed` fixes its binarization when it is dynamic (one draw, the same in every run)."""
    return _load(data_config, data_config.test_split, seed).batch(batch_size).prefetch(tf.data.AUTOTUNE)
