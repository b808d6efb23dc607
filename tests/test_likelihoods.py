"""Per-dimension heads: normalized log-probs and matching samples."""

import numpy as np
import pytest
import scipy.special
import scipy.stats
import tensorflow as tf
import tensorflow_probability as tfp

from tfar import likelihoods


@pytest.mark.parametrize("head", [likelihoods.Bernoulli(), likelihoods.Categorical(2),
                                  likelihoods.Categorical(5)])
def test_normalized_and_sampled(head):
    params = tf.random.stateless_normal([3, head.params_size], seed=(1, 2)) * 2
    values = tf.range(head.num_values, dtype=tf.float32)
    log_probs = head.log_prob(params[:, None, :], values[None, :])          # [3, K]
    np.testing.assert_allclose(tf.reduce_logsumexp(log_probs, -1).numpy(), 0.0, atol=1e-6)
    draws = head.sample(tf.tile(params[:1], [20000, 1]), seed=(3, 4)).numpy().astype(int)
    counts = np.bincount(draws, minlength=head.num_values)
    expected = np.exp(log_probs[0].numpy().astype(np.float64)) * 20000
    assert scipy.stats.chisquare(counts, expected / expected.sum() * 20000).pvalue > 1e-3


def test_get_rejects_what_heads_cannot_model():
    with pytest.raises(ValueError, match="Bernoulli head models num_values=2"):
        likelihoods.get("bernoulli", 4)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        likelihoods.get("poisson", 4)
    with pytest.raises(ValueError, match="gaussian head models real values; num_values "
                                         "must be None, got num_values=4"):
        likelihoods.get("gaussian", 4)
    assert likelihoods.get(None, 2).name == "bernoulli"
    assert likelihoods.get(None, 3).name == "categorical"


def test_bernoulli_gradients_finite_at_extreme_logits():
    logits = tf.constant([[-200.0], [200.0]])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        lp = likelihoods.Bernoulli().log_prob(logits, tf.constant([1.0, 0.0]))
    assert np.all(np.isfinite(tape.gradient(lp, logits).numpy()))
    np.testing.assert_allclose(lp.numpy(), [-200.0, -200.0])


# --- DiscretizedLogisticMixture (PixelCNN++) ----------------------------------------------

def _all_values(num_values, num_channels):
    """Every pixel value configuration, [V^C, C] float32, R varying slowest."""
    grids = np.meshgrid(*[np.arange(num_values)] * num_channels, indexing="ij")
    return np.stack([g.ravel() for g in grids], -1).astype(np.float32)


def _mixture_params(head, seed, log_scale=None):
    """Random params [P]; log-scales set to `log_scale` everywhere when given."""
    params = np.asarray(tf.random.stateless_normal([head.params_size], seed=seed)) * 2.0
    if log_scale is not None:
        k, c = head.num_mixtures, head.num_channels
        params[k + c * k:k + 2 * c * k] = log_scale
    return params


@pytest.mark.parametrize("num_values,num_channels", [(4, 1), (4, 3), (256, 1), (2, 1)])
def test_logistic_mixture_normalized(num_values, num_channels):
    head = likelihoods.DiscretizedLogisticMixture(num_values, num_channels, num_mixtures=3)
    # Random log-scales, very wide ones (interior bins on the narrow-bin fallback when
    # V = 256), ones at the clamp boundary and below it.
    params = np.stack([_mixture_params(head, (seed, 7), log_scale)
                       for seed in range(3) for log_scale in (None, 4.0, 1.0, -7.0, -12.0)])
    values = _all_values(num_values, num_channels)
    log_probs = head.log_prob(params[:, None, :], values[None])              # [15, V^C]
    assert log_probs.shape == (len(params), num_values ** num_channels)
    np.testing.assert_allclose(tf.reduce_logsumexp(log_probs, -1).numpy(), 0.0, atol=1e-4)


@pytest.mark.parametrize("num_values,num_channels", [(256, 3), (256, 1), (2, 1)])
def test_logistic_mixture_finite_at_extremes(num_values, num_channels):
    head = likelihoods.DiscretizedLogisticMixture(num_values, num_channels, num_mixtures=2)
    k, c = head.num_mixtures, head.num_channels
    rows = []
    for mean in (-1e30, -1e6, -1.0, 0.0, 1.0, 1e6, 1e30):
        for log_scale in (-1e30, -50.0, -7.0, 0.0, 50.0, 80.0, 88.0, 95.0, 1e4, 1e30):
            for other in (-1e4, 0.0, 1e4):                     # logits and coupling coefficients
                row = np.full(head.params_size, other, np.float32)
                row[k:k + c * k] = mean
                row[k + c * k:k + 2 * c * k] = log_scale
                rows.append(row)
    params = tf.constant(np.repeat(np.stack(rows), 3, axis=0))
    edges = np.array([0, num_values - 1, num_values // 2], np.float32)
    x = tf.constant(np.tile(edges, len(rows))[:, None].repeat(c, -1))           # [N, C]
    with tf.GradientTape() as tape:
        tape.watch(params)
        log_probs = head.log_prob(params, x)
    grads = tape.gradient(log_probs, params)
    assert np.all(np.isfinite(log_probs.numpy())) and np.all(log_probs.numpy() <= 1e-6)
    assert np.all(np.isfinite(grads.numpy()))
    draws = head.sample(params, seed=tf.constant([5, 6])).numpy()
    assert draws.shape == (len(params), c)
    assert np.all(np.isfinite(draws)) and draws.min() >= 0 and draws.max() <= num_values - 1
    np.testing.assert_array_equal(draws, np.round(draws))


def test_logistic_mixture_samples_match_log_prob():
    head = likelihoods.DiscretizedLogisticMixture(4, num_channels=3, num_mixtures=3)
    # Fixed random params, means and scales moderate so that every one of the 64 cells
    # expects at least 5 draws (checked below).
    z = tf.random.stateless_normal([head.params_size], seed=(11, 12)).numpy()
    scale = np.repeat([1.0, 0.5, 0.3, 1.0], [3, 9, 9, 9])       # logits, m, ℓ, coefficients
    shift = np.repeat([0.0, 0.0, -0.5, 0.0], [3, 9, 9, 9])
    params = tf.constant((z * scale + shift).astype(np.float32))
    n = 20000
    draws = head.sample(tf.tile(params[None], [n, 1]), seed=tf.constant([3, 4])).numpy()
    assert draws.shape == (n, 3)
    cells = (draws[:, 0] * 16 + draws[:, 1] * 4 + draws[:, 2]).astype(int)
    counts = np.bincount(cells, minlength=64)
    probs = np.exp(head.log_prob(params, _all_values(4, 3)).numpy().astype(np.float64))
    expected = probs / probs.sum() * n
    assert expected.min() > 5, expected.min()
    assert scipy.stats.chisquare(counts, expected).pvalue > 1e-3

    again = head.sample(tf.tile(params[None], [n, 1]), seed=tf.constant([3, 4])).numpy()
    np.testing.assert_array_equal(draws, again)
    traced = tf.function(head.sample)(tf.tile(params[None], [n, 1]), tf.constant([3, 4]))
    np.testing.assert_array_equal(draws, traced.numpy())
    other = head.sample(tf.tile(params[None], [n, 1]), seed=tf.constant([3, 5])).numpy()
    assert np.mean(np.any(draws != other, axis=-1)) > 0.5


def test_logistic_mixture_green_mean_moves_with_red_by_alpha():
    # One component; β = γ = 0, so p(g | r) ∝ p(r, g, b) for any fixed b.
    head = likelihoods.DiscretizedLogisticMixture(256, num_channels=3, num_mixtures=1)
    mean_g, alpha_raw = 0.1, 0.7
    params = np.zeros(head.params_size, np.float32)          # [π | m R G B | ℓ R G B | a b c]
    params[1:4] = [0.3, mean_g, -0.2]
    params[4:7] = -4.0                                        # s ≈ 0.018, bins h ≈ 0.0039
    params[7] = alpha_raw
    g = np.arange(256, dtype=np.float32)
    y_g = 2.0 * g / 255 - 1.0
    for r in (0, 64, 200, 255):
        x = np.stack([np.full(256, r), g, np.full(256, 128)], -1).astype(np.float32)
        p_g = tf.nn.softmax(head.log_prob(params, x)).numpy().astype(np.float64)
        expected = mean_g + np.tanh(alpha_raw) * (2.0 * r / 255 - 1.0)
        np.testing.assert_allclose(np.sum(p_g * y_g), expected, atol=1e-4)


def _logistic_bin_log_prob(x, mean, log_scale, num_values):
    """log P(bin x) of one discretized logistic, by hand from the CDF in extended precision
    (far tails reach e^-3000); the CDF of the mirrored bin above the mean, so the
    difference never cancels."""
    one = np.longdouble(1)
    h = one / (num_values - 1)
    y = 2 * one * x / (num_values - 1) - 1
    s = np.exp(np.longdouble(max(log_scale, -7.0)))
    cdf = lambda t: one / (1 + np.exp(-(t - np.longdouble(mean)) / s))
    upper = one if x == num_values - 1 else cdf(y + h)
    lower = 0 * one if x == 0 else cdf(y - h)
    if y > mean:                                    # the same bin mirrored about the mean
        upper = one if x == 0 else cdf(2 * np.longdouble(mean) - y + h)
        lower = 0 * one if x == num_values - 1 else cdf(2 * np.longdouble(mean) - y - h)
    return float(np.log(upper - lower))


@pytest.mark.parametrize("log_scale_offset", [0.0, -6.0, 3.5])
def test_logistic_mixture_rgb_log_prob_is_the_formula(log_scale_offset):
    head = likelihoods.DiscretizedLogisticMixture(16, num_channels=3, num_mixtures=1)
    params = _mixture_params(head, (21, 22)) * 0.5
    params[4:7] += log_scale_offset                          # also the clamp, the fallback
    _, m_r, m_g, m_b, l_r, l_g, l_b, a, b, c = params.astype(np.float64)
    alpha, beta, gamma = np.tanh([a, b, c])
    values = np.array([[0, 0, 0], [15, 15, 15], [3, 9, 12], [0, 7, 15], [8, 8, 8], [15, 0, 4]],
                      np.float32)
    rescale = lambda v: 2.0 * v / 15 - 1.0
    expected = [_logistic_bin_log_prob(r, m_r, l_r, 16)
                + _logistic_bin_log_prob(g, m_g + alpha * rescale(r), l_g, 16)
                + _logistic_bin_log_prob(bl, m_b + beta * rescale(r) + gamma * rescale(g), l_b, 16)
                for r, g, bl in values]
    np.testing.assert_allclose(head.log_prob(params, values).numpy(), expected,
                               rtol=1e-5, atol=1e-5)


def test_values_per_unit_params_size_and_get():
    assert likelihoods.Bernoulli().values_per_unit == 1
    assert likelihoods.Categorical(256).values_per_unit == 1
    rgb = likelihoods.get("logistic_mixture", 256, num_channels=3, num_mixtures=5)
    assert (rgb.name, rgb.values_per_unit, rgb.params_size) == ("logistic_mixture", 3, 50)
    gray = likelihoods.get("logistic_mixture", 256)
    assert (gray.values_per_unit, gray.params_size, gray.num_mixtures) == (1, 15, 5)
    assert likelihoods.DiscretizedLogisticMixture(8, 2, 4).params_size == 4 * (1 + 2 * 2)
    assert likelihoods.get("categorical", 5).values_per_unit == 1
    with pytest.raises(ValueError, match="num_values must be >= 2"):
        likelihoods.get("logistic_mixture", 1)
    with pytest.raises(ValueError, match="num_values >= 2"):
        likelihoods.DiscretizedLogisticMixture(1)
    with pytest.raises(ValueError, match="num_channels must be >= 1"):
        likelihoods.get("logistic_mixture", 256, num_channels=0)
    with pytest.raises(ValueError, match="num_mixtures must be >= 1"):
        likelihoods.get("logistic_mixture", 256, num_mixtures=0)
    with pytest.raises(ValueError, match="takes no options"):
        likelihoods.get("categorical", 256, num_channels=3)
    assert likelihoods.get(rgb, 256, num_channels=3) is rgb
    with pytest.raises(ValueError, match="num_channels=3, not 1"):
        likelihoods.get(rgb, 256, num_channels=1)


# ------------------------------------------------------------------ continuous heads

def mixture_reference(params, x, k):
    """log Σ_k π_k N(x; μ_k, σ_k) in float64 with scipy (σ = softplus(s) + 1e-3)."""
    params = np.asarray(params, np.float64)
    logits, means, s = params[..., :k], params[..., k:2 * k], params[..., 2 * k:]
    log_weights = logits - scipy.special.logsumexp(logits, axis=-1, keepdims=True)
    scales = np.logaddexp(0.0, s) + 1e-3
    return scipy.special.logsumexp(
        log_weights + scipy.stats.norm.logpdf(np.asarray(x)[..., None], means, scales), axis=-1)


def test_mixture_of_gaussians_log_prob_sample_and_support():
    head = likelihoods.get("mixture_of_gaussians", None, num_mixtures=3)
    assert (head.params_size, head.num_values, head.support.integer) == (9, None, False)
    assert (head.values_per_unit, head.pixel_head) == (1, False)
    params = np.random.default_rng(0).normal(size=(4, 9)).astype(np.float32)
    x = np.array([-1.0, 0.0, 0.5, 3.0], np.float32)
    np.testing.assert_allclose(head.log_prob(params, x).numpy(), mixture_reference(params, x, 3),
                               rtol=1e-5, atol=1e-5)
    # a density: ∫ p = 1 by the trapezoid rule on [−30, 30] (spacing 0.001)
    grid = np.linspace(-30, 30, 60001, dtype=np.float32)
    density = np.exp(head.log_prob(params[:1], grid).numpy().astype(np.float64))
    assert abs(np.trapezoid(density, grid.astype(np.float64)) - 1.0) < 1e-6
    draws = head.sample(np.tile(params[:1], [40000, 1]), seed=(3, 4)).numpy()
    mean = np.trapezoid(grid * density, grid)
    var = np.trapezoid(grid ** 2 * density, grid) - mean ** 2
    assert abs(draws.mean() - mean) < 5 * np.sqrt(var / draws.size)
    assert scipy.stats.kstest(draws, lambda t: np.interp(
        t, grid, np.cumsum(density) * (grid[1] - grid[0]))).pvalue > 1e-3


def test_gaussian_is_tfp_normal():
    head = likelihoods.Gaussian()
    assert (head.params_size, head.name) == (2, "gaussian")
    params = np.array([[0.3, -0.2], [-2.0, 3.0]], np.float32)
    x = np.array([1.0, -1.5], np.float32)
    scale = np.log1p(np.exp(params[:, 1])) + 1e-3
    expected = tfp.distributions.Normal(params[:, 0], scale).log_prob(x)
    np.testing.assert_allclose(head.log_prob(params, x).numpy(), expected, rtol=1e-6)
    draws = head.sample(np.tile(params[:1], [20000, 1]), seed=(1, 2)).numpy()
    assert abs(draws.mean() - 0.3) < 5 * scale[0] / np.sqrt(20000)


@pytest.mark.parametrize("head", [likelihoods.MixtureOfGaussians(2), likelihoods.Gaussian()],
                         ids=["mixture", "gaussian"])
def test_scales_never_reach_zero_and_stay_finite(head):
    """σ = softplus(s) + min_scale >= min_scale for every float32 s, and log p and its
    gradients are finite at collapsed scales, huge scales and far tails."""
    s = tf.constant([-3e38, -1e30, -1e4, -100.0, 0.0, 100.0, 1e30, 3e38])
    scales = head.scale(s).numpy()
    assert np.all(scales >= head.min_scale) and np.all(np.isfinite(scales))
    k = head.num_mixtures
    rows = []
    for value in (-1e30, -1e4, 0.0, 1e4, 1e30):
        logits = [0.0] * k if head.name != "gaussian" else []
        rows.append(logits + [0.5] * k + [value] * k)
    params = tf.constant(np.repeat(rows, 4, axis=0), tf.float32)
    x = tf.constant(np.tile([0.5, 0.5 + 1e-3, 1e6, -3e38], len(rows)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(params)
        log_prob = head.log_prob(params, x)
    assert np.all(np.isfinite(log_prob.numpy())), log_prob.numpy()
    assert np.all(np.isfinite(tape.gradient(log_prob, params).numpy()))
    # collapsed at x = μ: the floor's density, 1/(min_scale·√(2π))
    np.testing.assert_allclose(log_prob[0].numpy(),
                               -np.log(head.min_scale * np.sqrt(2 * np.pi)), rtol=1e-6)


def test_supports_say_what_heads_accept():
    assert likelihoods.get(None, 3).support.describe() == "integers in [0, 3)"
    assert likelihoods.Gaussian().support.describe() == "finite floats"
    assert tf.uint8 not in likelihoods.get(None, 300).support.exact_dtypes
    assert likelihoods.Gaussian().support.exact_dtypes == (tf.float32,)
    with pytest.raises(ValueError, match="min_scale must be > 0"):
        likelihoods.MixtureOfGaussians(2, min_scale=0.0)
