"""tfar.metrics: squared MMD against a direct NumPy computation, and its power and level."""

import numpy as np
import pytest

from tfar import metrics


def _numpy_mmd2(x, y, bandwidths, unbiased):
    x, y = x.reshape(len(x), -1).astype(np.float64), y.reshape(len(y), -1).astype(np.float64)

    def k(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * s**2)) for s in bandwidths)

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    if unbiased:
        return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
                + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("block_size", [7, 1000])
def test_mmd2_equals_the_direct_computation(unbiased, block_size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(23, 3, 2)).astype(np.float32)
    y = rng.normal(0.3, 1.2, size=(17, 6))
    bandwidths = (0.5, 1.0, 3.0)
    expected = _numpy_mmd2(x, y, bandwidths, unbiased)
    got = metrics.mmd2(x, y, bandwidths, unbiased=unbiased, block_size=block_size)
    assert got == pytest.approx(expected, abs=1e-5, rel=1e-5)
    statistic, _ = metrics.mmd2_permutation_test(x, y, bandwidths, num_permutations=5,
                                                 unbiased=unbiased)
    assert statistic == pytest.approx(expected, abs=1e-5, rel=1e-5)


def test_one_distribution_gives_zero_and_a_small_shift_is_detected():
    rng = np.random.default_rng(1)
    same = metrics.mmd2_permutation_test(rng.normal(size=(2000, 2)),
                                         rng.normal(size=(2000, 2)), (0.5, 1.0, 2.0),
                                         num_permutations=200)
    assert abs(same[0]) < 2e-3 and same[1] > 0.01
    shifted = metrics.mmd2_permutation_test(rng.normal(size=(2000, 2)),
                                            rng.normal(0.1, 1.0, size=(2000, 2)),
                                            (0.5, 1.0, 2.0), num_permutations=200)
    assert shifted[1] < 0.01 and shifted[0] > same[0]
    assert metrics.mmd2(np.ones((5, 3)), np.ones((4, 3)), unbiased=False) == pytest.approx(0)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="one size"):
        metrics.mmd2(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.mmd2(np.zeros((1, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        metrics.mmd2(np.full((3, 4), np.nan), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="bandwidths must be positive"):
        metrics.mmd2(np.zeros((3, 4)), np.zeros((3, 4)), bandwidths=(1.0, 0.0))
    with pytest.raises(ValueError, match="subsample"):
        metrics.mmd2_permutation_test(np.zeros((6000, 1)), np.zeros((6000, 1)))
