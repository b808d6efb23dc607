"""Data for tfar's models: `read` a split, `load` it as a `tf.data.Dataset`.

Sources:
  "digits"         scikit-learn's 8×8 digits (1,797 images, 17 levels 0…16), embedded, so
                   it works offline; "train" is the first 1,437 images, "test" the last 360.
  "idx:<dir>"      MNIST-format IDX files: train-images-idx3-ubyte(.gz) for "train",
                   t10k-images-idx3-ubyte(.gz) for "test" (labels beside them).
  "npz:<file>"     arrays x_<split> (and y_<split>), the layout of Keras' mnist.npz.
  "folder:<dir>"   PNG/JPEG files in <dir>/<split>/, 256 levels, channels as stored; if that
                   folder has sub-folders, each is a class (label = its index in sorted
                   order) and holds that class's images, else the split has no labels.
  "tfds:<name>"    any TensorFlow Datasets image dataset, e.g. tfds:binarized_mnist,
                   tfds:mnist, tfds:cifar10, tfds:imagenet_resized/32x32 (with data_dir);
                   with a text feature (tfds:coco_captions) it has captions (below).
  "photos:<size>"  natural colour: <size>×<size>×3 patches (256 levels) of the photographs
                   scikit-image ships, "train" and "test" split by photograph, offline:
                   see `tfar.data.photos`.
  "sklearn:<set>"  real-valued tabular data: scikit-learn's wine, breast_cancer, diabetes
                   (bundled, offline) and california_housing (where its file is), with
                   train/validation/test splits, standardized with the train split's
                   statistics: see `tfar.data.tabular`. Examples are vectors [D] of
                   floats, not images.
  "captioned_digits", "captioned_digits:<digit source>"
                   one or two digits on a larger canvas with a caption saying where
                   ("the digit 3 is at the top left", "the digit 3 is above the digit
                   7"), composed from the embedded digits or any labelled digit source
                   (captioned_digits:idx:<dir>): see `tfar.data.captions`.

Captions: a split may hold one caption per image (`Split.has_captions`), the conditional
input of a text-to-image model: `load(..., with_captions=True)` yields (image, caption
string). captioned_digits has them; a tfds set has them when it has a text feature,
named by `caption_feature` ("captions/text": the nested feature text of captions),
by default the first of `CAPTION_FEATURES` it has. A feature holding several texts per
image (coco_captions' five or so) gives its first, the same in every epoch ("" for an
image without any).

A split may be sliced like tfds, by index or percent: "test[:8000]", "test[8000:]",
"train[:90%]", "train[90%:]" (tfds sources get the split string as it is). No source but
tfds has a "validation" split: take one from train, e.g. "train[:90%]" to fit and
"train[90%:]" to validate.

`read` gives a `Split`: the images and labels in memory (every source but tfds, and tfds
splits of at most `max_in_memory_mb`), or, for larger tfds splits, a stream of their
files. Example i is the i-th in the order the split is read: its stored order, or, for a
stream read in another file order, that order. Every random choice is a stateless
function of (seed, split, epoch, i): `epoch_keys` derives an epoch's two keys, and
dynamic binarization draws example i's noise from the noise key folded with i, so it
does not depend on the batch or worker that reads the example, nor on how many passes
came before in this process.

Real values: a tabular source's examples are real already; integer images become real by
dequantization (`load(..., dequantize=True)`, `config.data.dequantize`): pixel k of L
levels becomes y = (k + u) / L in [0, 1), u ~ U[0, 1) drawn from (seed, split, epoch, i)
as dynamic binarization draws its noise. A density p(y) of the dequantized images bounds
the discrete likelihood: log P(k) >= E_u[log p(y)] - D·log L (Theis, van den Oord &
Bethge 2016, §3.1), the change-of-variables term D·log L being what converts a test
log-likelihood of y into bits/dim of the integer images (`tfar.training.evaluation`).
"""

import dataclasses
import os
import re
import zlib
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from tfar.data import photos, tabular
from tfar.data.idx import read_idx

SOURCES = ("digits", "idx:<dir>", "npz:<file>", "folder:<dir>", "tfds:<name>",
           "sklearn:<set>", "photos:<size>", "captioned_digits",
           "captioned_digits:<digit source>")
BINARIZATIONS = (None, "fixed", "dynamic")
CONDITIONS = ("label", "caption")
CAPTIONED = "captioned_digits"
# The text features a tfds set's captions are looked for in, in this order ("a/b": the
# feature b nested in a, as coco_captions' captions/text).
CAPTION_FEATURES = ("caption", "captions/text", "text")
_SLICE = re.compile(r"^(\w+)(?:\[(-?\d+%?)?:(-?\d+%?)?\])?$")
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_IMAGE_FILES = (".png", ".jpg", ".jpeg")


@dataclasses.dataclass(frozen=True)
class Split:
    """One split of a source, read but not preprocessed.

    Attributes:
      source, split: what was read, e.g. "digits", "train[:90%]".
      size: N, the number of examples.
      levels: how many values a stored pixel takes (17 digits, 2 binarized_mnist, 256);
        None for a real-valued (tabular) source.
      shape: the stored images' (H, W, C); None for a dimension that varies (streamed
        only); a tabular source's (D,).
      has_labels: whether the examples carry class labels (without, every label is 0).
      num_classes: tfds and tabular sources: the classes its metadata declares (labels
        lie in [0, num_classes)), what `check_labels` goes by when the labels are
        streamed; None for other sources.
      images: in memory: [N, H, W, C] integers (a tabular source: its rows [N, D]
        float32); None when streamed.
      labels: in memory: [N] int64; None when streamed.
      stream: streamed: `stream(order_key, condition="label", decode_images=True)` -> a
        `tf.data.Dataset` of (image [H, W, C], label [] int64) (condition "caption":
        (image, caption [] string)) reading the split's files in an order drawn from
        `order_key` ([2] int32 tensor; None: the stored order); decode_images=False
        yields each image's encoded bytes [] string instead (cheap, for captions only).
      has_captions: whether the examples carry a caption each (see the module docstring).
      captions: in memory and has_captions: [N] str (a numpy object array); else None.
    """
    source: str
    split: str
    size: int
    levels: int
    shape: tuple
    has_labels: bool
    num_classes: Optional[int] = None
    images: Optional[np.ndarray] = None
    labels: Optional[np.ndarray] = None
    stream: Optional[Callable] = None
    has_captions: bool = False
    captions: Optional[np.ndarray] = None

    @property
    def name(self):
        """"<source> <split>", for messages."""
        return f"{self.source} {self.split}"

    def examples(self, condition="label"):
        """The split in its stored order: a dataset of (i [] int64, image [H, W, C],
        label [] int64), or with condition "caption" (i, image, caption [] string)."""
        _check_condition(condition)
        if condition == "caption":
            self.check_captions()
        if self.stream is None:
            return tf.data.Dataset.from_tensor_slices(
                (np.arange(self.size, dtype=np.int64), self.images,
                 self.captions if condition == "caption" else self.labels))
        return self.stream(None, condition).enumerate().map(lambda i, example: (i, *example))

    def caption_texts(self):
        """The split's captions in its stored order: a dataset of [] strings (a streamed
        split reads its files once, without decoding the images)."""
        self.check_captions()
        if self.stream is None:
            return tf.data.Dataset.from_tensor_slices(self.captions)
        return self.stream(None, "caption", decode_images=False).map(lambda _, caption: caption)

    def check_captions(self):
        """Raises ValueError unless the examples carry captions."""
        if not self.has_captions:
            raise ValueError(
                f"{self.name} has no captions; a caption-conditional model needs a source "
                "with a caption per image: captioned_digits, captioned_digits:<digit "
                "source>, or a tfds set with a text feature (caption_feature, "
                f"config.data.caption_feature; looked for: {', '.join(CAPTION_FEATURES)}).")

    def check_labels(self, num_classes):
        """Raises ValueError unless every label lies in [0, num_classes) (tfds: unless the
        declared classes fit), naming the labels found."""
        if not self.has_labels:
            raise ValueError(f"{self.name} has no class labels; a class-conditional model "
                             "needs them.")
        if self.labels is None:
            if self.num_classes > num_classes:
                raise ValueError(f"{self.name} has {self.num_classes} classes (labels 0…"
                                 f"{self.num_classes - 1}); num_classes is {num_classes}.")
            return
        outside = (self.labels < 0) | (self.labels >= num_classes)
        if outside.any():
            raise ValueError(
                f"{self.name} has labels {self.labels.min()}…{self.labels.max()}: "
                f"{int(outside.sum())} of its {self.size} lie outside [0, {num_classes}), "
                f"num_classes is {num_classes}.")


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


def idx_has_train(directory):
    """Whether an idx: folder holds MNIST's train images (../shared/data/mnist holds only
    the t10k files)."""
    return any(os.path.exists(os.path.join(directory, name))
               for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"))


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
        labels = arrays[f"y_{split}"] if f"y_{split}" in arrays else None
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
    return np.stack(images), np.array(labels) if classes else None, 256


def _feature(example, path):
    """The (possibly nested) entry `path` of a tfds example or element spec: the key
    itself if the dict has it (coco's "image/filename"), else "a/b" is example["a"]["b"]."""
    if not isinstance(example, dict):
        return None
    if path in example:
        return example[path]
    head, _, rest = path.partition("/")
    return _feature(example.get(head), rest) if rest else None


def _is_text(spec):
    return (isinstance(spec, tf.TensorSpec) and spec.dtype == tf.string
            and spec.shape.rank in (0, 1))


def _text_features(spec, prefix=""):
    """The paths of `spec`'s text entries (string scalars or vectors), for messages."""
    paths = []
    for key, value in spec.items():
        if isinstance(value, dict):
            paths += _text_features(value, f"{prefix}{key}/")
        elif _is_text(value):
            paths.append(prefix + key)
    return paths


def _caption_path(source, spec, caption_feature):
    """The path of the caption feature in a tfds element spec: `caption_feature`
    (checked), or by default the first of CAPTION_FEATURES it has; None: no captions."""
    if caption_feature is None:
        return next((p for p in CAPTION_FEATURES if _is_text(_feature(spec, p))), None)
    if not _is_text(_feature(spec, caption_feature)):
        raise ValueError(f"{source} has no text feature {caption_feature!r} (one string, or "
                         f"a sequence of strings, per image); its text features are "
                         f"{_text_features(spec)}.")
    return caption_feature


def _first_text(texts):
    """A caption [] string from a text feature: itself, or the first of a sequence ("" if
    empty)."""
    if texts.shape.rank == 0:
        return texts
    return tf.concat([texts[:1], [""]], axis=0)[0]


def _tfds(source, split, data_dir, max_in_memory_mb, caption_feature):
    """A tfds split: in memory when its images have one shape and take at most
    `max_in_memory_mb`, else streamed from its files."""
    import tensorflow_datasets as tfds
    builder = tfds.builder(source[len("tfds:"):], data_dir=data_dir)
    builder.download_and_prepare()  # as tfds.load does; nothing to do once prepared
    label = builder.info.features["label"] if "label" in builder.info.features else None
    has_labels = isinstance(label, tfds.features.ClassLabel)
    caption_path = None

    def examples(order_key=None, decode_images=True):
        """The split's tfds examples, its files read in an order drawn from `order_key`."""
        read_config = tfds.ReadConfig(try_autocache=False)
        if order_key is not None:
            def permute(files):
                order = tf.random.experimental.index_shuffle(
                    np.arange(len(files)), order_key, len(files) - 1).numpy()
                return [files[i] for i in order]
            read_config = read_config.replace(experimental_interleave_sort_fn=permute)
        return builder.as_dataset(
            split=split, read_config=read_config,
            decoders=None if decode_images else {"image": tfds.decode.SkipDecoding()})

    def label_of(example):
        return example["label"] if has_labels else tf.constant(0, tf.int64)

    def caption_of(example):
        return _first_text(_feature(example, caption_path))

    def stream(order_key, condition="label", decode_images=True):
        _check_condition(condition)
        if condition == "caption" and caption_path is None:
            raise ValueError(f"{source} {split} has no captions.")
        target = caption_of if condition == "caption" else label_of
        return examples(order_key, decode_images).map(
            lambda example: (example["image"], target(example)))

    try:
        dataset = examples()
    except ValueError as error:  # tfds: "Unknown split 'test'. Should be one of [...]."
        raise ValueError(f"{source}: {error}") from error
    caption_path = _caption_path(source, dataset.element_spec, caption_feature)
    size = int(dataset.cardinality())
    if size < 0:  # unknown (some tfds builds): count once
        size = int(dataset.reduce(np.int64(0), lambda n, _: n + 1))
    spec = dataset.element_spec["image"]
    common = dict(source=source, split=split, size=size, levels=source_levels(source),
                  shape=tuple(spec.shape.as_list()), has_labels=has_labels,
                  num_classes=label.num_classes if has_labels else None,
                  has_captions=caption_path is not None)
    if (size == 0 or not spec.shape.is_fully_defined()
            or size * spec.shape.num_elements() * spec.dtype.size > max_in_memory_mb * 2**20):
        return Split(**common, stream=stream)
    if caption_path is None:
        images, labels = dataset.map(lambda e: (e["image"], label_of(e))).batch(
            size).get_single_element()
        return Split(**common, images=images.numpy(), labels=labels.numpy())
    images, labels, captions = dataset.map(
        lambda e: (e["image"], label_of(e), caption_of(e))).batch(size).get_single_element()
    captions = np.array([c.decode() for c in captions.numpy()], dtype=object)
    return Split(**common, images=images.numpy(), labels=labels.numpy(), captions=captions)


def _check_condition(condition):
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}; got {condition!r}.")


def _check_options(num_values=None, binarize=None, image_size=None, dequantize=False):
    if binarize not in BINARIZATIONS:
        raise ValueError(f"binarize must be None, 'fixed' or 'dynamic'; got {binarize!r}.")
    if binarize and num_values not in (None, 2):
        raise ValueError(f"binarize={binarize!r} gives 2 values; got num_values={num_values}.")
    if binarize and dequantize:
        raise ValueError(f"binarize={binarize!r} and dequantize: pass one of them (binary "
                         "images, or real values in [0, 1)).")
    if image_size is not None and np.shape(image_size) != (2,):
        raise ValueError(f"image_size must be (height, width); got {image_size!r}.")


def _check_real_options(split, **options):
    """Raises ValueError naming the image options set for a real-valued (tabular) split."""
    given = sorted(name for name, value in options.items() if value)
    if given:
        raise ValueError(f"{split.name} holds real-valued vectors, not images; "
                         f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to "
                         "integer images only.")


def source_levels(source):
    """How many values a source's pixels take before requantization or binarization:
    17 for digits, 2 for tfds:binarized_mnist, 256 (8-bit images) otherwise (a
    captioned_digits source: its digit source's)."""
    if source.startswith(CAPTIONED):
        return source_levels(source[len(CAPTIONED) + 1:] or "digits")
    if source == "digits":
        return 17
    return 2 if source.startswith("tfds:binarized_mnist") else 256


def read(source, split="train", *, data_dir=None, image_size=None, channels=None,
         max_in_memory_mb=1024, caption_feature=None, compose_seed=0):
    """The `Split` of `source` called `split` (see the module docstring), not preprocessed.

    Args:
      source: one of `SOURCES`.
      split: "train" or "test", optionally sliced ("test[:8000]", "train[90%:]"); tfds
        sources take any split string of tfds ("validation", "train+test", …).
      data_dir: tfds data directory (sklearn:<set> sources: scikit-learn's data home).
      image_size: folder sources: (height, width) to decode images of different sizes to
        (other sources are resized by `preprocessor`).
      channels: folder sources only: decode to this many channels (1 gray, 3 RGB, 4 RGBA);
        None keeps each image's channels as stored.
      max_in_memory_mb: a tfds split whose images take more is streamed from its files.
      caption_feature: tfds sources: the text feature holding the captions ("a/b" for a
        nested feature, e.g. "captions/text"); None: the first of CAPTION_FEATURES the
        set has, if any.
      compose_seed: captioned_digits sources: the seed of the composition (which digits,
        where, which caption); the same seed gives the same images and captions.

    Raises:
      ValueError or FileNotFoundError: an unknown source or split, or unreadable files.
    """
    _check_options(image_size=image_size)
    if channels is not None and not source.startswith("folder:"):
        raise ValueError(f"channels applies to folder:<dir> sources only; got source {source!r}.")
    if caption_feature is not None and not source.startswith("tfds:"):
        raise ValueError(f"caption_feature applies to tfds:<name> sources only; got source "
                         f"{source!r}.")
    if source.startswith("tfds:"):
        return _tfds(source, split, data_dir, max_in_memory_mb, caption_feature)
    if source == CAPTIONED or source.startswith(CAPTIONED + ":"):
        from tfar.data import captions
        return captions.read(source, split, seed=compose_seed, data_dir=data_dir)
    name, bounds = _parse_split(split)
    if source.startswith(photos.PREFIX):
        images = photos.read(source, name)
        images = images[_slice(bounds, len(images))]
        return Split(source, split, len(images), 256, images.shape[1:], False,
                     images=images, labels=np.zeros(len(images), np.int64))
    if source.startswith(tabular.PREFIX):
        rows, labels, num_classes = tabular.read(source, name, data_home=data_dir)
        part = _slice(bounds, len(rows))
        has_labels = labels is not None
        rows = rows[part]
        return Split(source, split, len(rows), None, rows.shape[1:], has_labels,
                     num_classes=num_classes, images=rows,
                     labels=labels[part] if has_labels else np.zeros(len(rows), np.int64))
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
    images = images[part]
    has_labels = labels is not None
    labels = labels[part].astype(np.int64) if has_labels else np.zeros(len(images), np.int64)
    return Split(source, split, len(images), levels, images.shape[1:], has_labels,
                 images=images, labels=labels)


def epoch_keys(seed, split, epoch):
    """(order key, noise key), two stateless seeds [2] int32 of `split` (a split string)
    in `epoch`: the key (seed, crc32(split)) folded with the epoch, then split in two."""
    base = tf.constant([seed, zlib.crc32(split.encode()) & 0x7FFFFFFF], tf.int64)
    key = tf.random.experimental.stateless_fold_in(base, tf.cast(epoch, tf.int64))
    return tuple(tf.unstack(tf.random.experimental.stateless_split(key, 2)))


def padded_shape(shape, pad_to):
    """The (H, W, C) of images of `shape` zero-padded to `pad_to` (H', W'), or a ValueError
    when they do not fit."""
    if pad_to is None:
        return tuple(shape)
    if np.shape(pad_to) != (2,) or pad_to[0] < shape[0] or pad_to[1] < shape[1]:
        raise ValueError(f"pad_to must be (height, width) no smaller than the images' "
                         f"{tuple(shape[:2])}; got {pad_to!r}.")
    return (int(pad_to[0]), int(pad_to[1])) + tuple(shape[2:])


def _pad(image, pad_to):
    """`image` [H, W, C] zero-padded to `pad_to` (H', W'), centred (the extra row or
    column, if odd, at the bottom or right): MNIST's 28×28 in 32×32."""
    height, width = image.shape[0], image.shape[1]
    top, left = (pad_to[0] - height) // 2, (pad_to[1] - width) // 2
    return tf.pad(image, [[top, pad_to[0] - height - top], [left, pad_to[1] - width - left],
                          [0, 0]])


def preprocessor(split, *, num_values=None, binarize=None, image_size=None, pad_to=None,
                 dequantize=False, seed=0, epoch=0):
    """The function (i [] int64, image [H, W, C]) -> float32 [H', W', C] holding integers in
    [0, num_values) that maps example i of `split` (a `Split`) in `epoch`: resize, pad with
    zeros to `pad_to`, then binarize or requantize (see `load`); with `dequantize`, then
    (x + u) / num_values in [0, 1). Dynamic binarization and dequantization draw example
    i's noise with the stateless seed
    `stateless_fold_in(epoch_keys(seed, split.split, epoch)[1], i)`. A real-valued split
    (a tabular source) takes none of these options: its function returns the row [D]."""
    _check_options(num_values, binarize, image_size, dequantize)
    levels = split.levels
    if levels is None:
        _check_real_options(split, num_values=num_values, binarize=binarize,
                            image_size=image_size, pad_to=pad_to, dequantize=dequantize)
        return lambda i, row: tf.cast(row, tf.float32)
    noisy = binarize == "dynamic" or dequantize
    noise_key = epoch_keys(seed, split.split, epoch)[1] if noisy else None

    def noise(i, x):
        key = tf.random.experimental.stateless_fold_in(noise_key, tf.cast(i, tf.int64))
        return tf.random.stateless_uniform(tf.shape(x), key)

    def preprocess(i, image):
        x = tf.cast(image, tf.float32)
        if image_size is not None:
            x = _resize(x, image_size, levels)
        if pad_to is not None:
            x = _pad(x, pad_to)
        if binarize == "fixed" and levels > 2:
            x = tf.cast(x > (levels - 1) // 2, tf.float32)
        elif binarize == "dynamic":
            x = tf.cast(noise(i, x) < x / (levels - 1), tf.float32)
        elif num_values is not None and num_values != levels:
            x = tf.floor(x * num_values / levels)
        if dequantize:
            x = (x + noise(i, x)) / (num_values or levels)
        return x

    return preprocess


def load(source, split="train", *, num_values=None, binarize=None, dequantize=False,
         with_labels=False, with_captions=False, data_dir=None, image_size=None, pad_to=None,
         channels=None, seed=None, epoch=0, caption_feature=None, compose_seed=0):
    """A dataset of integer images (or of real vectors: a tabular source, or images
    dequantized), in the split's stored order.

    Args:
      source: one of `SOURCES` (see the module docstring).
      split: "train" or "test", optionally sliced by index or percent ("test[:8000]",
        "train[90%:]"); a validation split is a slice of train, e.g. "train[90%:]".
      num_values: requantize to this many levels (floor(x · num_values / levels)); None
        keeps the source's levels (17 for digits, 256 for 8-bit images).
      binarize: None, "fixed" (x > half the range: 127 for 8-bit images, as the
        benchmark split does) or "dynamic" (x ~ Bernoulli(intensity) with noise drawn
        from (seed, split, epoch, i) for example i, the same each time the dataset is
        iterated and in every process; pass epoch=0, 1, … for a fresh binarization per
        epoch).
      dequantize: real values instead of integers: pixel k of L levels (num_values, or
        the source's) becomes (k + u) / L in [0, 1), u ~ U[0, 1) drawn from (seed, split,
        epoch, i) as dynamic binarization's noise (see the module docstring).
      with_labels: yield (image, label) pairs (label 0 where the split has no labels).
      with_captions: yield (image, caption [] string) pairs instead; the split must have
        captions (captioned_digits, a tfds set with a text feature).
      data_dir: tfds data directory.
      image_size: (height, width) to resize every image to (antialiased bilinear, then
        rounded back to the source's levels), before binarization or requantization.
        Needed for a folder of images of different sizes.
      pad_to: (height, width) to pad every image to with zeros, centred (after
        `image_size`): MNIST's 28×28 in 32×32, for models whose size doubles.
      channels: folder sources only: decode to this many channels (1 gray, 3 RGB, 4 RGBA);
        None keeps each image's channels as stored.
      seed: an int, the seed of dynamic binarization and dequantization; None draws one (from TensorFlow's
        global generator, so `tf.random.set_seed` makes it reproducible).
      epoch: which epoch's binarization to draw.
      caption_feature: tfds sources: the text feature of the captions (see `read`).
      compose_seed: captioned_digits sources: the composition's seed (see `read`).

    Returns:
      A `tf.data.Dataset` of float32 [H, W, C] images (a tabular source: [D] rows), or
      (image, label) or (image, caption) pairs.
    """
    _check_options(num_values, binarize, image_size, dequantize)
    if with_labels and with_captions:
        raise ValueError("with_labels and with_captions: pass one of them (a pair holds "
                         "the image and its label or its caption).")
    data = read(source, split, data_dir=data_dir, image_size=image_size, channels=channels,
                caption_feature=caption_feature, compose_seed=compose_seed)
    if seed is None and (binarize == "dynamic" or dequantize):
        seed = int(tf.random.uniform([], maxval=2**31 - 1, dtype=tf.int32))
    preprocess = preprocessor(data, num_values=num_values, binarize=binarize,
                              image_size=image_size, pad_to=pad_to, dequantize=dequantize,
                              seed=seed, epoch=epoch)
    if data.levels is not None:
        padded_shape((*image_size, data.shape[-1]) if image_size else data.shape,
                     pad_to)                   # a clear error when they do not fit
    if not with_captions:
        return data.examples().map(
            lambda i, image, label: (preprocess(i, image), label) if with_labels
            else preprocess(i, image), num_parallel_calls=tf.data.AUTOTUNE)
    return data.examples("caption").map(
        lambda i, image, caption: (preprocess(i, image), caption),
        num_parallel_calls=tf.data.AUTOTUNE)
