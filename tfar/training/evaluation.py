"""Test-split figures and sample grids.

A model's evaluation metric (its NLL, or the figure it names: PixelVAE's importance-
weighted bound, the auto-encoder's reconstruction NLL) is reported in nats per image and
in bits per dimension, nats / (D · ln 2), averaged over the whole split (DESIGN.md,
Conventions).

Real values (a tabular source, images dequantized; num_values None): a density's value
has no bits/dim of its own, so the figure is the test log-likelihood in nats per
example, log p(x) averaged over the split, with its standard error (RNADE's and MAF's
tables report it so). For images dequantized to y = (k + u) / L, the change-of-variables
term D · log L turns it into an upper bound on the integer images' NLL in bits/dim,
(D · log L - log-likelihood) / (D · ln 2) (`tfar.data` says why it bounds it).

Sample quality, for every model that samples on its own (and the figure of a model
without a likelihood, a GMMN): the squared MMD (`tfar.metrics`) between the samples
drawn after training and as many test examples, both as intensities in [0, 1]
(`sample_quality`; `config.eval.mmd_samples` of each).
"""

import math

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from tfar import metrics


def evaluate(distribution, batches, conditional=False, seed=0):
    """The mean of the model's evaluation metric over every image of `batches`.

    What is averaged is `distribution.evaluation_log_prob` (negated): log p(x) for a
    likelihood model, so the metric is its NLL; a model whose figure is something else
    (a bound, a reconstruction term) names it in `distribution.evaluation_metric`.

    Args:
      distribution: a tfar distribution.
      batches: a dataset of (images [B, H, W, C], labels [B]) (or rows [B, D]).
      conditional: whether the labels (class labels, captions) are the model's
        `conditional_input`.
      seed: int, the stateless seed of a stochastic estimate (every batch gets the same
        seed: an image's estimate depends on it and its seed only, not on its batch).

    Returns:
      {"metric": name, "nats": float, "standard_error_nats": float, "bits_per_dim":
      float, "num_images": int, "num_dims": int}: nats per image (the mean of the metric),
      the standard error of that mean (the examples' standard deviation / √N), and
      nats / (D · ln 2).
    """
    seed = tf.constant([int(seed), 0], tf.int32)

    @tf.function
    def batch_terms(images, labels):
        kwargs = {"conditional_input": labels} if conditional else {}
        nats = -tf.cast(distribution.evaluation_log_prob(images, seed=seed, **kwargs),
                        tf.float64)
        return tf.reduce_sum(nats), tf.reduce_sum(tf.square(nats))

    total, squares, count = 0.0, 0.0, 0
    for images, labels in batches:
        batch_total, batch_squares = batch_terms(images, labels)
        total, squares = total + float(batch_total), squares + float(batch_squares)
        count += int(images.shape[0])
    if count == 0:
        raise ValueError("The test split is empty.")
    nats = total / count
    variance = max(squares / count - nats ** 2, 0.0) * count / max(count - 1, 1)
    num_dims = int(np.prod(distribution.event_shape))
    return {"metric": distribution.evaluation_metric, "nats": nats,
            "standard_error_nats": math.sqrt(variance / count),
            "bits_per_dim": nats / (num_dims * math.log(2)), "num_images": count,
            "num_dims": num_dims}


def metric_keys(metric):
    """The metrics.json keys of an evaluation metric's nats and bits/dim: "test_nll_nats"
    and "test_bits_per_dim" for the NLL, "test_<metric>_nats" and
    "test_<metric>_bits_per_dim" for any other figure."""
    if metric == "nll":
        return "test_nll_nats", "test_bits_per_dim"
    return f"test_{metric}_nats", f"test_{metric}_bits_per_dim"


def report(metrics, real_valued=False, dequantized_levels=None):
    """The figures `evaluate`'s `metrics` give, as metrics.json reports them, and a line
    saying them.

    Integer data: {"test_nll_nats", "test_bits_per_dim"} (a model's own figure:
    `metric_keys`). Real values (`real_valued`): {"test_log_likelihood_nats",
    "test_log_likelihood_standard_error"}, nats per example; with `dequantized_levels` L
    (images dequantized to (k + u) / L) also "change_of_variables_nats" (D · log L) and
    "test_nll_upper_bound_bits_per_dim" of the integer images (see the module docstring).

    Returns:
      (figures: {key: float}, line: str).
    """
    if not real_valued:
        nats_key, bits_key = metric_keys(metrics["metric"])
        name = "NLL" if metrics["metric"] == "nll" else metrics["metric"]
        return ({nats_key: metrics["nats"], bits_key: metrics["bits_per_dim"]},
                f"test {name} {metrics['nats']:.3f} nats/image, "
                f"{metrics['bits_per_dim']:.4f} bits/dim")
    if metrics["metric"] != "nll":
        raise ValueError(f"A real-valued model reports its log-likelihood; its metric is "
                         f"{metrics['metric']!r}.")
    log_likelihood, error = -metrics["nats"], metrics["standard_error_nats"]
    figures = {"test_log_likelihood_nats": log_likelihood,
               "test_log_likelihood_standard_error": error}
    line = f"test log-likelihood {log_likelihood:.3f} ± {error:.3f} nats/example"
    if dequantized_levels:
        num_dims = metrics["num_dims"]
        change = num_dims * math.log(dequantized_levels)
        bound = (change - log_likelihood) / (num_dims * math.log(2))
        figures.update(change_of_variables_nats=change, test_nll_upper_bound_bits_per_dim=bound)
        line += f" (dequantized: NLL <= {bound:.4f} bits/dim of the {dequantized_levels}-level images)"
    return figures, line


def intensities(values, num_values):
    """Values as intensities in [0, 1]: integers in [0, num_values) divided by
    num_values - 1; real values (num_values None: a GMMN's intensities, images
    dequantized to [0, 1), standardized rows) as they are. float64 [N, ...]."""
    values = np.asarray(values, dtype=np.float64)
    return values / (num_values - 1) if num_values else values


def pixels(samples, num_values):
    """(images, levels) for `image_grid`: integer samples as they are; real ones
    (intensities in [0, 1]) as 256 levels."""
    if num_values:
        return samples, num_values
    return np.clip(np.round(np.asarray(samples) * 255.0), 0, 255), 256


def sample_quality(samples, sample_num_values, batches, data_num_values):
    """The squared MMD (`tfar.metrics.mmd2`, unbiased, its default bandwidths) between
    samples [n, ...] and the first n examples of `batches` (the test split in its stored
    order; fewer if it holds fewer), both as `intensities`.

    Returns:
      ({"test_mmd2": float, "mmd_samples": n}, a line saying it).
    """
    count, rows = len(samples), []
    for images, _ in batches:
        rows.append(images.numpy())
        if sum(len(r) for r in rows) >= count:
            break
    test = np.concatenate(rows)[:count]
    n = min(count, len(test))
    value = metrics.mmd2(intensities(samples[:n], sample_num_values),
                         intensities(test, data_num_values))
    return ({"test_mmd2": value, "mmd_samples": n},
            f"test MMD² {value:.5f} ({n} samples against {n} test examples)")


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
