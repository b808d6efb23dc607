"""tfar.data.load: every source, splits, resizing, binarization and requantization."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from tfar import data
from test_idx import write_idx

MNIST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def as_array(dataset):
    return np.stack([x.numpy() if not isinstance(x, tuple) else x[0].numpy() for x in dataset])


def write_pngs(folder, images):
    """images [N, H, W, C] (C = 1 or 3) as folder/00.png, folder/01.png, …"""
    os.makedirs(folder, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(f"{folder}/{i:02}.png")


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
    assert set(np.unique(first)) == {0.0, 1.0}
    np.testing.assert_array_equal(first, second)  # a dataset is one draw, however iterated
    four = as_array(data.load("digits", "test", num_values=4))
    assert four.max() == 3 and four.min() == 0


def test_dynamic_binarization_is_a_function_of_seed_epoch_and_example():
    def draw(**kwargs):
        return as_array(data.load("digits", "test", binarize="dynamic", **kwargs))
    epochs = [draw(seed=7, epoch=e) for e in range(3)]
    np.testing.assert_array_equal(epochs[1], draw(seed=7, epoch=1))  # the same in a new load
    assert not np.array_equal(epochs[0], epochs[1])  # a fresh binarization per epoch
    assert not np.array_equal(epochs[0], draw(seed=8))
    tf.random.set_seed(1)
    drawn = draw()  # seed None: drawn from TensorFlow's global generator
    tf.random.set_seed(1)
    np.testing.assert_array_equal(drawn, draw())
    reversed_order = data.read("digits", "test")
    preprocess = data.preprocessor(reversed_order, binarize="dynamic", seed=7, epoch=2)
    for i in (0, 100, 359):  # example i's draw, whatever is read before it
        np.testing.assert_array_equal(preprocess(i, reversed_order.images[i]), epochs[2][i])
    intensity = as_array(data.load("digits", "test")) / 16
    for binary in epochs:
        assert set(np.unique(binary)) == {0.0, 1.0}
        assert abs(binary.mean() - intensity.mean()) < 0.01


def test_labels_are_read_and_checked(tmp_path):
    digits = data.read("digits", "train")
    assert digits.has_labels and set(digits.labels) == set(range(10))
    digits.check_labels(10)
    with pytest.raises(ValueError, match=r"digits train has labels 0…9: \d+ of its 1437 lie "
                                         r"outside \[0, 5\)"):
        digits.check_labels(5)
    images = np.zeros((3, 2, 2), np.uint8)
    np.savez(tmp_path / "d.npz", x_train=images)
    write_pngs(tmp_path / "flat" / "train", images[..., None])
    for source in (f"npz:{tmp_path / 'd.npz'}", f"folder:{tmp_path / 'flat'}"):
        split = data.read(source)
        assert not split.has_labels and list(split.labels) == [0, 0, 0]
        with pytest.raises(ValueError, match="train has no class labels"):
            split.check_labels(10)


def test_percent_slices():
    train = as_array(data.load("digits", "train"))
    head, tail = (as_array(data.load("digits", s)) for s in ("train[:90%]", "train[90%:]"))
    assert len(head) == 1293 and len(tail) == 144  # round(0.9 · 1437) = 1293, as tfds rounds
    np.testing.assert_array_equal(np.concatenate([head, tail]), train)
    assert len(as_array(data.load("digits", "test[-10%:]"))) == 36
    assert len(as_array(data.load("digits", "test[10:50%]"))) == 170


def test_folder_source_gray_and_rgb_with_classes(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 6, 7, 1)).astype(np.uint8)
    write_pngs(tmp_path / "gray" / "train", gray)
    pairs = list(data.load(f"folder:{tmp_path / 'gray'}", "train", with_labels=True))
    np.testing.assert_array_equal(np.stack([x.numpy() for x, _ in pairs]), gray)
    assert [int(y) for _, y in pairs] == [0] * 5
    rgb = rng.integers(0, 256, (5, 4, 3, 3)).astype(np.uint8)
    write_pngs(tmp_path / "rgb" / "test" / "dog", rgb[2:])  # sorted: cat = 0, dog = 1
    write_pngs(tmp_path / "rgb" / "test" / "cat", rgb[:2])
    pairs = list(data.load(f"folder:{tmp_path / 'rgb'}", "test", with_labels=True))
    np.testing.assert_array_equal(np.stack([x.numpy() for x, _ in pairs]), rgb)
    assert [int(y) for _, y in pairs] == [0, 0, 1, 1, 1]
    tail = as_array(data.load(f"folder:{tmp_path / 'rgb'}", "test[60%:]", num_values=4))
    np.testing.assert_array_equal(tail, rgb[3:] // 64)
    gray_rgb = as_array(data.load(f"folder:{tmp_path / 'gray'}", "train", channels=3))
    np.testing.assert_array_equal(gray_rgb, np.repeat(gray, 3, axis=-1))


def test_folder_source_errors_and_image_size(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected a folder .*train"):
        data.load(f"folder:{tmp_path}", "train")
    os.makedirs(tmp_path / "train" / "empty_class")
    with pytest.raises(FileNotFoundError, match="has no PNG or JPEG images"):
        data.load(f"folder:{tmp_path}", "train")
    write_pngs(tmp_path / "train" / "big", np.full((2, 8, 8, 1), 200, np.uint8))
    write_pngs(tmp_path / "train" / "small", np.zeros((1, 4, 6, 1), np.uint8))
    with pytest.raises(ValueError, match="different shapes.*pass image_size"):
        data.load(f"folder:{tmp_path}", "train")
    images = as_array(data.load(f"folder:{tmp_path}", "train", image_size=(4, 4)))
    assert images.shape == (3, 4, 4, 1)
    np.testing.assert_array_equal(images[..., 0], [np.full((4, 4), 200)] * 2 + [np.zeros((4, 4))])
    with pytest.raises(ValueError, match="channels applies to folder"):
        data.load("digits", channels=1)


@pytest.mark.parametrize("size", [(4, 4), (5, 3), (12, 12)])
def test_image_size_keeps_integer_levels(size):
    original = as_array(data.load("digits", "test"))
    resized = as_array(data.load("digits", "test", image_size=size))
    assert resized.shape == (360,) + size + (1,) and np.all(resized == np.round(resized))
    assert resized.min() >= 0 and resized.max() <= 16 and resized.max() >= 12
    assert abs(resized.mean() - original.mean()) < 0.5
    binary = as_array(data.load("digits", "test", image_size=size, binarize="fixed"))
    assert set(np.unique(binary)) == {0.0, 1.0}


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


@pytest.mark.parametrize("name,size,shape", [("binarized_mnist", None, (28, 28, 1)),
                                             ("cifar10", None, (32, 32, 3)),
                                             ("mnist", (14, 12), (14, 12, 1))])
def test_tfds_sources_with_mock_data(name, size, shape):
    with tfds.testing.mock_data(num_examples=4, policy=tfds.testing.MockPolicy.USE_CODE):
        images = as_array(data.load(f"tfds:{name}", "train", image_size=size,
                                    num_values=2 if name == "cifar10" else None))
    assert images.shape == (4,) + shape and np.all(images == np.round(images))
    assert 0 <= images.min() and images.max() <= 255
    if name == "cifar10":  # requantized; mock binarized_mnist holds random bytes, not 0/1
        assert set(np.unique(images)) <= {0.0, 1.0}


def test_bad_sources_and_splits():
    with pytest.raises(ValueError, match="Unknown dataset source"):
        data.load("mnist")
    with pytest.raises(ValueError, match="split must look like"):
        data.load("digits", "train[a:b]")
    with pytest.raises(ValueError, match="digits has splits"):
        data.load("digits", "validation")
    with pytest.raises(ValueError, match="split must look like"):
        data.load("digits", "train[:x%]")
    with pytest.raises(ValueError, match="binarize must be"):
        data.load("digits", binarize="yes")
    with pytest.raises(ValueError, match="image_size must be"):
        data.load("digits", image_size=8)


def test_pad_to_centres_the_images_in_zeros():
    plain = next(iter(data.load("digits", "test").batch(4))).numpy()
    padded = next(iter(data.load("digits", "test", pad_to=(12, 11)).batch(4))).numpy()
    assert padded.shape == (4, 12, 11, 1)
    np.testing.assert_array_equal(padded[:, 2:10, 1:9], plain)      # (12-8)//2, (11-8)//2
    mask = np.ones(padded.shape[1:], bool)
    mask[2:10, 1:9] = False
    assert not padded[:, mask].any()
    with pytest.raises(ValueError, match="no smaller than"):
        data.load("digits", "test", pad_to=(6, 12))
