"""Real-valued data through `tfar.data`: scikit-learn's tabular sets and dequantized images.

Tabular: the three splits partition the rows, are standardized with the train split's
statistics only, drop the few-valued columns, and are the same on every read. Dequantized
images: y = (k + u) / L with floor(y · L) = k exactly, u drawn from (seed, split, epoch,
i) and so independent of the batch or the read order.
"""

import numpy as np
import pytest
import tensorflow as tf

import tfar.data
from tfar.data import tabular

SETS = ("wine", "breast_cancer", "diabetes")


def _raw(name):
    from sklearn import datasets
    return {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
            "diabetes": datasets.load_diabetes}[name]().data


@pytest.mark.parametrize("name", SETS)
def test_tabular_splits_partition_rows_and_use_train_statistics(name):
    raw = _raw(name)
    splits = {s: tfar.data.read(f"sklearn:{name}", s) for s in tabular.SPLITS}
    rows = tabular.split_rows(len(raw))
    assert sorted(np.concatenate(list(rows.values()))) == list(range(len(raw)))
    assert [splits[s].size for s in tabular.SPLITS] == [len(rows[s]) for s in tabular.SPLITS]
    assert splits["test"].size == splits["validation"].size == len(raw) // 10
    kept = [j for j in range(raw.shape[1]) if len(np.unique(raw[rows["train"], j])) >= 20]
    train = raw[rows["train"]][:, kept]
    for s, split in splits.items():
        assert split.levels is None and split.shape == (len(kept),)
        expected = (raw[rows[s]][:, kept] - train.mean(0)) / train.std(0)
        np.testing.assert_allclose(split.images, expected, rtol=1e-5, atol=1e-5)
        assert split.images.dtype == np.float32
    np.testing.assert_allclose(splits["train"].images.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(splits["train"].images.std(0), 1, atol=1e-5)
    assert abs(splits["test"].images.mean()) > 1e-3  # not standardized on its own statistics


def test_diabetes_drops_its_two_valued_column_and_wine_keeps_its_labels():
    assert tfar.data.read("sklearn:diabetes", "test").shape == (9,)
    wine = tfar.data.read("sklearn:wine", "train")
    assert wine.has_labels and wine.num_classes == 3 and set(wine.labels) == {0, 1, 2}
    assert not tfar.data.read("sklearn:diabetes", "train").has_labels


def test_tabular_load_slices_and_rejects_image_options():
    whole = np.stack(list(tfar.data.load("sklearn:wine", "train").as_numpy_iterator()))
    head = np.stack(list(tfar.data.load("sklearn:wine", "train[:10]").as_numpy_iterator()))
    np.testing.assert_array_equal(head, whole[:10])
    for option in (dict(binarize="fixed"), dict(dequantize=True), dict(num_values=4),
                   dict(pad_to=(4, 4))):
        with pytest.raises(ValueError, match="real-valued vectors, not images; "
                           + next(iter(option))):
            tfar.data.load("sklearn:wine", "train", **option)
    with pytest.raises(ValueError, match="has splits"):
        tfar.data.read("sklearn:wine", "valid")
    with pytest.raises(ValueError, match="Unknown tabular source"):
        tfar.data.read("sklearn:iris", "train")


def test_california_housing_absent_names_the_data_home(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch_california_housing"):
        tfar.data.read("sklearn:california_housing", "train", data_dir=str(tmp_path))


def test_dequantized_digits_floor_back_to_the_integers():
    integers = tfar.data.read("digits", "test").images.astype(np.float32)
    y = np.stack(list(tfar.data.load("digits", "test", dequantize=True, seed=5)
                      .as_numpy_iterator()))
    assert y.dtype == np.float32 and y.min() >= 0 and y.max() < 1
    np.testing.assert_array_equal(np.floor(y * 17), integers)
    u = y * 17 - integers           # the noise: spread over [0, 1)
    assert 0.45 < u.mean() < 0.55 and u.min() < 0.01 and u.max() > 0.99
    requantized = np.stack(list(tfar.data.load("digits", "test", dequantize=True, num_values=4,
                                               seed=5).as_numpy_iterator()))
    np.testing.assert_array_equal(np.floor(requantized * 4), np.floor(integers * 4 / 17))


def test_dequantization_noise_depends_on_seed_split_epoch_and_index_only():
    split = tfar.data.read("digits", "test")
    preprocess = tfar.data.preprocessor(split, dequantize=True, seed=3, epoch=2)
    i = tf.constant(7, tf.int64)
    alone = preprocess(i, split.images[7]).numpy()
    in_batch = tfar.data.load("digits", "test", dequantize=True, seed=3, epoch=2)
    np.testing.assert_array_equal(alone, list(in_batch.skip(7).take(1))[0].numpy())
    for other in (dict(seed=4, epoch=2), dict(seed=3, epoch=3)):
        changed = tfar.data.preprocessor(split, dequantize=True, **other)(i, split.images[7])
        assert not np.array_equal(alone, changed.numpy())
    with pytest.raises(ValueError, match="binarize='dynamic' and dequantize"):
        tfar.data.load("digits", "test", dequantize=True, binarize="dynamic")
