"""tfar.data.load: every source, splits, binarization and requantization."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfar import data
from test_idx import write_idx

MNIST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def as_array(dataset):
    return np.stack([x.numpy() if not isinstance(x, tuple) else x[0].numpy() for x in dataset])


def test_digits_is_embedded_with_17_levels():
    train = as_array(data.load("digits", "train"))
    test = as_array(data.load("digits", "test"))
    assert train.shape == (1437, 8, 8, 1) and test.shape == (360, 8, 8, 1)
    assert train.min() == 0 and train.max() == 16 and np.all(train == np.round(train))
    image, label = next(iter(data.load("digits", "test[:1]", with_labels=True)))
    assert image.shape == (8, 8, 1) and 0 <= int(label) <= 9


def test_binarization_and_requantization():
    fixed = as_array(data.load("digits", "test", binarize="fixed"))
    assert set(np.unique(fixed)) == {0.0, 1.0}
    np.testing.assert_array_equal(fixed, as_array(data.load("digits", "test")) > 8)
    dynamic = data.load("digits", "test", binarize="dynamic")
    first, second = as_array(dynamic), as_array(dynamic)
    assert set(np.unique(first)) == {0.0, 1.0} and not np.array_equal(first, second)
    four = as_array(data.load("digits", "test", num_values=4))
    assert four.max() == 3 and four.min() == 0


def test_idx_and_npz_sources(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (10, 4, 4)).astype(np.uint8)
    write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), images)
    write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.arange(10))
    loaded = as_array(data.load(f"idx:{tmp_path}", "train[2:5]"))
    np.testing.assert_array_equal(loaded[..., 0], images[2:5])
    with pytest.raises(FileNotFoundError, match="has no test images"):
        data.load(f"idx:{tmp_path}", "test")
    np.savez(tmp_path / "d.npz", x_train=images, y_train=np.arange(10))
    np.testing.assert_array_equal(as_array(data.load(f"npz:{tmp_path / 'd.npz'}"))[..., 0], images)
    with pytest.raises(ValueError, match="has no array x_test"):
        data.load(f"npz:{tmp_path / 'd.npz'}", "test")


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="the MNIST test set is not beside the project")
def test_real_mnist_benchmark_split():
    train = data.load(f"idx:{MNIST}", "test[:8000]", binarize="fixed")
    test = as_array(data.load(f"idx:{MNIST}", "test[8000:]", binarize="fixed"))
    assert test.shape == (2000, 28, 28, 1) and set(np.unique(test)) == {0.0, 1.0}
    assert train.cardinality().numpy() == 8000


@pytest.mark.parametrize("name,shape", [("binarized_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_sources_with_mock_data(name, shape):
    with tfds.testing.mock_data(num_examples=4, policy=tfds.testing.MockPolicy.USE_CODE):
        images = as_array(data.load(f"tfds:{name}", "train", num_values=2 if name == "cifar10" else None))
    assert images.shape == (4,) + shape and np.all(images == np.round(images))
    if name == "cifar10":  # requantized; mock binarized_mnist holds random bytes, not 0/1
        assert set(np.unique(images)) <= {0.0, 1.0}


def test_bad_sources_and_splits():
    with pytest.raises(ValueError, match="Unknown dataset source"):
        data.load("mnist")
    with pytest.raises(ValueError, match="split must look like"):
        data.load("digits", "train[a:b]")
    with pytest.raises(ValueError, match="digits has splits"):
        data.load("digits", "validation")
    with pytest.raises(ValueError, match="binarize must be"):
        data.load("digits", binarize="yes")
