"""`load(source, split)`: integer images for tfar's models as a `tf.data.Dataset`.

Sources:
  "digits"         scikit-learn's 8×8 digits (1,797 images, 17 levels 0…16), embedded, so
                   it works offline; "train" is the first 1,437 images, "test" the last 360.
  "idx:<dir>"      MNIST-format IDX files: train-images-idx3-ubyte(.gz) for "train",
                   t10k-images-idx3-ubyte(.gz) for "test" (labels beside them).
  "npz:<file>"     arrays x_<split> (and y_<split>), the layout of Keras' mnist.npz.
  "folder:<dir>"   PNG/JPEG files in <dir>/<split>/, 256 levels, channels as stored; if that
                   folder has sub-folders, each is a class (label = its index in sorted
                   order) and holds that class's images, else every label is 0.
  "tfds:<name>"    any TensorFlow Datasets image dataset, e.g. tfds:binarized_mnist,
                   tfds:mnist, tfds:cifar10, tfds:imagenet_resized/32x32 (with data_dir).

A split may be sliced like tfds, by index or percent: "test[:8000]", "test[8000:]",
"train[:90%]", "train[90%:]" (tfds sources get the split string as it is). No source but
tfds has a "validation" split: take one from train, e.g. "train[:90%]" to fit and
"train[90%:]" to validate. Elements are float32 images [H, W, C] holding integers in
[0, num_values), or (image, label) with `with_labels`.
"""

import os
import re

import numpy as np
import tensorflow as tf

from tfar.data.idx import read_idx

SOURCES = ("digits", "idx:<dir>", "npz:<file>", "folder:<dir>", "tfds:<name>")
_SLICE = re.compile(r"^(\w+)(?:\[(-?\d+%?)?:(-?\d+%?)?\])?$")
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_IMAGE_FILES = (".png", ".jpg", ".jpeg")


def _parse_split(split):
    """"test[:90%]" -> ("test", (None, "90%")): the split's name and its slice bounds."""
    match = _SLICE.match(split)
    if not match:
        raise ValueError(f"split must look like 'train', 'test', 'test[:8000]' or 'train[90%:]'; "
                         f"got {split!r}.")
    return match.group(1), match.groups()[1:]


def _slice(bounds, count):
    """The slice of `count` examples that bounds like ("10", "-5%") select (% rounded as tfds)."""
    def index(bound):
        if bound and bound.endswith("%"):
            return round(int(bound[:-1]) * count / 100)
        return int(bound) if bound else None
    return slice(*map(index, bounds))


def _resize(image, image_size, levels):
    """`image` resized to `image_size` (antialiased bilinear), rounded into 0 … levels - 1."""
    if tuple(image.shape[-3:-1]) == tuple(image_size):
        return image
    resized = tf.image.resize(tf.cast(image, tf.float32), image_size, antialias=True)
    return tf.clip_by_value(tf.round(resized), 0, levels - 1)


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


def _image_names(folder):
    return sorted(n for n in os.listdir(folder)
                  if n.lower().endswith(_IMAGE_FILES) and not n.startswith("."))


def _folder(directory, split, image_size, channels):
    root = os.path.join(directory, split)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"folder:{directory} has no {split} split: expected a folder "
                                f"{root}.")
    visible = sorted(e for e in os.listdir(root) if not e.startswith("."))
    classes = [e for e in visible if os.path.isdir(os.path.join(root, e))]
    if classes and _image_names(root):
        raise ValueError(f"{root} holds both class sub-folders {classes} and images "
                         f"({_image_names(root)[0]}, …); expected one or the other.")
    paths, labels = [], []
    for label, folder in enumerate([os.path.join(root, c) for c in classes] or [root]):
        names = _image_names(folder)
        paths += [os.path.join(folder, n) for n in names]
        labels += [label] * len(names)
    if not paths:
        where = f"the sub-folders {classes} of {root}" if classes else root
        raise FileNotFoundError(f"folder:{directory} has no PNG or JPEG images in {where}.")
    images = []
    for path in paths:
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels or 0,
                                   expand_animations=False)
        image = tf.cast(_resize(image, image_size, 256), tf.uint8) if image_size is not None else image
        if images and image.shape != images[0].shape:
            raise ValueError(f"{root} holds images of different shapes: {paths[0]} is "
                             f"{tuple(images[0].shape)}, {path} is {tuple(image.shape)}; pass "
                             f"image_size=(height, width) (and channels=) to load them together.")
        images.append(image.numpy())
    return np.stack(images), np.array(labels), 256


def source_levels(source):
    """How many values a source's pixels take before requantization or binarization:
    17 for digits, 2 for tfds:binarized_mnist, 256 (8-bit images) otherwise."""
    if source == "digits":
        return 17
    return 2 if source.startswith("tfds:binarized_mnist") else 256


def load(source, split="train", *, num_values=None, binarize=None, with_labels=False,
         data_dir=None, image_size=None, channels=None, seed=None):
    """A dataset of integer images.

    Args:
      source: one of `SOURCES` (see the module docstring).
      split: "train" or "test", optionally sliced by index or percent ("test[:8000]",
        "train[90%:]"); a validation split is a slice of train, e.g. "train[90%:]".
      num_values: requantize to this many levels (floor(x · num_values / levels)); None
        keeps the source's levels (17 for digits, 256 for 8-bit images).
      binarize: None, "fixed" (x > half the range: 127 for 8-bit images, as the
        benchmark split does) or "dynamic" (x ~ Bernoulli(intensity), drawn afresh each
        time the dataset is iterated, so each epoch sees a new binarization).
      with_labels: yield (image, label) pairs.
      data_dir: tfds data directory.
      image_size: (height, width) to resize every image to (antialiased bilinear, then
        rounded back to the source's levels), before binarization or requantization.
        Needed for a folder of images of different sizes.
      channels: folder sources only: decode to this many channels (1 gray, 3 RGB, 4 RGBA);
        None keeps each image's channels as stored.
      seed: makes binarize="dynamic" reproducible: image i of the k-th iteration (or
        `repeat` epoch) is binarized by stateless random ops seeded with element i of the
        k-th pass over `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`.
        Passes still differ from one another, but the same seed (with the same
        `tf.random.set_seed`, or none) gives the same passes in every run; None leaves
        it to TensorFlow's global seed.

    Returns:
      A `tf.data.Dataset` of float32 [H, W, C] images (or (image, label) pairs).
    """
    if binarize not in (None, "fixed", "dynamic"):
        raise ValueError(f"binarize must be None, 'fixed' or 'dynamic'; got {binarize!r}.")
    if binarize and num_values not in (None, 2):
        raise ValueError(f"binarize={binarize!r} gives 2 values; got num_values={num_values}.")
    if image_size is not None and np.shape(image_size) != (2,):
        raise ValueError(f"image_size must be (height, width); got {image_size!r}.")
    if channels is not None and not source.startswith("folder:"):
        raise ValueError(f"channels applies to folder:<dir> sources only; got source {source!r}.")
    if source.startswith("tfds:"):
        import tensorflow_datasets as tfds
        dataset = tfds.load(source[len("tfds:"):], split=split, data_dir=data_dir)
        dataset = dataset.map(lambda ex: (ex["image"], ex.get("label", tf.constant(0, tf.int64))))
        levels = source_levels(source)
    else:
        name, bounds = _parse_split(split)
        if source == "digits":
            images, labels, levels = _digits(name)
        elif source.startswith("idx:"):
            images, labels, levels = _idx(source[len("idx:"):], name)
        elif source.startswith("npz:"):
            images, labels, levels = _npz(source[len("npz:"):], name)
        elif source.startswith("folder:"):
            images, labels, levels = _folder(source[len("folder:"):], name, image_size, channels)
        else:
            raise ValueError(f"Unknown dataset source {source!r}; expected one of {SOURCES}.")
        part = _slice(bounds, len(images))
        dataset = tf.data.Dataset.from_tensor_slices((images[part], labels[part].astype(np.int64)))
    if binarize == "dynamic":
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip((dataset, draws)).map(lambda example, draw: (*example, draw))

    def preprocess(image, label, draw=None):
        x = tf.cast(image, tf.float32)
        if image_size is not None:
            x = _resize(x, image_size, levels)
        if binarize == "fixed" and levels > 2:
            x = tf.cast(x > (levels - 1) // 2, tf.float32)
        elif binarize == "dynamic":
            noise = tf.random.stateless_uniform(tf.shape(x), tf.stack([draw, tf.zeros_like(draw)]))
            x = tf.cast(noise < x / (levels - 1), tf.float32)
        elif num_values is not None and num_values != levels:
            x = tf.floor(x * num_values / levels)
        return (x, label) if with_labels else x

    return dataset.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
