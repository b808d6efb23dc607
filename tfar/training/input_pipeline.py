"""Training and test batches from `config.data`: the documented stream.

Training: epoch e is the train split (N examples) in an order drawn from (train.seed, e),
cut into global batches of B (the last N mod B examples of that order are left out, so
an epoch has `steps_per_epoch` = floor(N / B) batches), and preprocessed as
`tfar.data.preprocessor` says: dynamic binarization draws example i's noise from
(train.seed, e, i). So global batch k of epoch e depends on (seed, e, k) only: a resumed
run sees the batches an uninterrupted run sees, whatever the number of workers and
replicas.

The order:
  in memory (every source but large tfds splits): a full permutation of the split per
    epoch; position p of the epoch holds example `index_shuffle(p, order_key, N - 1)`
    (`tf.random.experimental.index_shuffle`, the order key of `tfar.data.epoch_keys`).
  streamed (tfds splits above `config.data.max_in_memory_mb`): a full permutation needs
    random access, which tfds's record files do not give. The epoch reads the split's
    files in an order drawn from the order key and permutes each run of
    `config.data.shuffle_buffer` consecutive examples (window w by the order key folded
    with w); examples stay in their window, which is enough because tfds stores a split's
    examples already shuffled (by a hash of their keys) when it prepares it. Here i is an
    example's position in the epoch's read order.

Replicas and workers: with R replicas in sync fed by P input pipelines (one per worker,
`tf.distribute.InputContext`), pipeline p takes rows [p·B/P, (p+1)·B/P) of every global
batch, in order, as R/P per-replica batches of B/R rows that its replicas take in turn:
replica r gets rows [r·B/R, (r+1)·B/R). Every pipeline counts `steps_per_epoch` from the
whole split, so none runs dry before another. An in-memory pipeline gathers and
preprocesses its own rows only; a streamed one reads the whole stream (its order needs
every example) and keeps its rows.

Test: the test split in its stored order, binarized (if dynamically) or dequantized from
(`config.data.test_seed`, epoch 0), independent of train.seed.

Real values: a tabular source (`sklearn:<set>`) gives rows [D] where the text above says
images; `config.data.dequantize` makes integer images real (`tfar.data.load`), its noise
drawn as dynamic binarization's. Their num_values is None.

Conditions: every example, in training and test batches alike, is (image, label), or,
with `config.data.condition = "caption"`, (image, caption): a [] tf.string, so a batch is
(images [b, H, W, C] float32, captions [b] string), in the order and rows above.
`describe` checks that both splits have captions (captioned_digits, a tfds set with a
text feature, `config.data.caption_feature`); `train_captions` gives the train split's,
to adapt a text encoder's vocabulary on. A captioned_digits source is composed from
`config.data.compose_seed`, one dataset for every train.seed.
"""

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
    if (not (train and test) and source.startswith("idx:")
            and not tfar.data.datasets.idx_has_train(source[len("idx:"):])):
        logging.info("%s holds no train-images file: training on %s and testing on %s.",
                     source, *TEST_ONLY_SPLITS)
        train, test = train or TEST_ONLY_SPLITS[0], test or TEST_ONLY_SPLITS[1]
    with data_config.unlocked():
        data_config.train_split, data_config.test_split = train or "train", test or "test"
    return data_config


def _read(data_config, split):
    return tfar.data.read(data_config.source, split, data_dir=data_config.data_dir,
                          image_size=data_config.image_size,
                          max_in_memory_mb=data_config.max_in_memory_mb,
                          caption_feature=data_config.get("caption_feature"),
                          compose_seed=data_config.get("compose_seed", 0))


def condition(data_config):
    """What an example carries beside its image: "label" (the default) or "caption"
    (`config.data.condition`)."""
    return data_config.get("condition") or "label"


def _preprocessor(data_config, split, seed, epoch):
    return tfar.data.preprocessor(split, num_values=data_config.num_values,
                                  binarize=data_config.binarize or None,
                                  image_size=data_config.image_size,
                                  pad_to=data_config.get("pad_to"),
                                  dequantize=bool(data_config.get("dequantize")), seed=seed,
                                  epoch=epoch)


def dequantized_levels(data_config):
    """L, the levels of images dequantized to (k + u) / L (`config.data.dequantize`): the
    config's num_values, else the source's levels; None for data not dequantized."""
    if not data_config.get("dequantize"):
        return None
    return int(data_config.num_values or tfar.data.source_levels(data_config.source))


def describe(data_config, global_batch_size, num_classes=None):
    """(event_shape [H, W, C], num_values) of the images `config.data` gives (a tabular
    source's ([D], None); images dequantized: num_values None), after every
    check that needs no training: both splits exist, hold images of one shape (after
    `image_size`) and take the preprocessing options; the train split holds at least
    one global batch and the test split an image; with `num_classes` (a class-conditional
    model), both have labels, all in [0, num_classes) (every label of a split in memory;
    a streamed tfds split by its metadata); with `config.data.condition = "caption"`,
    both have captions; the shape is after `image_size` and `pad_to` (zeros around the
    image, e.g. MNIST's 28×28 in 32×32). Cheap: no pass over a streamed split. Raises ValueError
    (FileNotFoundError for missing files)."""
    conditioned_on = condition(data_config)
    if conditioned_on not in tfar.data.CONDITIONS:
        raise ValueError(f"config.data.condition must be one of {tfar.data.CONDITIONS}; got "
                         f"{conditioned_on!r}.")
    train, test = (_read(data_config, split)
                   for split in (data_config.train_split, data_config.test_split))
    for split in (train, test):
        _preprocessor(data_config, split, 0, 0)  # checks the options
        if num_classes:
            split.check_labels(num_classes)
        if conditioned_on == "caption":
            split.check_captions()
    if train.size < global_batch_size:
        raise ValueError(f"The global batch size {global_batch_size} is larger than the "
                         f"{train.size} images of {train.name}.")
    if test.size == 0:
        raise ValueError(f"The test split {test.name} is empty.")
    shapes = {split.name: _shape(data_config, split) for split in (train, test)}
    if len(set(shapes.values())) > 1 or None in shapes[train.name]:
        raise ValueError(f"The images have shapes {shapes} (H, W, C; None: varies); set "
                         "config.data.image_size to resize them to one.")
    shapes = {name: tfar.data.padded_shape(shape, data_config.get("pad_to"))
              for name, shape in shapes.items()}
    return tuple(shapes[train.name]), _num_values(data_config, train)


def _shape(data_config, split):
    """The [H, W, C] of `split`'s images after `image_size` (None where sizes vary)."""
    size = data_config.image_size
    return (*size, split.shape[-1]) if size else split.shape


def _num_values(data_config, split):
    """Values per dimension of the preprocessed images: the config's, 2 when binarized,
    else the source's levels; None for real values (a tabular source, or images
    dequantized)."""
    if split.levels is None or data_config.get("dequantize"):
        return None
    return int(data_config.num_values or (2 if data_config.binarize else split.levels))


def model_input(data_config):
    """(event_shape [H, W, C], num_values) of a run's model, as `describe` gave them when
    the run started (it checked that both splits' images have one shape), read from the
    test split alone: no pass over the training set. `data_config` as `with_splits`
    fills it in."""
    test = _read(data_config, data_config.test_split)
    shape = tfar.data.padded_shape(_shape(data_config, test), data_config.get("pad_to"))
    return tuple(shape), _num_values(data_config, test)


def _own_rows(examples, rows, context):
    """This pipeline's rows of each global batch: `examples` (whole global batches) cut
    into runs of `rows`, of which pipeline p of P keeps runs p, p + P, p + 2P, …"""
    if context.num_input_pipelines == 1:
        return examples
    return examples.batch(rows).shard(context.num_input_pipelines,
                                      context.input_pipeline_id).unbatch()


def _permute_windows(examples, window, key):
    """`examples` with each run of `window` consecutive ones permuted (window w by
    `index_shuffle` keyed with `key` folded with w)."""
    def permute(w, run):
        n = tf.shape(run[0], out_type=tf.int64)[0]
        order = tf.random.experimental.index_shuffle(
            tf.range(n), tf.random.experimental.stateless_fold_in(key, w), n - 1)
        return tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(
            lambda t: tf.gather(t, order), run))
    return examples.batch(window).enumerate().flat_map(permute)


class TrainBatches:
    """The training stream of global batches, epoch by epoch (see the module docstring)."""

    def __init__(self, data_config, global_batch_size, seed):
        self._split = _read(data_config, data_config.train_split)
        self._data_config, self._batch_size, self._seed = data_config, global_batch_size, seed
        self._condition = condition(data_config)
        if self._condition == "caption":
            self._split.check_captions()
        self.steps_per_epoch = self._split.size // global_batch_size
        if self._split.stream is None:
            self._images = tf.constant(self._split.images)
            self._conditions = tf.constant(  # labels or captions, beside the images
                self._split.captions if self._condition == "caption" else self._split.labels)

    def epoch(self, e, skip=0, input_context=None):
        """One input pipeline's part of epoch `e` from global batch `skip` on: a dataset
        of per-replica batches (images [B/R, H, W, C] float32, labels [B/R] int64, or
        captions [B/R] string with config.data.condition "caption"), its replicas' turn
        by turn. `input_context` None: one pipeline of one replica, i.e. the global
        batches."""
        context = input_context or tf.distribute.InputContext()
        batch_size = self._batch_size
        rows = batch_size // context.num_input_pipelines
        begin, end = skip * batch_size, self.steps_per_epoch * batch_size
        order_key, _ = tfar.data.epoch_keys(self._seed, self._split.split, e)
        preprocess = _preprocessor(self._data_config, self._split, self._seed, e)
        if self._split.stream is None:
            last = tf.constant(self._split.size - 1, tf.int64)
            indices = _own_rows(tf.data.Dataset.range(begin, end), rows, context).map(
                lambda p: tf.random.experimental.index_shuffle(p, order_key, last))
            examples = indices.map(
                lambda i: (preprocess(i, tf.gather(self._images, i)),
                           tf.gather(self._conditions, i)),
                num_parallel_calls=tf.data.AUTOTUNE)
        else:  # preprocessed first: the windows need images of one shape
            stream = self._split.stream(order_key, self._condition).enumerate().map(
                lambda i, example: (preprocess(i, example[0]), example[1]),
                num_parallel_calls=tf.data.AUTOTUNE)
            examples = _permute_windows(stream, self._data_config.shuffle_buffer, order_key)
            examples = _own_rows(examples.skip(begin).take(end - begin), rows, context)
        return examples.batch(context.get_per_replica_batch_size(batch_size),
                              drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    def distribute(self, strategy, e, skip=0):
        """Epoch `e` from global batch `skip` on as `strategy`'s distributed dataset:
        one `epoch` pipeline per worker (`distribute_datasets_from_function`)."""
        return strategy.distribute_datasets_from_function(
            lambda context: self.epoch(e, skip, context))


def test_batches(data_config, batch_size):
    """The whole test split in its stored order as (images [b, H, W, C], labels [b])
    batches (captions [b] string with config.data.condition "caption"; the last batch
    may be smaller), binarized (if dynamically) or dequantized from `config.data.test_seed`: one draw,
    the same in every run whatever train.seed."""
    split = _read(data_config, data_config.test_split)
    preprocess = _preprocessor(data_config, split, data_config.test_seed, 0)
    return split.examples(condition(data_config)).map(
        lambda i, image, label: (preprocess(i, image), label),
        num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def train_captions(data_config, batch_size=1024):
    """The train split's captions, to adapt a text encoder on (`TextEncoder.adapt`): a
    `tf.data.Dataset` of [b] string batches (b <= batch_size), every caption of
    `config.data.train_split` once, in its stored order. In memory (captioned_digits,
    small tfds sets) it is a slice of an array; a streamed tfds split is read once from
    its files, images not decoded. `data_config` as `with_splits` fills it in (done here
    too). Raises ValueError if the split has no captions."""
    data_config = with_splits(data_config)
    return _read(data_config, data_config.train_split).caption_texts().batch(batch_size)
