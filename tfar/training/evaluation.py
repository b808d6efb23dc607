"""Test-split figures and sample grids.

A model's evaluation metric (its NLL, or the figure it names: PixelVAE's importance-
weighted bound, the auto-encoder's reconstruction NLL) is reported in nats per image and
in bits per dimension, nats / (D · ln 2), averaged over the whole split (DESIGN.md,
Conventions).
"""

import math

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw


def evaluate(distribution, batches, conditional=False, seed=0):
    """The mean of the model's evaluation metric over every image of `batches`.

    What is averaged is `distribution.evaluation_log_prob` (negated): log p(x) for a
    likelihood model, so the metric is its NLL; a model whose figure is something else
    (a bound, a reconstruction term) names it in `distribution.evaluation_metric`.

    Args:
      distribution: a tfar distribution.
      batches: a dataset of (images [B, H, W, C], labels [B]).
      conditional: whether the labels (class labels, captions) are the model's
        `conditional_input`.
      seed: int, the stateless seed of a stochastic estimate (every batch gets the same
        seed: an image's estimate depends on it and its seed only, not on its batch).

    Returns:
      {"metric": name, "nats": float, "bits_per_dim": float, "num_images": int}: nats
      per image and nats / (D · ln 2).
    """
    seed = tf.constant([int(seed), 0], tf.int32)

    @tf.function
    def batch_total(images, labels):
        kwargs = {"conditional_input": labels} if conditional else {}
        log_probs = distribution.evaluation_log_prob(images, seed=seed, **kwargs)
        return -tf.reduce_sum(tf.cast(log_probs, tf.float64))

    total, count = 0.0, 0
    for images, labels in batches:
        total += float(batch_total(images, labels))
        count += int(images.shape[0])
    if count == 0:
        raise ValueError("The test split is empty.")
    nats = total / count
    num_dims = int(np.prod(distribution.event_shape))
    return {"metric": distribution.evaluation_metric, "nats": nats,
            "bits_per_dim": nats / (num_dims * math.log(2)), "num_images": count}


def metric_keys(metric):
    """The metrics.json keys of an evaluation metric's nats and bits/dim: "test_nll_nats"
    and "test_bits_per_dim" for the NLL, "test_<metric>_nats" and
    "test_<metric>_bits_per_dim" for any other figure."""
    if metric == "nll":
        return "test_nll_nats", "test_bits_per_dim"
    return f"test_{metric}_nats", f"test_{metric}_bits_per_dim"


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


def captioned_grid(images, captions, num_values, columns, min_size=64, strip=14):
    """`image_grid` of images [rows · columns, H, W, C] with caption r written in a strip of
    `strip` pixels above row r (white on black, PIL's default font): uint8 [H', W', C]."""
    grid = image_grid(images, num_values, columns=columns, min_size=min_size)
    rows, width = len(captions), grid.shape[1]
    cell = (grid.shape[0] - 1) // rows            # a row of images with its top border
    out = np.zeros((grid.shape[0] + rows * strip, width, grid.shape[2]), np.uint8)
    for r, caption in enumerate(captions):
        text = Image.new("L", (width, strip), 0)
        ImageDraw.Draw(text).text((2, 1), caption, fill=255)
        top = r * (cell + strip)
        out[top:top + strip] = np.asarray(text)[..., None]
        out[top + strip:top + strip + cell + 1] = grid[r * cell:(r + 1) * cell + 1]
    return out


def write_png(grid, path):
    """Writes a uint8 [H, W, 1|3] picture as PNG to `path` (any `tf.io.gfile` path)."""
    with tf.io.gfile.GFile(path, "wb") as f:
        Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(f, format="PNG")
