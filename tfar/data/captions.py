"""Captioned digits: one or two digits on a canvas twice their size, with a caption that
says where they are.

A small, exact version of the captioned MNIST of alignDRAW (Mansimov, Parisotto, Ba &
Salakhutdinov, "Generating Images from Captions with Attention", ICLR 2016), which put
one or two MNIST digits on a 60×60 canvas; here the digits sit in the cells of a 2×2
grid, so that every caption is exactly true of its pixels and a benchmark can crop each
digit back out. It trains text-to-image models (captions as the conditional input) and
tests them on digit/position combinations they never saw.

Sources (`tfar.data.read`, `tfar.data.load`):
  "captioned_digits"                 scikit-learn's 8×8 digits (17 levels, embedded) on a
                                     16×16 canvas: CPU-sized, works offline.
  "captioned_digits:<digit source>"  the h×w digits of any labelled digit source on a
                                     2h×2w canvas, e.g. captioned_digits:idx:<dir>: MNIST's
                                     28×28 digits on 56×56 (256 levels). The digit source
                                     is one of digits, idx:<dir>, npz:<file>,
                                     folder:<dir>, tfds:<name> whose labels are 0…9.

The canvas: a 2×2 grid of digit-sized cells, `POSITIONS` = ("top left", "top right",
"bottom left", "bottom right"), cell k at grid row k // 2 and column k % 2, i.e. canvas
rows [(k // 2)·h, (k // 2 + 1)·h) and columns [(k % 2)·w, (k % 2 + 1)·w) (`cell_slices`).
The background is 0; a digit's pixels are copied into its cell unchanged, so the canvas
has the digit source's levels and channels.

Images and captions: half of the images (in expectation) hold one digit, captioned
"the digit 3 is at the top left"; the other half hold two digit images (possibly of the
same class) in two cells that share a row or a column (never diagonal, so exactly one
relation holds), captioned "the digit 3 is above the digit 7": `RELATIONS` ("above",
"below", "left of", "right of") say where the first-named digit is relative to the
second (`caption_for`).

Splits: "train" holds `SIZES["train"]` = 50,000 images composed from the digit source's
train split, "test" `SIZES["test"]` = 10,000 from its test split, so a test image never
reuses a training digit image. An idx: folder holding only the t10k files
(../shared/data/mnist) gives its "test[:8000]" to "train" and "test[8000:]" to "test"
(the benchmark split of ../shared/data/README.md). Slices apply to the composed split:
"train[90%:]" is the last 5,000 composed training images (a validation split: its
digit images are training digits, and it shows no held-out combination).

Held-out combinations: `HELD_OUT`, ten of the forty (digit, position) pairs — digit d at
POSITIONS[d % 4] — never appear in "train", neither alone nor as either digit of a pair
(the cell of such a digit is drawn among the others). "test" draws from all forty, so
about a quarter of its one-digit images and about 7/16 of its two-digit images show a held-out
combination. `layouts(source, split)` gives, aligned with the images, each image's
digits, cells and whether it shows a held-out combination: what a benchmark that judges
generated samples needs.

Determinism: image i of split s ("train" or "test") is a stateless function of (seed,
s, i): its four draws are `stateless_uniform([4], stateless_fold_in(key, i))` in
float64 with key = (seed, crc32("captioned_digits " + s)): u0 < 1/2 gives two digits,
u1 and u2 pick the digit images (index floor(u · M) of the digit split's M images),
u3 the cell (or ordered pair of cells) among those allowed. It does not depend on the
slice read, the order images are read in, or the process.
"""

import dataclasses
import functools
import zlib

import numpy as np
import tensorflow as tf

from tfar.data import datasets

POSITIONS = ("top left", "top right", "bottom left", "bottom right")
RELATIONS = ("above", "below", "left of", "right of")
SIZES = {"train": 50_000, "test": 10_000}
# The (digit, position) pairs "train" never shows: digit d at POSITIONS[d % 4].
HELD_OUT = tuple((d, POSITIONS[d % 4]) for d in range(10))
# The ordered pairs of cells (first-named digit's cell, second's) sharing a row or column.
CELL_PAIRS = ((0, 2), (2, 0), (1, 3), (3, 1), (0, 1), (1, 0), (2, 3), (3, 2))
# Which split of the digit source each composed split reads, and for an idx: folder
# holding only the t10k files.
DIGIT_SPLITS = {"train": "train", "test": "test"}
TEST_ONLY_DIGIT_SPLITS = {"train": "test[:8000]", "test": "test[8000:]"}
_HELD_CELL = np.array([d % 4 for d in range(10)])
_DIGIT_SOURCES = ("digits", "idx:<dir>", "npz:<file>", "folder:<dir>", "tfds:<name>")


@dataclasses.dataclass(frozen=True)
class Layout:
    """What each image of a composed split shows, aligned with its N images.

    Attributes:
      digits: [N, 2] int64, the digits' classes (first-named first); -1 in column 1 for
        a one-digit image.
      cells: [N, 2] int64, their cells (indices into POSITIONS); -1 where no digit.
      digit_indices: [N, 2] int64, their images' indices in the digit split; -1 where
        no digit.
      held_out: [N] bool, whether a digit of the image is at a HELD_OUT combination
        (never in "train").
      captions: [N] str (a numpy object array), the captions.
      digit_source, digit_split: where the digits come from, e.g. "digits", "test".
      digit_shape: (h, w), the size of a digit and of a cell.
    """
    digits: np.ndarray
    cells: np.ndarray
    digit_indices: np.ndarray
    held_out: np.ndarray
    captions: np.ndarray
    digit_source: str
    digit_split: str
    digit_shape: tuple

    @property
    def num_digits(self):
        """[N] int64: 1 or 2."""
        return (self.digits >= 0).sum(axis=1)


def relation(cell, other):
    """Where a digit in `cell` is relative to one in `other` (cells sharing a row or a
    column): "above", "below", "left of" or "right of"."""
    (row, column), (other_row, other_column) = divmod(cell, 2), divmod(other, 2)
    if column == other_column and row != other_row:
        return "above" if row < other_row else "below"
    if row == other_row and column != other_column:
        return "left of" if column < other_column else "right of"
    raise ValueError(f"Cells {POSITIONS[cell]!r} and {POSITIONS[other]!r} share no row or "
                     "column: no relation of RELATIONS holds alone.")


def caption_for(digit, cell, other_digit=-1, other_cell=-1):
    """The caption of a digit in `cell` (an index into POSITIONS), alone or with
    `other_digit` in `other_cell`: "the digit 3 is at the top left", "the digit 3 is
    above the digit 7"."""
    if other_digit < 0:
        return f"the digit {digit} is at the {POSITIONS[cell]}"
    return f"the digit {digit} is {relation(cell, other_cell)} the digit {other_digit}"


def cell_slices(cell, digit_shape):
    """(rows, columns): the slices of the canvas that cell `cell` covers, for digits of
    `digit_shape` (h, w); `image[rows, columns]` is the digit there, [h, w, C]."""
    (row, column), (h, w) = divmod(cell, 2), digit_shape
    return slice(row * h, (row + 1) * h), slice(column * w, (column + 1) * w)


def digit_source(source):
    """The digit source of a captioned_digits source ("captioned_digits" -> "digits");
    raises ValueError for anything else."""
    if source == datasets.CAPTIONED:
        return "digits"
    prefix = datasets.CAPTIONED + ":"
    digits = source[len(prefix):] if source.startswith(prefix) else None
    if digits is None:
        raise ValueError(f"{source!r} is not a captioned digit source: expected "
                         "captioned_digits or captioned_digits:<digit source>.")
    if not (digits == "digits" or digits.startswith(("idx:", "npz:", "folder:", "tfds:"))):
        raise ValueError(f"{source}: unknown digit source {digits!r}; expected one of "
                         f"{_DIGIT_SOURCES} (a labelled set of digit images), e.g. "
                         "captioned_digits:idx:/path/to/mnist.")
    return digits


def digit_split(source, split):
    """The digit source's split that the composed split `split` ("train" or "test",
    unsliced) is composed from."""
    digits = digit_source(source)
    if digits.startswith("idx:") and not datasets.idx_has_train(digits[len("idx:"):]):
        return TEST_ONLY_DIGIT_SPLITS[split]
    return DIGIT_SPLITS[split]


@tf.function(input_signature=[tf.TensorSpec([2], tf.int64), tf.TensorSpec([None], tf.int64)])
def _uniforms(key, indices):
    """[n, 4] float64: row j is stateless_uniform([4], stateless_fold_in(key, indices[j]))."""
    return tf.map_fn(
        lambda i: tf.random.stateless_uniform(
            [4], tf.random.experimental.stateless_fold_in(key, i), dtype=tf.float64),
        indices, fn_output_signature=tf.TensorSpec([4], tf.float64), parallel_iterations=256)


@functools.lru_cache(maxsize=8)
def _draws(seed, split, size):
    """[size, 4] float64 uniforms in [0, 1): row i drawn from (seed, split, i) alone."""
    key = tf.constant([seed, zlib.crc32(f"{datasets.CAPTIONED} {split}".encode())
                       & 0x7FFFFFFF], tf.int64)
    draws = _uniforms(key, tf.range(size, dtype=tf.int64)).numpy()
    draws.flags.writeable = False
    return draws


def _pick(allowed, u):
    """Per row, the index of the floor(u · count)-th True of `allowed` [n, k] (count:
    the row's Trues)."""
    k = np.floor(u * allowed.sum(axis=1)).astype(np.int64)
    return np.argmax(np.cumsum(allowed, axis=1) > k[:, None], axis=1)


def _read_digits(source, split, data_dir):
    digits, part = digit_source(source), digit_split(source, split)
    data = datasets.read(digits, part, data_dir=data_dir)
    if data.images is None:
        raise ValueError(f"{source}: the digits of {data.name} are streamed (too large for "
                         "memory); captioned_digits composes from digits held in memory.")
    if not data.has_labels:
        raise ValueError(f"{source}: {data.name} has no labels; captioned_digits needs "
                         "each digit's class (0…9) for its caption.")
    if data.size == 0 or data.labels.min() < 0 or data.labels.max() > 9:
        raise ValueError(f"{source}: {data.name} has labels "
                         f"{data.labels.min() if data.size else '(none)'}…"
                         f"{data.labels.max() if data.size else ''}; captioned_digits "
                         "needs digit classes 0…9.")
    return data


def _compose(source, split, seed, data_dir):
    """(images [N, 2h, 2w, C], Layout, levels) of the whole composed split `split`."""
    digits = _read_digits(source, split, data_dir)
    n, m = SIZES[split], digits.size
    u = _draws(int(seed), split, n)
    two = u[:, 0] < 0.5
    indices = np.minimum(np.floor(u[:, 1:3] * m).astype(np.int64), m - 1)  # [n, 2]
    classes = digits.labels[indices]                                         # [n, 2]
    held = _HELD_CELL[classes]                                               # [n, 2]
    train = split == "train"

    alone = np.ones((n, 4), bool)
    if train:
        alone[np.arange(n), held[:, 0]] = False
    pairs = np.array(CELL_PAIRS)
    together = np.ones((n, len(CELL_PAIRS)), bool)
    if train:
        together &= (pairs[None, :, 0] != held[:, :1]) & (pairs[None, :, 1] != held[:, 1:])
    one_cell = _pick(alone, u[:, 3])
    two_cells = pairs[_pick(together, u[:, 3])]
    cells = np.where(two[:, None], two_cells, np.stack([one_cell, -np.ones(n, np.int64)], 1))
    present = cells >= 0
    classes = np.where(present, classes, -1)
    indices = np.where(present, indices, -1)

    h, w, channels = digits.images.shape[1:]
    images = np.zeros((n, 2 * h, 2 * w, channels), digits.images.dtype)
    for slot in range(2):
        for cell in range(4):
            rows = cells[:, slot] == cell
            images[(rows,) + cell_slices(cell, (h, w))] = digits.images[indices[rows, slot]]
    captions = np.array([caption_for(d, c, other_d, other_c) for (d, other_d), (c, other_c)
                         in zip(classes.tolist(), cells.tolist())], dtype=object)
    held_out = ((cells == _HELD_CELL[np.maximum(classes, 0)]) & present).any(axis=1)
    layout = Layout(digits=classes, cells=cells, digit_indices=indices, held_out=held_out,
                    captions=captions, digit_source=digits.source, digit_split=digits.split,
                    digit_shape=(h, w))
    return images, layout, digits.levels


def _composed(source, split, seed, data_dir):
    name, bounds = datasets._parse_split(split)
    if name not in SIZES:
        raise ValueError(f"{source} has splits {sorted(SIZES)} (slice train for a validation "
                         f"split, e.g. 'train[90%:]'); got {split!r}.")
    digit_source(source)  # a clear error before reading anything
    images, layout, levels = _compose(source, name, seed, data_dir)
    part = datasets._slice(bounds, len(images))
    layout = dataclasses.replace(layout, **{
        field: getattr(layout, field)[part]
        for field in ("digits", "cells", "digit_indices", "held_out", "captions")})
    return images[part], layout, levels


def read(source, split="train", *, seed=0, data_dir=None):
    """The `tfar.data.Split` of a captioned_digits source (see the module docstring):
    images [N, 2h, 2w, C] in memory with their captions [N] str; no class labels.

    Args:
      source: "captioned_digits" or "captioned_digits:<digit source>".
      split: "train" or "test", optionally sliced ("train[:90%]", "test[:100]").
      seed: the composition's seed (`config.data.compose_seed`): the same seed gives the
        same images and captions in every process.
      data_dir: the digit source's tfds data directory.
    """
    images, layout, levels = _composed(source, split, seed, data_dir)
    return datasets.Split(source, split, len(images), levels, images.shape[1:],
                          has_labels=False, images=images,
                          labels=np.zeros(len(images), np.int64), has_captions=True,
                          captions=layout.captions)


def layouts(source, split="test", *, seed=0, data_dir=None):
    """The `Layout` of a captioned_digits split: per image, its digits, their cells and
    whether it shows a HELD_OUT combination, aligned with the images `read(source,
    split, seed=seed)` gives (and `tfar.data.load(..., compose_seed=seed)`, the test
    batches of `tfar.training.input_pipeline`)."""
    return _composed(source, split, seed, data_dir)[1]
