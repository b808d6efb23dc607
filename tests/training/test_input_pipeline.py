"""The training and test streams of `input_pipeline` (its module docstring): each epoch a
permutation drawn from (seed, epoch), binarization a function of (seed, epoch, example),
one pipeline's rows of each global batch, streamed tfds splits, and every data check
before the workdir is written."""

import glob
import importlib
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import tfar.data
import tiny_tfds
from tfar.training import input_pipeline, train_and_evaluate
from tiny import tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Each config's dataset and the splits the TFDS catalog gives it.
TFDS_SPLITS = {"tfds:mnist": {"train", "test"}, "tfds:cifar10": {"train", "test"},
               "tfds:binarized_mnist": {"train", "validation", "test"},
               "tfds:imagenet_resized/32x32": {"train", "validation"},
               "tfds:imagenet_resized/64x64": {"train", "validation"},
               "tfds:celeb_a_hq/256": {"train"},
               "tfds:coco_captions": {"train", "val", "test", "restval"}}


def data_config(**fields):
    config = tiny_config().data
    config.update(fields)
    return input_pipeline.with_splits(config)


def indexed_npz(path, size, test_size=8):
    """An npz source of `size` random 3×3 gray images whose labels are their indices."""
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (size, 3, 3), np.uint8), y_train=np.arange(size),
             x_test=rng.integers(0, 256, (test_size, 3, 3), np.uint8), y_test=np.arange(test_size))
    return f"npz:{path}"


def read_epoch(batches, epoch, skip=0, context=None):
    """(images [steps, b, H, W, C], labels [steps, b]) of one pipeline's part of an epoch."""
    images, labels = zip(*batches.epoch(epoch, skip, context).as_numpy_iterator())
    return np.stack(images), np.stack(labels)


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    return tiny_tfds.prepare(data_dir), str(data_dir)


def test_each_epoch_is_a_permutation_drawn_from_the_seed_and_the_epoch(tmp_path):
    """Every example once per epoch, in an order that changes with the epoch and the seed
    and is the same for the same (seed, epoch); a batch draws from the whole split (a
    10,000-image shuffle buffer gave batch 0 only the first ~10,000 images)."""
    config = data_config(source=indexed_npz(tmp_path / "d.npz", 96))
    batches = input_pipeline.TrainBatches(config, 16, seed=3)
    assert batches.steps_per_epoch == 6
    orders = [read_epoch(batches, e)[1].ravel() for e in (0, 1)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(96))
    assert not np.array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(
        read_epoch(input_pipeline.TrainBatches(config, 16, seed=3), 1)[1].ravel(), orders[1])
    assert not np.array_equal(
        read_epoch(input_pipeline.TrainBatches(config, 16, seed=4), 1)[1].ravel(), orders[1])

    big = data_config(source=indexed_npz(tmp_path / "big.npz", 30_000))
    first = next(iter(input_pipeline.TrainBatches(big, 100, seed=0).epoch(0)))[1].numpy()
    print(f"batch 0 of 30,000 images: examples {first.min()}…{first.max()}")
    assert first.max() > 20_000  # all 100 below: probability (2/3)^100 under a permutation


def test_dynamic_binarization_is_a_function_of_seed_epoch_and_example(tmp_path):
    """Example i of epoch e is binarized as `tfar.data.load(..., seed, epoch=e)` binarizes
    it, whatever its position, the batch skipped to or the pipeline reading it."""
    source = indexed_npz(tmp_path / "d.npz", 100)
    config = data_config(source=source, binarize="dynamic")
    batches = input_pipeline.TrainBatches(config, 20, seed=5)
    for epoch in (0, 3):
        loaded = np.stack(list(tfar.data.load(source, binarize="dynamic", seed=5, epoch=epoch)))
        images, labels = read_epoch(batches, epoch)
        np.testing.assert_array_equal(images, loaded[labels])
        resumed = read_epoch(batches, epoch, skip=2)
        np.testing.assert_array_equal(resumed[0], images[2:])
        np.testing.assert_array_equal(resumed[1], labels[2:])
        for p in range(2):  # two workers, two replicas each: rows [10p, 10p + 10) as 2 × 5
            context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=p,
                                                 num_replicas_in_sync=4)
            part = read_epoch(batches, epoch, 1, context)
            rows = labels[1:, 10 * p: 10 * p + 10].reshape(-1, 5)
            np.testing.assert_array_equal(part[1], rows)
    assert not np.array_equal(read_epoch(batches, 0)[0], read_epoch(batches, 1)[0])


def test_the_test_split_has_its_own_seed(tmp_path):
    source = indexed_npz(tmp_path / "d.npz", 40, test_size=30)
    images = {}
    for test_seed in (0, 1):
        config = data_config(source=source, binarize="dynamic", test_seed=test_seed)
        images[test_seed] = np.concatenate([x for x, _ in input_pipeline.test_batches(config, 8)])
        loaded = np.stack(list(tfar.data.load(source, "test", binarize="dynamic",
                                              seed=test_seed)))
        np.testing.assert_array_equal(images[test_seed], loaded)
    assert not np.array_equal(images[0], images[1])


def test_tfds_split_in_memory_or_streamed(tiny_source):
    source, data_dir = tiny_source
    held, streamed = (tfar.data.read(source, "train", data_dir=data_dir, max_in_memory_mb=mb)
                      for mb in (1024, 0))
    assert held.images is not None and streamed.stream is not None
    assert held.size == streamed.size == 300 and held.shape == streamed.shape == (8, 8, 1)
    for a, b in zip(held.examples(), streamed.examples()):  # the same stored order
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)

    window = 64
    config = data_config(source=source, data_dir=data_dir, max_in_memory_mb=0,
                         shuffle_buffer=window)
    batches = input_pipeline.TrainBatches(config, 30, seed=2)
    orders = []
    for epoch in (0, 1):
        order = read_epoch(batches, epoch)[1].ravel()
        np.testing.assert_array_equal(np.sort(order), np.arange(300))
        key = tfar.data.epoch_keys(2, "train", epoch)[0]
        read = np.array([int(y) for _, y in streamed.stream(key)])
        for w in range(0, 300, window):  # each window a permutation of what was read there
            np.testing.assert_array_equal(np.sort(order[w:w + window]),
                                          np.sort(read[w:w + window]))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1])


def test_tfds_checks(tiny_source):
    source, data_dir = tiny_source
    with pytest.raises(ValueError, match=r"tfds:tiny_digits: Unknown split 'validation'"):
        tfar.data.read(source, "validation", data_dir=data_dir)
    for mb, match in ((1024, r"train has labels 0…299: 290 of its 300 lie outside \[0, 10\)"),
                      (0, r"train has 300 classes \(labels 0…299\); num_classes is 10")):
        config = data_config(source=source, data_dir=data_dir, max_in_memory_mb=mb)
        with pytest.raises(ValueError, match=match):  # in memory: the labels; else metadata
            input_pipeline.describe(config, 32, num_classes=10)
        assert input_pipeline.describe(config, 32, num_classes=300) == ((8, 8, 1), 256)
    with tfds.testing.mock_data(num_examples=4, policy=tfds.testing.MockPolicy.USE_CODE):
        unlabelled = tfar.data.read("tfds:binarized_mnist", "train")
    assert not unlabelled.has_labels
    with pytest.raises(ValueError, match="binarized_mnist train has no class labels"):
        unlabelled.check_labels(10)


@pytest.mark.parametrize("fields, match", [
    ({"test_split": "validation"}, "tfds:tiny_digits: Unknown split 'validation'"),
    ({"train_split": "train[:10]"}, "batch size 32 is larger than the 10 images"),
    ({"num_classes": 10}, "train has labels 0…299"),
])
def test_data_errors_leave_no_workdir(tmp_path, tiny_source, fields, match):
    config = tiny_config()
    config.data.update(dict(source=tiny_source[0], data_dir=tiny_source[1], **fields))
    config.model.conditioning = "class" if "num_classes" in fields else ""
    with pytest.raises(ValueError, match=match):
        train_and_evaluate(config, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run")


def test_configs_name_splits_their_datasets_have():
    for path in glob.glob(os.path.join(ROOT, "configs", "*.py")):
        name = os.path.splitext(os.path.basename(path))[0]
        config = importlib.import_module(f"configs.{name}").get_config()
        if config.data.source.startswith("tfds:"):
            data = input_pipeline.with_splits(config.data)
            for split in (data.train_split, data.test_split):
                assert split.split("[")[0] in TFDS_SPLITS[config.data.source], (name, split)


@pytest.fixture(scope="module")
def captions_source(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds_captions")
    return tiny_tfds.prepare_captions(data_dir), str(data_dir)


def test_caption_batches_resume_exactly():
    """With condition "caption" a batch is (images, captions [b] string): position p of
    epoch e holds example index_shuffle(p, order key) with its own caption, binarized
    from (seed, e, i); a run resumed at any step (its epoch and offset) reads the batches
    an uninterrupted run reads, and two workers read their rows of them."""
    config = data_config(source="captioned_digits", condition="caption",
                         train_split="train[:320]", binarize="dynamic")
    assert input_pipeline.describe(config, 32) == ((16, 16, 1), 2)
    split = tfar.data.read("captioned_digits", "train[:320]")
    batches = input_pipeline.TrainBatches(config, 32, seed=5)
    assert batches.steps_per_epoch == 10
    run = [read_epoch(batches, e) for e in (0, 1)]  # an uninterrupted run: steps 0…19
    for e, (images, texts) in enumerate(run):
        assert texts.dtype == object and images.shape == (10, 32, 16, 16, 1)
        order_key = tfar.data.epoch_keys(5, "train[:320]", e)[0]
        order = tf.random.experimental.index_shuffle(np.arange(320), order_key, 319).numpy()
        np.testing.assert_array_equal(texts.ravel().astype(str), split.captions[order])
        binarized = np.stack(list(tfar.data.load("captioned_digits", "train[:320]",
                                                 binarize="dynamic", seed=5, epoch=e)))
        np.testing.assert_array_equal(images.reshape(320, 16, 16, 1), binarized[order])
    for step in (3, 10, 17):  # resumed: a fresh pipeline from (epoch, offset) of the step
        epoch, offset = divmod(step, 10)
        resumed = read_epoch(input_pipeline.TrainBatches(config, 32, seed=5), epoch, offset)
        for got, expected in zip(resumed, run[epoch]):
            np.testing.assert_array_equal(got, expected[offset:])
    for p in range(2):  # two workers, two replicas each: rows [16p, 16p + 16) as 2 × 8
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=p,
                                             num_replicas_in_sync=4)
        part = read_epoch(batches, 1, 4, context)
        np.testing.assert_array_equal(part[1], run[1][1][4:, 16 * p: 16 * p + 16].reshape(-1, 8))


def test_caption_test_batches_and_train_captions():
    config = data_config(source="captioned_digits", condition="caption", test_split="test[:50]",
                         train_split="train[:300]")
    images, texts = zip(*input_pipeline.test_batches(config, 16).as_numpy_iterator())
    layout = tfar.data.captions.layouts("captioned_digits", "test[:50]")
    np.testing.assert_array_equal(np.concatenate(texts).astype(str), layout.captions)
    np.testing.assert_array_equal(np.concatenate(images),
                                  tfar.data.read("captioned_digits", "test[:50]").images)
    train = [b for b in input_pipeline.train_captions(config, batch_size=128).as_numpy_iterator()]
    assert [len(b) for b in train] == [128, 128, 44]
    np.testing.assert_array_equal(np.concatenate(train).astype(str),
                                  tfar.data.read("captioned_digits", "train[:300]").captions)
    other = tiny_config().data  # splits not filled in: train_captions does it
    other.update(dict(source="captioned_digits", condition="caption", compose_seed=1))
    assert (next(iter(input_pipeline.train_captions(other))).numpy()[:50].astype(str)
            != tfar.data.read("captioned_digits", "train[:50]").captions).mean() > 0.9


def test_streamed_tfds_captions(captions_source):
    """A tfds set with a text feature (tiny_captions, laid out as coco_captions) in memory
    and streamed: each image comes with the first of its captions, which names it."""
    source, data_dir = captions_source
    digits = tfar.data.read("digits", "train").images
    expected = {f"train example {i}": digits[i] for i in range(1, 300)}
    expected[""] = digits[0]  # example 0 has no caption
    for mb in (1024, 0):
        config = data_config(source=source, data_dir=data_dir, condition="caption",
                             max_in_memory_mb=mb, shuffle_buffer=64)
        assert input_pipeline.describe(config, 30) == ((8, 8, 1), 256)
        images, texts = read_epoch(input_pipeline.TrainBatches(config, 30, seed=2), 1)
        texts = texts.ravel().astype(str)
        assert sorted(texts) == sorted(expected)
        for image, text in zip(images.reshape(-1, 8, 8, 1), texts):
            np.testing.assert_array_equal(image, expected[text])
        captions = np.concatenate(list(input_pipeline.train_captions(config).as_numpy_iterator()))
        assert sorted(captions.astype(str)) == sorted(expected)
        _, test_texts = zip(*input_pipeline.test_batches(config, 64).as_numpy_iterator())
        assert sorted(np.concatenate(test_texts).astype(str)) == [
            f"test example {i}" for i in sorted(range(100), key=lambda i: f"test example {i}")]


def test_caption_errors_leave_no_workdir(tmp_path, tiny_source):
    for fields, match in [
            ({"condition": "caption"}, r"config.data.condition='caption' gives caption batches, "
             r"which only a caption-conditional model uses"),
            ({}, r"digits train has no captions; a caption-conditional"),
            ({"source": tiny_source[0], "data_dir": tiny_source[1],
              "max_in_memory_mb": 0}, "tfds:tiny_digits train has no captions"),
            ({"condition": "text"}, r"config.data.condition must be one of \('label', 'caption'\)"),
            ({"source": "captioned_digits:mnist"}, "unknown digit source 'mnist'")]:
        config = tiny_config()
        config.data.update(fields)
        # A caption-conditional model asks for caption batches; another model refuses them.
        config.model.conditioning = "" if "condition" in fields else "caption"
        with pytest.raises(ValueError, match=match):
            train_and_evaluate(config, str(tmp_path / "run"))
        assert not os.path.exists(tmp_path / "run")
    with pytest.raises(ValueError, match="digits train has no captions"):
        input_pipeline.train_captions(data_config())
