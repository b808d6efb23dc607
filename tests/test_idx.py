"""The IDX reader, on files written here and on the real MNIST test set when present."""

import gzip
import os

import numpy as np
import pytest

from tfar.data import read_idx

MNIST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_round_trip(tmp_path, name):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(np.uint8)
    write_idx(str(tmp_path / name), array)
    np.testing.assert_array_equal(read_idx(str(tmp_path / name)), array)


def test_truncated_and_foreign_files(tmp_path):
    path = str(tmp_path / "t.idx")
    write_idx(path, np.zeros((4, 5), np.uint8))
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-3])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(path)
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)
    with pytest.raises(FileNotFoundError, match="No IDX file"):
        read_idx(str(tmp_path / "missing.idx"))


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="the MNIST test set is not beside the project")
def test_real_mnist_test_set():
    images = read_idx(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz"))
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert abs(images.mean() - 33.79) < 0.01
