"""Models of real values: RNADE and MADE with a mixture-of-Gaussians or Gaussian head.

DESIGN's correctness tests for densities (issue 22, acceptance 1 and 2): normalization on a
2-D event by quadrature (the trapezoid rule on a 1001² grid over [−10, 10]², spacing
0.02: |∫∫ p − 1| ≤ 1e-3), causality (exact zero gradients), samples against the model's
own marginals (moments against quadrature, a two-sample chi-square test against draws
from the quadrature grid), the cached RNADE sampler against the naive loop, finite
log-probs and gradients at extreme inputs, scales above their floor, and NaN/Inf
rejected naming the value, eagerly and in graphs.
"""

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

import keras

import checks
import tfar

CONDITION = np.array([1.0, -0.5], np.float32)

MODELS = {
    "RNADE": lambda e=(2,), **o: tfar.RNADE(event_shape=e, hidden_units=6, num_mixtures=3, **o),
    "RNADE-r2l-conditional": lambda e=(2,), **o: tfar.RNADE(
        event_shape=e, hidden_units=5, num_mixtures=2, ordering="right_to_left",
        conditional_shape=(2,), **o),
    "RNADE-order-agnostic-ensemble": lambda e=(2,), **o: tfar.RNADE(
        event_shape=e, hidden_units=5, num_mixtures=2, ordering="random", num_orderings=2,
        order_agnostic=True, seed=3, **o),
    "RNADE-gaussian": lambda e=(2,), **o: tfar.RNADE(event_shape=e, hidden_units=4,
                                             likelihood="gaussian", **o),
    "MADE-MoG": lambda e=(2,), **o: tfar.MADE(event_shape=e, hidden_units=(8, 8),
                                      likelihood="mixture_of_gaussians", num_mixtures=3,
                                      direct_connections=True, **o),
    "MADE-MoG-ensemble-conditional": lambda e=(2,), **o: tfar.MADE(
        event_shape=e, hidden_units=(8,), likelihood="mixture_of_gaussians", num_mixtures=2,
        ordering="random", num_masks=2, seed=1, conditional_shape=(2,), **o),
    "MADE-gaussian": lambda e=(2,), **o: tfar.MADE(event_shape=e, hidden_units=(6,),
                                           likelihood="gaussian", **o),
    "FVSBN-gaussian": lambda e=(2,), **o: tfar.FVSBN(event_shape=e, likelihood="gaussian", **o),
}
NAMES = sorted(MODELS)


def build(name, seed=0, scale=0.3):
    """The model with every weight N(0, scale²) (0.3: at 0.5 a ReLU MADE's second
    conditional spreads mass past the grid's ±10)."""
    d = MODELS[name]()
    checks.randomize_weights(d, seed=seed, scale=scale)
    return d


def condition(d):
    return None if d.conditional_shape is None else CONDITION


def kwargs_of(d):
    return {} if d.conditional_shape is None else {"conditional_input": CONDITION}


@pytest.mark.parametrize("name", NAMES)
def test_density_integrates_to_one(name):
    d = build(name)
    total = checks.assert_density_normalized(d, condition(d))
    print(f"{name}: |∫∫ p − 1| = {abs(total - 1):.2e}")


@pytest.mark.parametrize("name", NAMES)
def test_causal(name):
    d = MODELS[name]()
    jac = checks.network_jacobian(d)
    checks.assert_causal(jac, d.orderings, fully_connected=True)


def quadrature_moments(d):
    """E[x0], E[x1], E[x0²], E[x1²], E[x0·x1] under d's density, by quadrature."""
    axis, density = checks.density_grid(d, conditional_input=condition(d))
    x0, x1 = np.meshgrid(axis, axis, indexing="ij")
    return np.array([checks.trapezoid_2d(axis, f * density)
                     for f in (x0, x1, x0 ** 2, x1 ** 2, x0 * x1)]), axis, density


@pytest.mark.parametrize("method", ["cached", "naive"])
@pytest.mark.parametrize("name", ["RNADE", "MADE-MoG-ensemble-conditional", "RNADE-gaussian"])
def test_samples_follow_the_density(name, method):
    """Moments of 20,000 samples within 5 standard errors of the quadrature's, and a
    chi-square two-sample test (6×6 cells at the pooled quantiles) against 20,000 draws
    from the quadrature grid (a cell by its mass, uniform within it): p > 1e-3."""
    d = build(name)
    n = 20000
    samples = d.sample(n, seed=(7, 11), method=method, **(
        {} if d.conditional_shape is None else {"conditional_input": CONDITION})).numpy()
    assert samples.dtype == np.float32 and np.all(np.isfinite(samples))
    moments, axis, density = quadrature_moments(d)
    x0, x1 = samples[:, 0].astype(np.float64), samples[:, 1].astype(np.float64)
    features = np.stack([x0, x1, x0 ** 2, x1 ** 2, x0 * x1])
    error = np.abs(features.mean(1) - moments) / (features.std(1) / np.sqrt(n))
    assert np.all(error < 5), f"moments {features.mean(1)} vs quadrature {moments}"

    rng = np.random.default_rng(0)
    step = axis[1] - axis[0]
    mass = density.ravel() / density.sum()
    cells = rng.choice(mass.size, size=n, p=mass)
    reference = np.stack([axis[cells // axis.size], axis[cells % axis.size]], -1)
    reference += rng.uniform(-step / 2, step / 2, size=reference.shape)
    pooled = np.concatenate([samples, reference])
    table = np.zeros((2, 36))
    for row, points in enumerate((samples, reference)):
        bins = [np.searchsorted(np.quantile(pooled[:, i], [1 / 6 * k for k in range(1, 6)]),
                                points[:, i]) for i in range(2)]
        table[row] = np.bincount(bins[0] * 6 + bins[1], minlength=36)
    p_value = scipy.stats.chi2_contingency(table)[1]
    assert p_value > 1e-3, f"samples and the quadrature's draws differ: p = {p_value}"


@pytest.mark.parametrize("name", ["RNADE", "RNADE-r2l-conditional",
                                  "RNADE-order-agnostic-ensemble", "MADE-MoG"])
def test_cached_sampler_equals_the_naive_loop(name):
    """Same weights and seed: the cached sampler's floats equal the naive loop's to float
    rounding. Not bit for bit: the running pre-activation c + Σ W_k x_k sums in another
    order than the network's blocked cumulative sum (`exclusive_cumsum`), so params differ
    in the last bits and so do μ + σ·ε (the component draws are the same)."""
    d = MODELS[name](e=(5,))
    checks.randomize_weights(d)
    kwargs = {} if d.conditional_shape is None else {"conditional_input": CONDITION}
    fast = d.sample(64, seed=(5, 9), **kwargs).numpy()
    naive = d.sample(64, seed=(5, 9), method="naive", **kwargs).numpy()
    np.testing.assert_allclose(fast, naive, rtol=1e-5, atol=1e-5)
    observed = np.zeros((64, 5), bool)
    observed[:, :2] = True
    x = d.sample(64, seed=(6, 9), method="naive", **kwargs)
    completed = d.complete(x, observed, seed=(5, 9), **kwargs).numpy()
    naive_completed = d.complete(x, observed, seed=(5, 9), method="naive", **kwargs).numpy()
    np.testing.assert_allclose(completed, naive_completed, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(completed[observed], x.numpy()[observed])
    print(f"{name}: max |cached − naive| = {np.abs(fast - naive).max():.1e} (samples), "
          f"{np.abs(completed - naive_completed).max():.1e} (completions)")


def test_rnade_samples_are_seeded_and_float():
    d = build("RNADE")
    first = d.sample(8, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(first, d.sample(8, seed=(1, 2)).numpy())
    traced = tf.function(lambda s: d.sample(8, seed=s))(tf.constant([1, 2])).numpy()
    np.testing.assert_allclose(traced, first, rtol=1e-6, atol=1e-6)
    assert not np.array_equal(first, d.sample(8, seed=(3, 4)).numpy())
    assert first.dtype == np.float32 and len(np.unique(first)) == first.size


def finite_gradients(d, x):
    """(log_prob, training_loss, whether every gradient is finite) at x."""
    with tf.GradientTape() as tape:
        loss = d.training_loss(x, seed=(1, 2), **kwargs_of(d))
    grads = tape.gradient(loss, d.trainable_variables)
    finite = all(g is not None and np.all(np.isfinite(tf.convert_to_tensor(g).numpy()))
                 for g in grads)
    return d.log_prob(x, **kwargs_of(d)).numpy(), float(loss), finite


@pytest.mark.parametrize("name", NAMES)
def test_finite_at_far_tails(name):
    d = build(name)
    x = np.array([[1e4, -1e4], [1e6, -1e6], [-1e6, 3.0], [0.0, 1e7]], np.float32)
    log_prob, loss, finite = finite_gradients(d, x)
    assert np.all(np.isfinite(log_prob)) and np.isfinite(loss) and finite, log_prob


@pytest.mark.parametrize("name", ["RNADE", "MADE-MoG", "MADE-gaussian"])
def test_all_equal_data_keeps_scales_above_the_floor(name):
    """300 Adam steps on 64 copies of one point (maximum likelihood wants a spike):
    the loss, every gradient and every log-prob stay finite, the loss falls, scales stay
    at or above the head's floor and each conditional's density at or below
    1/(min_scale·√(2π)). (Collapsed components at the floor: the next test.)"""
    d = MODELS[name]()
    x = np.full((64, 2), 3.0, np.float32)
    optimizer = keras.optimizers.Adam(0.05)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = d.training_loss(x, seed=(0, 0))
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, d.trainable_variables)]
        optimizer.apply_gradients(zip(grads, d.network.trainable_variables))
        return loss, tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])

    losses = []
    for _ in range(300):
        loss, finite = train_step()
        assert bool(finite) and np.isfinite(float(loss))
        losses.append(float(loss))
    assert losses[-1] < losses[0] - 1.0, losses[::50]
    head = d.likelihood
    scales = head.components(d._component_params(tf.constant(x), None))[2].numpy()
    assert scales.min() >= head.min_scale
    bound = 2 * -np.log(head.min_scale * np.sqrt(2 * np.pi))
    log_prob, loss, finite = finite_gradients(d, x)
    assert np.all(np.isfinite(log_prob)) and finite and np.all(log_prob <= bound + 1e-3)


@pytest.mark.parametrize("name", ["RNADE", "MADE-MoG"])
def test_collapsed_components_stay_finite(name):
    """Every component with the same mean and a scale pre-activation of −10⁴ (σ at its
    floor), the output weights zeroed: finite log-probs and gradients at the mean and
    far from it."""
    d = build(name)
    network, k = d.network, d.likelihood.num_mixtures
    bias = np.concatenate([np.zeros(k), np.full(k, 0.5), np.full(k, -1e4)]).astype(np.float32)
    if isinstance(d, tfar.RNADE):
        network.v.assign(tf.zeros_like(network.v))
        network.b.assign(np.tile(bias, (2, 1)))
    else:
        for layer in (network.output_layer, network.direct_layer):
            if layer is not None:
                layer.kernel.assign(tf.zeros_like(layer.kernel))
        network.output_layer.bias.assign(np.tile(bias, 2))
    x = np.array([[0.5, 0.5], [0.5, 100.0], [-1e3, 0.5]], np.float32)
    log_prob, loss, finite = finite_gradients(d, x)
    assert np.all(np.isfinite(log_prob)) and np.isfinite(loss) and finite, log_prob
    expected = -np.log(d.likelihood.min_scale * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(log_prob[0], 2 * expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["RNADE", "MADE-MoG-ensemble-conditional"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected_naming_them(name, bad):
    d = build(name)
    x = np.array([[0.5, 1.0], [2.0, bad]], np.float32)
    kwargs = kwargs_of(d)
    shown = {True: r"\[nan\]", False: r"\[inf\]" if bad > 0 else r"\[-inf\]"}[np.isnan(bad)]
    message = (rf"{d.name}: x holds NaN, Inf or values beyond the float32 range; expected "
               rf"finite floats\. Received e\.g\.\]? {shown}")
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        d.log_prob(x, **kwargs)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        tf.function(lambda x: d.log_prob(x, **kwargs))(tf.constant(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        d.training_loss(x, **kwargs)
    observed = np.ones((2, 2), bool)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        d.complete(x, observed, seed=(1, 2), **kwargs)
    observed[1, 1] = False   # an unobserved value is ignored, whatever it holds
    assert np.all(np.isfinite(d.complete(x, observed, seed=(1, 2), **kwargs).numpy()))
    with pytest.raises(tf.errors.InvalidArgumentError, match="beyond the float32 range"):
        d.log_prob(np.array([[1e300, 0.0]]), **kwargs)


def test_integer_and_bool_events_are_real_values():
    d = build("RNADE")
    ints = np.array([[1, -2]], np.int32)
    np.testing.assert_allclose(d.log_prob(ints), d.log_prob(ints.astype(np.float32)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="RNADE models real values; likelihood must be a "
                                         "continuous head"):
        tfar.RNADE(event_shape=(2,), likelihood="categorical")
    with pytest.raises(ValueError, match="events of real values need a float dtype"):
        tfar.RNADE(event_shape=(2,), hidden_units=3, dtype=tf.int32)
    with pytest.raises(ValueError, match="mixture_of_gaussians head models real values; "
                                         "num_values must be None"):
        tfar.MADE(event_shape=(2,), num_values=4, likelihood="mixture_of_gaussians")
    with pytest.raises(ValueError, match="RNADE models real values; the data has "
                                         "num_values=2"):
        tfar.registry.build("rnade", (3,), 2)
    made = tfar.MADE(event_shape=(2,), hidden_units=(4,))
    assert (made.num_values, made.likelihood.name, made.support.integer) == (2, "bernoulli",
                                                                              True)


def test_rnade_activity_rescaling_is_a_weight():
    """ρ_d (Uria et al. 2013 §2) scales dimension d's pre-activation: ρ_d = 0 makes
    h_d = σ(0) for every input, so p(x_d | x_<d) no longer depends on x_<d."""
    d = build("RNADE")
    assert [v.name for v in d.network.weights].count("rho") == 1
    d.network.rho.assign([1.0, 0.0])
    x = np.array([[0.3, 1.0], [-2.0, 1.0]], np.float32)
    params = d._component_params(tf.constant(x), None).numpy()[0]
    np.testing.assert_allclose(params[0, 1], params[1, 1], rtol=1e-6)
    assert not np.allclose(d.log_prob(x)[0], d.log_prob(x)[1])
