"""`load(source, split)`: integer images for tfar's models as a `tf.data.Dataset`.

Sources:
  "digits"         scikit-learn's 8×8 digits (1,797 images, 17 levels 0…16), embedded, so
                   it works offline; "train" is the first 1,437 images, "test" the last 360.
  "idx:<dir>"      MNIST-format IDX files: train-images-idx3-ubyte(.gz) for "train",
                   t10k-images-idx3-ubyte(.gz) for "test" (labels beside them).
  "npz:<file>"     arrays x_<split> (and y_<split>), the layout of Keras' mnist.npz.
  "tfds:<name>"    any TensorFlow Datasets image dataset, e.g. tfds:binarized_mnist,
                   tfds:mnist, tfds:cifar10, tfds:imagenet_resized/32x32 (with data_dir).

A split may be sliced like tfds: "test[:8000]", "test[8000:]". Elements are float32 images
[H, W, C] holding integers in [0, num_values), or (image, label) with `with_labels`.
"""

import os
import re

import numpy as np
import tensorflow as tf

from tfar.data.idx import read_idx

SOURCES = ("digits", "idx:<dir>", "npz:<file>", "tfds:<name>")
_SLICE = re.compile(r"^(\w+)(?:\[(-?\d*):(-?\d*)\])?$")
_IDX_PREFIX = {"train": "train", "test": "t10k"}


def _parse_split(split):
    match = _SLICE.match(split)
    if not match:
        raise ValueError(f"split must look like 'train', 'test' or 'test[:8000]'; got {split!r}.")
    name, start, stop = match.groups()
    return name, slice(int(start) if start else None, int(stop) if stop else None)


def _digits(split):
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = digits.images.astype(np.uint8)[..., None]
    parts = {"train": slice(0, 1437), "test": slice(1437, None)}
    if split not in parts:
        raise ValueError(f"digits has splits {sorted(parts)}; got {split!r}.")
    return images[parts[split]], digits.target[parts[split]], 17


def _idx(directory, split):
    if split not in _IDX_PREFIX:
        raise ValueError(f"idx sources have splits {sorted(_IDX_PREFIX)}; got {split!r}.")
    found = {}
    for kind, name in (("images", "images-idx3-ubyte"), ("labels", "labels-idx1-ubyte")):
        stem = os.path.join(directory, f"{_IDX_PREFIX[split]}-{name}")
        paths = [p for p in (stem + ".gz", stem) if os.path.exists(p)]
        if not paths:
            raise FileNotFoundError(f"idx:{directory} has no {split} {kind}: expected {stem}.gz "
                                    f"or {stem}.")
        found[kind] = read_idx(paths[0])
    images = found["images"]
    return (images[..., None] if images.ndim == 3 else images), found["labels"], 256


def _npz(path, split):
    if not os.path.exists(path):
        raise FileNotFoundError(f"No npz file at {path!r}.")
    with np.load(path) as arrays:
        if f"x_{split}" not in arrays:
            raise ValueError(f"{path!r} has no array x_{split} (it holds {sorted(arrays)}).")
        images = arrays[f"x_{split}"]
        labels = arrays[f"y_{split}"] if f"y_{split}" in arrays else np.zeros(len(images), np.int64)
    return (images[..., None] if images.ndim == 3 else images), labels, 256


def load(source, split="train", *, num_values=None, binarize=None, with_labels=False,
         data_dir=None):
    """A dataset of integer images.

    Args:
      source: one of `SOURCES` (see the module docstring).
      split: "train" or "test", optionally sliced ("test[:8000]").
      num_values: requantize to this many levels (floor(x · num_values / levels)); None
        keeps the source's levels (17 for digits, 256 for 8-bit images).
      binarize: None, "fixed" (x > half the range: 127 for 8-bit images, as the
        benchmark split does) or "dynamic" (each pass over the data draws x ~
        Bernoulli(intensity), a fresh binarization per epoch).
      with_labels: yield (image, label) pairs.
      data_dir: tfds data directory.

    Returns:
      A `tf.data.Dataset` of float32 [H, W, C] images (or (image, label) pairs).
    """
    if binarize not in (None, "fixed", "dynamic"):
        raise ValueError(f"binarize must be None, 'fixed' or 'dynamic'; got {binarize!r}.")
    if binarize and num_values not in (None, 2):
        raise ValueError(f"binarize={binarize!r} gives 2 values; got num_values={num_values}.")
    name, part = _parse_split(split)
    if source.startswith("tfds:"):
        import tensorflow_datasets as tfds
        dataset = tfds.load(source[len("tfds:"):], split=split, data_dir=data_dir)
        dataset = dataset.map(lambda ex: (ex["image"], ex.get("label", tf.constant(0, tf.int64))))
        levels = 2 if source.startswith("tfds:binarized_mnist") else 256
    else:
        if source == "digits":
            images, labels, levels = _digits(name)
        elif source.startswith("idx:"):
            images, labels, levels = _idx(source[len("idx:"):], name)
        elif source.startswith("npz:"):
            images, labels, levels = _npz(source[len("npz:"):], name)
        else:
            raise ValueError(f"Unknown dataset source {source!r}; expected one of {SOURCES}.")
        dataset = tf.data.Dataset.from_tensor_slices((images[part], labels[part].astype(np.int64)))

    def preprocess(image, label):
        x = tf.cast(image, tf.float32)
        if binarize == "fixed" and levels > 2:
            x = tf.cast(x > (levels - 1) // 2, tf.float32)
        elif binarize == "dynamic":
            x = tf.cast(tf.random.uniform(tf.shape(x)) < x / (levels - 1), tf.float32)
        elif num_values is not None and num_values != levels:
            x = tf.floor(x * num_values / levels)
        return (x, label) if with_labels else x

    return dataset.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
