"""Test-split likelihood and sample grids.

NLL is reported in nats per image and in bits per dimension, nats / (D · ln 2), averaged
over the whole split (DESIGN.md, Conventions).
"""

import math

import numpy as np
import tensorflow as tf
from PIL import Image


def evaluate(distribution, batches, conditional_fn=None):
    """Mean test NLL over every image of `batches`.

    Args:
      distribution: a tfar distribution.
      batches: a dataset of (images [B, H, W, C], labels [B]).
      conditional_fn: labels -> conditional_input, for conditional models.

    Returns:
      {"nll_nats": float, "bits_per_dim": float, "num_images": int}.
    """
    @tf.function
    def batch_nll(images, labels):
        kwargs = {"conditional_input": conditional_fn(labels)} if conditional_fn else {}
        return -tf.reduce_sum(tf.cast(distribution.log_prob(images, **kwargs), tf.float64))

    total, count = 0.0, 0
    for images, labels in batches:
        total += float(batch_nll(images, labels))
        count += int(images.shape[0])
    if count == 0:
        raise ValueError("The test split is empty.")
    nats = total / count
    num_dims = int(np.prod(distribution.event_shape))
    return {"nll_nats": nats, "bits_per_dim": nats / (num_dims * math.log(2)),
            "num_images": count}


def image_grid(images, num_values, columns=8, min_size=64):
    """Tiles images [N, H, W, C] of values in [0, num_values) into one uint8 picture.

    Each image is scaled up (nearest neighbour) to at least `min_size` pixels a side so
    8×8 digits are visible; a gray border of b pixels separates them.

    Returns:
      uint8 [rows · (h+b) + b, columns · (w+b) + b, C].
    """
    images = np.asarray(images, dtype=np.float64)
    n, height, width, channels = images.shape
    scale = max(1, -(-min_size // max(height, width)))
    pixels = np.round(images * 255.0 / max(num_values - 1, 1)).astype(np.uint8)
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    h, w, b = height * scale, width * scale, max(1, scale // 4)
    columns = min(columns, n)
    rows = -(-n // columns)
    grid = np.full((rows * (h + b) + b, columns * (w + b) + b, channels), 128, np.uint8)
    for i in range(n):
        top, left = b + (i // columns) * (h + b), b + (i % columns) * (w + b)
        grid[top:top + h, left:left + w] = pixels[i]
    return grid


def write_png(grid, path):
    """Writes a uint8 [H, W, 1|3] picture as PNG."""
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)
