"""tfar.data's natural-colour patches: tiles of scikit-image's photographs, split by photo."""

import numpy as np
import pytest

import tfar.data
from tfar.data import photos


def test_patches_are_the_tiles_of_each_photograph_at_two_resolutions():
    split = tfar.data.read("photos:16", "test")
    assert split.levels == 256 and split.shape == (16, 16, 3) and not split.has_labels
    coffee, rocket = (photos._photograph(name) for name in photos.PHOTOS["test"])
    counts = [(h // 16) * (w // 16) for image in (coffee, rocket)
              for h, w in (image.shape[:2], (image.shape[0] // 2, image.shape[1] // 2))]
    assert split.size == sum(counts) == 2441
    np.testing.assert_array_equal(split.images[0], coffee[:16, :16])
    np.testing.assert_array_equal(split.images[1], coffee[:16, 16:32])   # row by row
    first_half = split.images[counts[0]]                                # then half resolution
    np.testing.assert_array_equal(
        first_half, np.round(coffee[:32, :32].astype(float).reshape(16, 2, 16, 2, 3)
                             .mean(axis=(1, 3))).astype(np.uint8))
    np.testing.assert_array_equal(split.images, tfar.data.read("photos:16", "test").images)


def test_train_and_test_come_from_different_photographs():
    train = tfar.data.read("photos:32", "train")
    test = tfar.data.read("photos:32", "test")
    assert (train.size, test.size) == (1638, 590)
    assert not set(photos.PHOTOS["train"]) & set(photos.PHOTOS["test"])
    seen = {patch.tobytes() for patch in train.images}
    assert not any(patch.tobytes() in seen for patch in test.images)


def test_load_slices_and_requantizes():
    x = np.stack(list(tfar.data.load("photos:16", "train[:5]").as_numpy_iterator()))
    assert x.shape == (5, 16, 16, 3) and x.dtype == np.float32 and x.max() <= 255
    q = np.stack(list(tfar.data.load("photos:16", "train[:5]", num_values=8)
                      .as_numpy_iterator()))
    np.testing.assert_array_equal(q, np.floor(x * 8 / 256))


@pytest.mark.parametrize("source", ["photos:", "photos:1", "photos:big"])
def test_bad_sizes_are_named(source):
    with pytest.raises(ValueError, match="patch size must be an integer"):
        tfar.data.read(source, "train")


def test_unknown_split_is_named():
    with pytest.raises(ValueError, match="has splits"):
        tfar.data.read("photos:16", "validation")
