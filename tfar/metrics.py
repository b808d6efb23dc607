"""Kernel maximum mean discrepancy: how far two sample sets are from one distribution.

Gretton, Borgwardt, Rasch, Schölkopf & Smola, "A Kernel Two-Sample Test", JMLR 2012
(§2, Lemma 6 and eq. 3–5); the loss of generative moment-matching networks (Li, Swersky
& Zemel 2015; Dziugaite, Roy & Ghahramani 2015; Deep Learning §20.10.5). For samples
x_1…x_N ~ P and y_1…y_M ~ Q (each flattened to a vector) and a kernel k,

    MMD²(P, Q) = E k(x, x') + E k(y, y') − 2 E k(x, y),

zero iff P = Q for a characteristic kernel. Here k(a, b) = Σ_σ exp(−‖a − b‖² / (2σ²)),
a sum of Gaussian kernels of the given bandwidths (GMMN's choice: no single σ suits
every scale of difference). The unbiased estimate (a U-statistic) leaves out the pairs
i = j, so it can be negative when P = Q; the biased one (a V-statistic) keeps them and
is never negative.

`mmd2` computes the three kernel sums over blocks of rows, so its memory is
O(block_size² + block_size · D) whatever N and M: 10,000 × 784 against 10,000 × 784 runs
in blocks of 1,000 × 1,000. `mmd2_permutation_test` gives a p-value for P = Q by
reassigning the pooled samples to the two sides at random (Gretton et al. §5); it holds
the pooled kernel matrix, (N + M)² floats.
"""

import numpy as np
import tensorflow as tf

__all__ = ["BANDWIDTHS", "check_bandwidths", "kernel", "mmd2", "mmd2_graph",
           "mmd2_permutation_test"]

BANDWIDTHS = (2.0, 5.0, 10.0, 20.0, 40.0, 80.0)
"""The default σ of the summed Gaussian kernels: GMMN's (Li et al. 2015, §4), for images
of intensities in [0, 1]."""
MAX_PERMUTATION_SAMPLES = 10_000  # pooled samples: the (N+M)² matrix takes 800 MB at this


def _flat(samples, name):
    """samples [N, ...] as float64 [N, D]."""
    t = tf.convert_to_tensor(samples)
    if t.shape.rank is None or t.shape.rank < 1:
        raise ValueError(f"{name} must be samples [N, ...]; got shape {t.shape}.")
    t = tf.reshape(tf.cast(t, tf.float64), [tf.shape(t)[0], -1])
    if not bool(tf.reduce_all(tf.math.is_finite(t))):
        raise ValueError(f"{name} holds NaN or Inf values.")
    return t


def check_bandwidths(bandwidths):
    """`bandwidths` as a tuple of positive floats, or a ValueError."""
    bandwidths = tuple(float(b) for b in np.atleast_1d(bandwidths))
    if not bandwidths or min(bandwidths) <= 0:
        raise ValueError(f"bandwidths must be positive; got {bandwidths}.")
    return bandwidths


def kernel(a, b, bandwidths=BANDWIDTHS):
    """k(a_i, b_j) = Σ_σ exp(−‖a_i − b_j‖² / (2σ²)) of rows a [n, D], b [m, D]: [n, m]."""
    bandwidths = tf.constant(check_bandwidths(bandwidths), a.dtype)
    squared = (tf.reduce_sum(tf.square(a), 1)[:, None] + tf.reduce_sum(tf.square(b), 1)[None]
               - 2.0 * tf.matmul(a, b, transpose_b=True))
    squared = tf.maximum(squared, 0.0)  # rounding can make ‖a − a‖² slightly negative
    return tf.reduce_sum(tf.exp(-squared[..., None] / (2.0 * tf.square(bandwidths))), -1)


def _kernel_sum(a, b, bandwidths, block_size, same):
    """Σ_ij k(a_i, b_j) over blocks; `same` (a is b): the diagonal k(a_i, a_i) left out
    (each block pair (p, q) and (q, p) computed once)."""
    total = tf.constant(0.0, tf.float64)
    n, m = int(a.shape[0]), int(b.shape[0])
    for p in range(0, n, block_size):
        for q in range(p if same else 0, m, block_size):
            block = kernel(a[p:p + block_size], b[q:q + block_size], bandwidths)
            if same and p == q:
                block = tf.linalg.set_diag(block, tf.zeros(tf.shape(block)[0], tf.float64))
                total += tf.reduce_sum(block)
            else:
                total += (2.0 if same else 1.0) * tf.reduce_sum(block)
    return total


def mmd2(x, y, bandwidths=BANDWIDTHS, unbiased=True, block_size=1000):
    """The squared MMD between samples x [N, ...] and y [M, ...] (flattened to vectors).

    Args:
      x, y: sample sets, any float or integer dtype, the same number of values per
        example; N, M >= 2 for the unbiased estimate.
      bandwidths: the σ of the summed Gaussian kernels (in the samples' units).
      unbiased: the U-statistic (pairs i ≠ j only) or, False, the V-statistic.
      block_size: rows per block of the kernel sums (memory ~ block_size² · len(bandwidths)).

    Returns:
      A float: MMD² in kernel units (each kernel term is at most len(bandwidths)).
    """
    x, y = _flat(x, "x"), _flat(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must hold examples of one size; got {x.shape[1]} and "
                         f"{y.shape[1]} values per example.")
    n, m = int(x.shape[0]), int(y.shape[0])
    if min(n, m) < (2 if unbiased else 1):
        raise ValueError(f"mmd2 needs at least {2 if unbiased else 1} samples on each side; "
                         f"got {n} and {m}.")
    bandwidths = check_bandwidths(bandwidths)
    diagonal = float(len(bandwidths))  # k(a, a)
    xx = _kernel_sum(x, x, bandwidths, block_size, same=True)
    yy = _kernel_sum(y, y, bandwidths, block_size, same=True)
    xy = _kernel_sum(x, y, bandwidths, block_size, same=False)
    if unbiased:
        value = xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2.0 * xy / (n * m)
    else:
        value = (xx + n * diagonal) / n**2 + (yy + m * diagonal) / m**2 - 2.0 * xy / (n * m)
    return float(value)


def mmd2_graph(a, b, bandwidths=BANDWIDTHS):
    """The unbiased MMD² of rows a [n, D] and b [m, D] (n, m >= 2) as a differentiable
    tensor, in one kernel block each: a training loss (`tfar.GMMN`) over a batch;
    `mmd2` is the blocked float64 estimate for evaluation."""
    n, m = tf.cast(tf.shape(a)[0], a.dtype), tf.cast(tf.shape(b)[0], a.dtype)
    diagonal = float(len(bandwidths))
    xx = tf.reduce_sum(kernel(a, a, bandwidths)) - n * diagonal
    yy = tf.reduce_sum(kernel(b, b, bandwidths)) - m * diagonal
    xy = tf.reduce_sum(kernel(a, b, bandwidths))
    return xx / (n * (n - 1.0)) + yy / (m * (m - 1.0)) - 2.0 * xy / (n * m)


def mmd2_permutation_test(x, y, bandwidths=BANDWIDTHS, num_permutations=500, seed=0,
                          unbiased=True):
    """(MMD² of x and y, the permutation p-value of P = Q).

    The statistic of each of `num_permutations` random reassignments of the pooled
    samples to sides of N and M is compared with the observed one: p = (1 + #{permuted
    >= observed}) / (1 + num_permutations) (Gretton et al. 2012, §5; exact under P = Q).
    Holds the pooled kernel matrix, so N + M is limited to MAX_PERMUTATION_SAMPLES.
    """
    x, y = _flat(x, "x"), _flat(y, "y")
    n, m = int(x.shape[0]), int(y.shape[0])
    if n + m > MAX_PERMUTATION_SAMPLES:
        raise ValueError(f"The permutation test holds the ({n} + {m})² kernel matrix; pass at "
                         f"most {MAX_PERMUTATION_SAMPLES} samples in all (subsample them).")
    if x.shape[1] != y.shape[1] or min(n, m) < 2:
        raise ValueError(f"x and y must hold at least 2 examples each, of one size; got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}.")
    pooled = tf.concat([x, y], 0)
    gram = kernel(pooled, pooled, bandwidths)
    diagonal = float(len(check_bandwidths(bandwidths)))
    order = np.random.default_rng(seed)
    sides = [np.arange(n + m)] + [order.permutation(n + m) for _ in range(num_permutations)]
    in_x = np.stack([side < n for side in sides], 1).astype(np.float64)  # [N+M, 1+P]
    a, b = tf.constant(in_x), tf.constant(1.0 - in_x)
    ka, kb = tf.matmul(gram, a), tf.matmul(gram, b)
    xx, yy, xy = (tf.reduce_sum(a * ka, 0), tf.reduce_sum(b * kb, 0),
                  tf.reduce_sum(a * kb, 0))
    if unbiased:
        stats = ((xx - n * diagonal) / (n * (n - 1)) + (yy - m * diagonal) / (m * (m - 1))
                 - 2.0 * xy / (n * m))
    else:
        stats = xx / n**2 + yy / m**2 - 2.0 * xy / (n * m)
    stats = stats.numpy()
    p_value = (1 + np.sum(stats[1:] >= stats[0])) / (1 + num_permutations)
    return float(stats[0]), float(p_value)
