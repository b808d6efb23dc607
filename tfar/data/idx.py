"""Reading IDX files, the format of MNIST (LeCun et al.), gzipped or not.

An IDX file is a big-endian header — two zero bytes, a type code (0x08 = uint8), the
number of dimensions n — then n uint32 sizes, then the data in row-major order.
"""

import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Reads an IDX file (`.gz` or plain) into a numpy array of its stored shape."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No IDX file at {path!r}.")
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"{path!r} is not an IDX file (bad magic number {data[:4]!r}).")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    dtype = np.dtype(_DTYPES[data[2]])
    offset = 4 + 4 * rank
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - offset != expected:
        raise ValueError(f"{path!r} is truncated or corrupt: the header promises shape {shape} "
                         f"({expected} bytes of data), the file holds {len(data) - offset}.")
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
