"""Natural colour photographs, offline: patches of the photographs scikit-image ships.

Sources (`tfar.data.read`, `tfar.data.load`):
  "photos:<size>"   <size>×<size>×3 patches, 8-bit RGB (256 levels), e.g. photos:16 and
                    photos:32, cut from the colour photographs bundled with scikit-image
                    (`skimage.data`; no download).

A patch is a tile of a photograph's grid of non-overlapping size×size squares (rows and
columns from the top left, a last partial row or column left out), taken at the
photograph's own resolution and at half of it (2×2 block means, rounded), so that a
patch holds fine texture or a larger part of the scene. Splits are by photograph, so no
test patch shares a scene with a training one:

  "train"  astronaut, chelsea, motorcycle_left, motorcycle_right, ihc (immunohistochemistry)
  "test"   coffee, rocket

in that order, each photograph's patches row by row, full resolution before half. The
patches are a fixed function of the scikit-image files (`PHOTOS`); slices apply as to any
split ("train[:90%]"). They are what natural-image models (PixelCNN++, a Gated PixelCNN
with the discretized logistic mixture) can be compared on without a download; CIFAR-10
(tfds:cifar10) is the benchmark of the papers.
"""

import os

import numpy as np

PREFIX = "photos:"
PHOTOS = {"train": ("astronaut.png", "chelsea.png", "motorcycle_left.png",
                    "motorcycle_right.png", "ihc.png"),
          "test": ("coffee.png", "rocket.jpg")}
"""The scikit-image photographs of each split (files of `skimage.data`'s folder)."""


def _photograph(name):
    """A bundled photograph as uint8 [H, W, 3] (read with Pillow)."""
    from PIL import Image
    from skimage import data
    with Image.open(os.path.join(os.path.dirname(data.__file__), name)) as image:
        return np.asarray(image.convert("RGB"), np.uint8)


def _half(image):
    """The image at half resolution: 2×2 block means, rounded, [H // 2, W // 2, 3]."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    blocks = image[:h, :w].astype(np.float64).reshape(h // 2, 2, w // 2, 2, 3)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


def _tiles(image, size):
    """The image's non-overlapping size×size tiles, row by row: [n, size, size, 3]."""
    rows, cols = image.shape[0] // size, image.shape[1] // size
    tiles = image[:rows * size, :cols * size].reshape(rows, size, cols, size, 3)
    return tiles.transpose(0, 2, 1, 3, 4).reshape(rows * cols, size, size, 3)


def patch_size(source):
    """The size of a "photos:<size>" source, checked (a ValueError otherwise)."""
    text = source[len(PREFIX):]
    if not text.isdigit() or not 2 <= int(text) <= 128:
        raise ValueError(f"{source!r}: the patch size must be an integer in [2, 128], e.g. "
                         "photos:16 or photos:32.")
    return int(text)


def read(source, name):
    """The patches [N, size, size, 3] uint8 of split `name` ("train" or "test", unsliced)
    of `source` ("photos:<size>")."""
    size = patch_size(source)
    if name not in PHOTOS:
        raise ValueError(f"{source} has splits {sorted(PHOTOS)}; got {name!r}.")
    try:
        import skimage  # noqa: F401
    except ImportError as error:
        raise ImportError(f"{source} cuts its patches from scikit-image's photographs; "
                          "pip install scikit-image.") from error
    patches = []
    for photo in PHOTOS[name]:
        image = _photograph(photo)
        patches += [_tiles(image, size), _tiles(_half(image), size)]
    return np.concatenate(patches)
