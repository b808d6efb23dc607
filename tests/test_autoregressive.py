"""The Distribution contract shared by every model: shapes, seeds, bad input, completion."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import checks
import tfar

MODELS = {
    "FVSBN": lambda **kw: tfar.FVSBN(event_shape=(2, 3), **kw),
    "NADE": lambda **kw: tfar.NADE(event_shape=(2, 3), hidden_units=5, **kw),
    "MADE": lambda **kw: tfar.MADE(event_shape=(2, 3), hidden_units=(8,), **kw),
}


@pytest.fixture(params=sorted(MODELS))
def model(request):
    return MODELS[request.param]


def test_is_a_tfp_distribution(model):
    d = model(num_values=3)
    assert isinstance(d, tfp.distributions.Distribution)
    assert d.batch_shape == () and d.event_shape == (2, 3)
    assert d.sample(seed=(0, 1)).shape == (2, 3)
    assert d.sample([4, 5], seed=(0, 1)).shape == (4, 5, 2, 3)
    x = d.sample([4, 5], seed=(0, 1))
    assert d.log_prob(x).shape == (4, 5)
    assert d.log_prob(tf.cast(x, tf.int32)).dtype == tf.float32  # integer input is fine


def test_conditional_broadcasting_follows_tfp(model):
    d = model(conditional_shape=(2,))
    labels = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], np.float32)
    s = d.sample([4, 3], seed=(1, 2), conditional_input=labels)     # 4 samples per label
    assert s.shape == (4, 3, 2, 3)
    lp = d.log_prob(s, conditional_input=labels)
    assert lp.shape == (4, 3)
    one_by_one = np.stack([d.log_prob(s[:, j], conditional_input=labels[j]).numpy()
                           for j in range(3)], axis=1)
    np.testing.assert_allclose(lp.numpy(), one_by_one, rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch shape of conditional_input"):
        d.sample(4, seed=(1, 2), conditional_input=labels)


def test_bad_input_messages(model):
    d = model(validate_args=True)
    with pytest.raises(ValueError, match=r"x must have shape \[\.\.\., 2, 3\].*got shape \(4, 6\)"):
        d.log_prob(np.zeros((4, 6), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"values >= 2; expected integers in \[0, 2\)"):
        d.log_prob(np.full((1, 2, 3), 2.0, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="values below 0"):
        d.log_prob(np.full((1, 2, 3), -1.0, np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-integer values"):
        d.log_prob(np.full((1, 2, 3), 0.5, np.float32))
    with pytest.raises(ValueError, match="built without a conditional input"):
        d.log_prob(np.zeros((1, 2, 3), np.float32), conditional_input=np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="built without a conditional input"):
        d.sample(2, seed=(1, 2), conditional_input=np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="method must be one of"):
        d.sample(2, seed=(1, 2), method="magic")


def test_nan_input_rejected_even_without_validate_args(model):
    d = model()
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        d.log_prob(np.full((1, 2, 3), np.nan, np.float32))


def test_conditional_shape_errors(model):
    d = model(conditional_shape=(2,))
    x = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(ValueError, match=r"conditional_input must have shape \[\.\.\., 2\].*got shape \(1, 3\)"):
        d.log_prob(x, conditional_input=np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="pass conditional_input"):
        d.log_prob(x)
    with pytest.raises(ValueError, match="pass conditional_input"):
        d.sample(1, seed=(1, 2))


def test_bad_constructor_arguments(model):
    with pytest.raises(ValueError, match="num_values must be >= 2"):
        model(num_values=1)
    with pytest.raises(ValueError, match="Bernoulli head models num_values=2"):
        model(num_values=3, likelihood="bernoulli")
    with pytest.raises(ValueError, match="event_shape must be"):
        tfar.MADE(event_shape=(0,))


def test_completion_samples_the_conditional():
    """complete() draws unobserved dims from p(x_rest | x_observed) when observed come first."""
    d = tfar.MADE(event_shape=(3,), num_values=3, hidden_units=(6,))
    checks.train_a_few_steps(d)
    prefix = np.array([2.0, 1.0, 0.0], np.float32)
    observed = np.array([True, False, False])
    n = 20000
    filled = d.complete(np.tile(prefix, [n, 1]), observed, seed=(4, 5)).numpy()
    assert np.all(filled[:, 0] == 2.0)
    events = np.array([[2.0, a, b] for a in range(3) for b in range(3)], np.float32)
    probs = np.exp(d.log_prob(events).numpy().astype(np.float64))
    counts = np.array([np.sum(np.all(filled == e, axis=1)) for e in events])
    assert checks.chi_square_p(counts, probs) > 1e-3


def test_sampling_inside_tf_function_with_a_tensor_sample_count(model):
    d = model()
    f = tf.function(lambda n, seed: d.sample(n, seed=seed))
    first = f(tf.constant(3), tf.constant([1, 2])).numpy()
    assert first.shape == (3, 2, 3)
    np.testing.assert_array_equal(first, d.sample(3, seed=(1, 2)).numpy())
    assert d.sample(4, seed=7).shape == (4, 2, 3)  # an int seed works, TFP-style


def test_ensemble_completion_weights_components_by_the_observed():
    """An ensemble's conditional weights each component by p_m(observed), not uniformly."""
    d = tfar.MADE(event_shape=(3,), num_values=3, hidden_units=(6,), hidden_degrees="random",
                  num_masks=3, seed=0)
    for v in d.network.trainable_variables:  # sharp, disagreeing components
        v.assign(tf.random.stateless_normal(v.shape, seed=(9, v.shape[-1])) * 1.5)
    n = 20000
    for prefix in ([1.0, 0.0], [2.0, 2.0]):
        filled = d.complete(np.tile(prefix + [0.0], [n, 1]).astype(np.float32),
                            np.array([True, True, False]), seed=(4, 5)).numpy()
        events = np.array([prefix + [v] for v in range(3)], np.float32)
        probs = np.exp(d.log_prob(events).numpy().astype(np.float64))
        counts = np.array([np.sum(filled[:, 2] == v) for v in range(3)])
        assert checks.chi_square_p(counts, probs) > 1e-3, (prefix, counts, probs)


@pytest.mark.parametrize("dtype", [tf.float64, tf.int32])
def test_event_dtype(model, dtype):
    d = model(num_values=3, dtype=dtype, validate_args=True)
    s = d.sample(5, seed=(1, 2))
    assert s.dtype == dtype
    lp = d.log_prob(s)
    assert lp.shape == (5,) and np.all(np.isfinite(lp.numpy()))
    np.testing.assert_allclose(lp.numpy(), model(num_values=3, network=d.network).log_prob(
        tf.cast(s, tf.float32)).numpy(), rtol=1e-6)
    assert d.complete(s, np.ones((2, 3), bool), seed=(3, 4)).dtype == dtype


def test_wrapped_network_must_match(model):
    d = model(num_values=3)
    with pytest.raises(ValueError, match="the network models"):
        model(num_values=4, network=d.network)
    with pytest.raises(ValueError, match="the network models"):
        model(num_values=3, conditional_shape=(2,), network=d.network)


def test_bad_values_rejected_by_default(model):
    """Issue 10: x = 2, -1, 0.5 gave finite log-probs unless validate_args=True."""
    d = model()
    checks_in_graph = tf.function(lambda x: d.log_prob(x))
    for value, eager_message in ((2.0, r"values >= 2; expected integers in \[0, 2\)"),
                                 (-1.0, "values below 0"), (0.5, "non-integer values"),
                                 (np.inf, "NaN or Inf")):
        x = np.full((1, 2, 3), value, np.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match=eager_message):
            d.log_prob(x)
        with pytest.raises(tf.errors.InvalidArgumentError, match=eager_message):
            d.training_loss(x)
        with pytest.raises(tf.errors.InvalidArgumentError, match=eager_message):
            checks_in_graph(tf.constant(x))   # in a graph too, the problem named (issue 20)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"values >= 2"):
        d.complete(np.full((1, 2, 3), 2.0, np.float32), np.ones((2, 3), bool), seed=(1, 2))
    # unobserved values are ignored, whatever they hold
    assert d.complete(np.full((1, 2, 3), np.nan, np.float32), np.zeros((2, 3), bool),
                      seed=(1, 2)).shape == (1, 2, 3)


def test_integer_model_does_not_truncate_float_arrays(model):
    d = model(dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-integer values"):
        d.log_prob(np.full((1, 2, 3), 0.5, np.float32))


def test_sample_shape_and_empty_batches(model):
    d = model()
    for bad in (-1, 2.5, [2, -1]):
        with pytest.raises(ValueError, match="expected a non-negative int"):
            d.sample(bad, seed=(1, 2))
    with pytest.raises(TypeError, match="sample shape must be integers"):
        d.sample("two", seed=(1, 2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative"):
        tf.function(lambda n: d.sample(n, seed=(1, 2)))(tf.constant(-1))
    assert d.sample(0, seed=(1, 2)).shape == (0, 2, 3)
    assert d.log_prob(np.zeros((0, 2, 3), np.float32)).shape == (0,)
    assert d.complete(np.zeros((0, 2, 3)), np.ones((2, 3), bool), seed=(1, 2)).shape == (0, 2, 3)


def test_conditional_input_nan_and_batch_mismatch(model):
    d = model(conditional_shape=(2,))
    with pytest.raises(tf.errors.InvalidArgumentError, match="conditional_input holds NaN"):
        d.sample(2, seed=(1, 2), conditional_input=np.full((2, 2), np.nan, np.float32))
    with pytest.raises(ValueError, match="do not broadcast"):
        d.log_prob(np.zeros((3, 2, 3), np.float32), conditional_input=np.zeros((4, 2), np.float32))
