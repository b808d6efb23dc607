"""The correctness checks every tfar model carries (DESIGN.md, "Correctness tests").

Each takes a built distribution; the model test files choose the options to run them on.
"""

import functools
import itertools

import numpy as np
import scipy.stats
import tensorflow as tf

import keras
from tfar.layers.encoding import encoding_size
from tfar.sampling.base import step_starting_rows


def all_configurations(d):
    """Every event of a small distribution: float32 [K^D, *event_shape] (integer
    supports only; `example_events` serves any)."""
    values = itertools.product(range(d.num_values), repeat=int(np.prod(d.event_shape)))
    return np.array(list(values), np.float32).reshape((-1,) + tuple(d.event_shape))


def example_events(d, count=16, seed=0):
    """float32 [count, *event_shape] events of d's support: the first `count`
    configurations of an integer support, standard-normal draws (times 2) for real
    values."""
    if d.support.integer:  # the first `count` of all_configurations, without making them all
        values = itertools.product(range(d.num_values), repeat=int(np.prod(d.event_shape)))
        return np.array(list(itertools.islice(values, count)), np.float32).reshape(
            (-1,) + tuple(d.event_shape))
    rng = np.random.default_rng(seed)
    return (2.0 * rng.normal(size=(count,) + tuple(d.event_shape))).astype(np.float32)


def density_grid(d, half_width=10.0, points=1001, conditional_input=None, batch=2**17):
    """A 2-D density on a grid, for quadrature: (axis [N], density [N, N] float64 of
    exp(log_prob([x0, x1])) at x0 = axis[i], x1 = axis[j])."""
    axis = np.linspace(-half_width, half_width, points, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}
    log_prob = np.concatenate([d.log_prob(grid[i:i + batch], **kwargs).numpy()
                               for i in range(0, len(grid), batch)])
    return axis.astype(np.float64), np.exp(log_prob.astype(np.float64)).reshape(points, points)


def trapezoid_2d(axis, values):
    """∫∫ values by the trapezoid rule on the grid `axis` × `axis`."""
    return np.trapezoid(np.trapezoid(values, axis, axis=1), axis)


def assert_density_normalized(d, conditional_input=None, atol=1e-3, **grid):
    """§1 for a density on a 2-D event: ∫∫ p = 1 to `atol` by the trapezoid rule on a
    grid (default: 1001² points over [−10, 10]², spacing 0.02), with less than 1e-6 of
    the mass at the grid's edge rows and columns. Returns the integral."""
    axis, density = density_grid(d, conditional_input=conditional_input, **grid)
    step = axis[1] - axis[0]
    edge = (density[[0, -1]].sum() + density[:, [0, -1]].sum()) * step * (axis[-1] - axis[0])
    assert edge < 1e-6, f"{d.name}: the grid cuts off mass ({edge:.2g} at its edges)"
    total = trapezoid_2d(axis, density)
    assert abs(total - 1.0) < atol, f"{d.name}: ∫∫ p = {total}, expected 1 ± {atol}"
    return total


# Captions for caption-conditional models in tests (`caption_encoder` adapts to them).
CAPTIONS = ("the digit 3 is at the top left", "the digit 7 is at the bottom right",
            "the digit 1 is above the digit 0", "the digit 5 is left of the digit 2",
            "the digit 8 is at the top right", "the digit 4 is below the digit 6")


def caption_encoder(max_tokens=40, embedding_dim=4, units=3, max_length=8, **options):
    """A small `tfar.layers.TextEncoder` adapted to `CAPTIONS`."""
    from tfar.layers import TextEncoder
    encoder = TextEncoder(max_tokens=max_tokens, embedding_dim=embedding_dim, units=units,
                          max_length=max_length, **options)
    encoder.adapt(list(CAPTIONS))
    return encoder


def condition_for(d):
    """A fixed, non-trivial conditional input for a conditional model (None otherwise):
    a caption, a class label, or a float vector or map."""
    conditioning = d.conditioning
    if conditioning is None:
        return None
    if conditioning.kind == "caption":
        return np.array(CAPTIONS[0])
    if conditioning.kind == "class_label":
        return np.int32(conditioning.num_classes - 1)
    size = int(np.prod(d.conditional_shape))
    return np.linspace(-1.0, 1.0, size, dtype=np.float32).reshape(d.conditional_shape)


def assert_normalized(d, conditional_input=None, atol=1e-4):
    """§1: logsumexp of log_prob over all configurations is 0 (to 1e-4)."""
    events = all_configurations(d)
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}
    log_z = float(tf.reduce_logsumexp(d.log_prob(events, **kwargs)))
    assert abs(log_z) < atol, f"{d.name}: logsumexp(log_prob) = {log_z}, expected 0"
    return log_z


def input_jacobian(params_fn, num_dims, features, batch=32, seed=0):
    """J[m, d, d'] = Σ |∂ params[m, :, d, :] / ∂ features[:, d', :]| at random inputs.

    params_fn(features [B, D, E]) -> params [M, B, D, P].
    """
    x = tf.constant(np.random.default_rng(seed).normal(size=(batch, num_dims, features)),
                    tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        params = params_fn(x)
        per_dim = tf.reduce_sum(params, axis=[1, 3])                   # [M, D]
    jac = tape.jacobian(per_dim, x)                                  # [M, D, B, D', E]
    return np.abs(jac.numpy()).sum(axis=(2, 4))                      # [M, D, D']


def network_jacobian(d, **call_kwargs):
    """`input_jacobian` of a model's network, with a different random condition per example
    (so that no unit is switched off by a constant offset)."""
    c = condition_features(d, 32)
    return input_jacobian(
        lambda f: d.network(f, conditional_input=c, encoded=True, **call_kwargs),
        d.orderings.shape[1], encoding_size(d.num_values))


def assert_causal(jacobian, orders, fully_connected):
    """§2: exactly zero from every later-or-equal dim in each order; non-zero from every
    earlier one when the model claims full connectivity."""
    for m, order in enumerate(np.atleast_2d(orders)):
        for i, d in enumerate(order):
            later = order[i:]
            assert np.all(jacobian[m, d, later] == 0.0), (
                f"component {m}: params of dim {d} (position {i}) depend on dims "
                f"{[int(j) for j in later if jacobian[m, d, j] != 0]} at or after it")
            if fully_connected:
                earlier = order[:i]
                assert np.all(jacobian[m, d, earlier] > 0.0), (
                    f"component {m}: params of dim {d} (position {i}) are blind to dims "
                    f"{[int(j) for j in earlier if jacobian[m, d, j] == 0]} before it")


def train_a_few_steps(d, steps=30, conditional_input=None, seed=0):
    """Adam on a fixed random dataset, so that tests use a non-trivial, trained model
    (correlated dimensions: integers, or real values for a real support)."""
    rng = np.random.default_rng(seed)
    num_dims = int(np.prod(d.event_shape))
    if d.support.integer:
        shared = rng.integers(0, d.num_values, size=(64, 1))       # correlated dimensions
        noise = rng.integers(0, d.num_values, size=(64, num_dims))
        data = np.where(rng.random((64, num_dims)) < 0.7, shared, noise)
    else:
        data = rng.normal(size=(64, 1)) + 0.5 * rng.normal(size=(64, num_dims))
    data = data.reshape((64,) + tuple(d.event_shape)).astype(np.float32)
    optimizer = keras.optimizers.Adam(0.05)
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}
    for step in range(steps):
        with tf.GradientTape() as tape:
            loss = d.training_loss(data, seed=(seed, step), **kwargs)
        optimizer.apply_gradients(zip(tape.gradient(loss, d.trainable_variables),
                                      d.trainable_variables))
    return float(loss)


def assert_samples_match(d, num_samples=20000, seed=(7, 11), method=None, conditional_input=None,
                         p_threshold=1e-3):
    """§3: chi-square test of empirical sample frequencies against exp(log_prob)."""
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}
    if method is not None:
        kwargs["method"] = method
    samples = d.sample(num_samples, seed=seed, **kwargs).numpy().reshape(num_samples, -1)
    events = all_configurations(d)
    kwargs.pop("method", None)
    probs = np.exp(d.log_prob(events, **kwargs).numpy().astype(np.float64))
    flat = events.reshape(len(events), -1)
    index = {tuple(e): i for i, e in enumerate(flat)}
    counts = np.bincount([index[tuple(s)] for s in samples], minlength=len(events))
    p_value = chi_square_p(counts, probs)
    assert p_value > p_threshold, f"{d.name}: sample frequencies differ from exp(log_prob), p={p_value}"
    return p_value


def chi_square_p(counts, probs):
    """p-value of observed `counts` under probabilities ∝ `probs`; rare cells pooled."""
    expected = np.asarray(probs, np.float64) / np.sum(probs) * np.sum(counts)
    keep = expected >= 5  # the chi-square approximation needs populated cells
    observed, expected = counts[keep], expected[keep]
    if not keep.all():
        observed = np.append(observed, counts[~keep].sum())
        expected = np.append(expected, np.sum(counts) - expected.sum())
    return scipy.stats.chisquare(observed, expected).pvalue


def assert_seeded(d, method=None, conditional_input=None):
    """§3: a stateless seed reproduces samples eagerly and under tf.function; others differ."""
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}
    if method is not None:
        kwargs["method"] = method
    first = d.sample(32, seed=(1, 2), **kwargs).numpy()
    again = d.sample(32, seed=(1, 2), **kwargs).numpy()
    traced = tf.function(lambda seed: d.sample(32, seed=seed, **kwargs))(
        tf.constant([1, 2], tf.int32)).numpy()
    other = d.sample(32, seed=(3, 4), **kwargs).numpy()
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, traced)
    assert not np.array_equal(first, other), "different seeds gave the same samples"
    assert first.shape == (32,) + tuple(d.event_shape)
    assert set(np.unique(first)) <= set(range(d.num_values))


def randomize_weights(d, seed=0, scale=0.5):
    """Sets every network variable to N(0, scale²) noise (biases included), so that
    fast-path tests do not run on freshly initialized weights (zero biases, symmetric)."""
    rng = np.random.default_rng(seed)
    for variable in d.network.variables:
        variable.assign(rng.normal(scale=scale, size=variable.shape).astype(np.float32))


def assert_cached_equals_naive(d, num_samples=6, conditional_input=None, seed=(5, 9),
                               method="cached"):
    """§4: the fast sampler's samples and top-half completions equal the naive loop's
    (same weights, same stateless seed), integer values identical."""
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}
    fast = d.sample(num_samples, seed=seed, method=method, **kwargs).numpy()
    naive = d.sample(num_samples, seed=seed, method="naive", **kwargs).numpy()
    np.testing.assert_array_equal(fast, naive, err_msg=f"{d.name}: {method} != naive samples")
    observed = np.zeros(fast.shape, bool)
    observed[:, :max(1, d.event_shape[0] // 2)] = True          # the top half of an image
    images = d.sample(num_samples, seed=(seed[0] + 1, seed[1]), method="naive", **kwargs)
    fast = d.complete(images, observed, seed=seed, method=method, **kwargs).numpy()
    naive = d.complete(images, observed, seed=seed, method="naive", **kwargs).numpy()
    np.testing.assert_array_equal(fast, naive, err_msg=f"{d.name}: {method} != naive completions")
    np.testing.assert_array_equal(fast[observed], images.numpy()[observed])
    return fast


def assert_compiled_equals_uncompiled(d, num_samples=4, conditional_input=None,
                                      seed=(5, -9), real_tolerance=None):
    """The sampling loop compiled with XLA (`jit_compile=True`) draws the same samples and
    top-half completions as the uncompiled one from the same seed (a seed with a negative
    component: the case where XLA's own stateless ops draw other numbers). Integer values
    identical; real values (`real_tolerance`, a model of real values) to that tolerance."""
    kwargs = {} if conditional_input is None else {"conditional_input": conditional_input}

    def same(compiled, uncompiled, what):
        if real_tolerance is None:
            np.testing.assert_array_equal(compiled, uncompiled,
                                          err_msg=f"{d.name}: compiled != uncompiled {what}")
        else:
            np.testing.assert_allclose(compiled, uncompiled, rtol=real_tolerance,
                                       atol=real_tolerance, err_msg=f"{d.name}: {what}")

    compiled = d.sample(num_samples, seed=seed, jit_compile=True, **kwargs).numpy()
    same(compiled, d.sample(num_samples, seed=seed, **kwargs).numpy(), "samples")
    observed = np.zeros(compiled.shape, bool)
    observed[:, :max(1, d.event_shape[0] // 2)] = True          # the top half of an image
    images = d.sample(num_samples, seed=(seed[0] + 1, seed[1]), **kwargs)
    completed = d.complete(images, observed, seed=seed, jit_compile=True, **kwargs).numpy()
    same(completed, d.complete(images, observed, seed=seed, **kwargs).numpy(), "completions")
    np.testing.assert_array_equal(completed[observed], images.numpy()[observed])
    return compiled


def image_step_jacobian(d, batch=16):
    """J[s, d'] = Σ |∂ params of step s / ∂ input value d'| at random inputs: [S, D]."""
    num_dims = int(np.prod(d.event_shape))
    c = condition_features(d, batch)
    return input_jacobian(lambda f: d.network(f[..., 0], conditional_input=c),
                          num_dims, 1, batch=batch)[0]


def assert_image_causal(d, no_blind_spot=False):
    """Step s (a sub-pixel, or a whole pixel for the mixture) sees no dimension of its own
    step or later; with `no_blind_spot`, it sees every earlier one."""
    jac = image_step_jacobian(d)
    per_step = d.likelihood.values_per_unit
    for s in range(jac.shape[0]):
        first_own = s * per_step
        assert np.all(jac[s, first_own:] == 0.0), (
            f"step {s} depends on dims {np.flatnonzero(jac[s, first_own:]) + first_own}")
        if no_blind_spot:
            assert np.all(jac[s, :first_own] > 0.0), (
                f"step {s} is blind to earlier dims {np.flatnonzero(jac[s, :first_own] == 0)}")
    return jac


def assert_network_config_round_trip(d, network_class, batch=2):
    """The network rebuilt from its config, given the same weights, computes the same
    params (a conditional network with an all-ones condition)."""
    clone = network_class.from_config(d.network.get_config())
    x = tf.random.stateless_uniform([batch, int(np.prod(d.event_shape))], seed=(1, 2),
                                    maxval=d.num_values)
    c = random_conditions(d, batch)
    c = None if c is None else tf.constant(c)
    clone(x, conditional_input=clone.encode_condition(c))
    clone.set_weights(d.network.get_weights())
    if d.conditioning is not None and d.conditioning.kind == "caption":   # not a weight
        clone.condition_encoder.text_encoder.set_vocabulary(
            d.network.condition_encoder.text_encoder.get_vocabulary())
    np.testing.assert_allclose(clone(x, conditional_input=clone.encode_condition(c)),
                               d.network(x, conditional_input=d.network.encode_condition(c)),
                               atol=1e-6)
    return clone


def random_conditions(d, n, seed=1):
    """A random raw condition per row [n, *conditional_shape] (None for an unconditional
    model): captions from `CAPTIONS`, class labels, or standard-normal floats."""
    conditioning = getattr(d, "conditioning", None)
    if conditioning is None:
        return None
    rng = np.random.default_rng(seed)
    if conditioning.kind == "caption":
        return np.array(CAPTIONS)[rng.integers(0, len(CAPTIONS), n)]
    if conditioning.kind == "class_label":
        return rng.integers(0, conditioning.num_classes, n).astype(np.int32)
    shape = (n,) + tuple(d.conditional_shape.as_list())
    return rng.normal(size=shape).astype(np.float32)


def condition_features(d, n, seed=1):
    """The features a network takes for n random conditions: the encoded captions or
    labels, or standard-normal vectors or maps (None for an unconditional model)."""
    c = random_conditions(d, n, seed)
    if c is None or d.conditioning.kind in ("vector", "spatial_map"):
        return None if c is None else tf.constant(c)
    return d.network.encode_condition(tf.constant(c))


def assert_steps_give_network_params(d, sampler_class, n=3):
    """Fed a whole random image at every step (as `complete` is), a cached sampler's step i
    gives the network's params of unit i (to float rounding), so no draw depends on the
    sampler but through rounding."""
    x = tf.constant(np.random.default_rng(2).integers(
        0, d.num_values, (n, int(np.prod(d.event_shape)))), tf.float32)
    c = condition_features(d, n)
    full = d.network(x, conditional_input=c)[0].numpy()                       # [n, U, P]
    sampler = sampler_class(d.network, c, tf.zeros([n], tf.int32))
    step = tf.function(functools.partial(step_starting_rows, sampler))
    state = sampler.initial_state(x)
    for i in range(d.schedule.num_steps):
        units = d.schedule.step_units(tf.zeros([n], tf.int32), i)
        params, state = step(state, tf.constant(i), units, x)
        assert params.shape == (n, 1, d.likelihood.params_size)
        np.testing.assert_allclose(params.numpy()[:, 0], full[:, i], atol=1e-5, rtol=1e-5,
                                   err_msg=f"step {i}")
