"""`complete` with `num_particles`: sampling–importance–resampling over sequential
completions (`tfar.sampling.completion`) completes any observed set exactly as K grows."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar

MODELS = {
    "made-order-agnostic-ensemble": lambda: tfar.MADE(
        event_shape=(6,), num_values=3, hidden_units=(12,), ordering="random", num_masks=3,
        seed=1),
    "made-conditional": lambda: tfar.MADE(event_shape=(2, 3), hidden_units=(10,),
                                          conditional_shape=(3,)),
    "nade-orderings": lambda: tfar.NADE(event_shape=(6,), num_values=3, hidden_units=8,
                                        ordering="random", num_orderings=2, seed=2),
    "fvsbn": lambda: tfar.FVSBN(event_shape=(6,)),
}


def condition(d, n):
    c = checks.condition_for(d)
    return None if c is None else np.tile(c[None], [n, 1])


@pytest.mark.parametrize("num_particles", [1, 5])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_complete_keeps_every_observed_value(name, num_particles):
    d = MODELS[name]()
    checks.randomize_weights(d)
    n = 64
    rng = np.random.default_rng(0)
    shape = (n,) + tuple(d.event_shape)
    x = rng.integers(0, d.num_values, size=shape).astype(np.float32)
    observed = rng.random(shape) < 0.5
    filled = d.complete(x, observed, seed=(1, 2), num_particles=num_particles,
                        conditional_input=condition(d, n)).numpy()
    assert filled.shape == shape
    np.testing.assert_array_equal(filled[observed], x[observed])
    assert set(np.unique(filled)) <= set(range(d.num_values))


def order_agnostic_made():
    d = tfar.MADE(event_shape=(4,), num_values=3, hidden_units=(16,), ordering="random",
                  num_masks=4, seed=0)
    checks.train_a_few_steps(d)
    return d


def test_resampling_completes_a_non_prefix_observed_set_exactly():
    """Dims {1, 3} observed, {0, 2} completed: no component's order puts both observed
    dims first, so the sequential completion (K = 1) is off; K = 64 matches the exact
    conditional ∝ exp(log_prob) over the 9 completions."""
    d = order_agnostic_made()
    assert not all(set(order[:2]) == {1, 3} for order in d.orderings)
    x = np.array([0.0, 2.0, 0.0, 0.0], np.float32)
    observed = np.array([False, True, False, True])
    events = np.array([[a, 2.0, b, 0.0] for a in range(3) for b in range(3)], np.float32)
    probs = np.exp(d.log_prob(events).numpy().astype(np.float64))
    n = 12000
    p_values = {}
    for k in (1, 64):
        filled = d.complete(np.tile(x, [n, 1]), observed, seed=(4, 5), num_particles=k).numpy()
        np.testing.assert_array_equal(filled[:, observed], np.tile(x[observed], [n, 1]))
        counts = np.array([np.sum(np.all(filled == e, axis=1)) for e in events])
        p_values[k] = checks.chi_square_p(counts, probs)
    print(f"chi-square p-values by num_particles: {p_values}")
    assert p_values[64] > 1e-3, p_values
    assert p_values[1] < 1e-6, p_values   # the sequential completion is measurably off


def randomized_with_inputs(name, rows, seed):
    """A model of MODELS with random weights, random rows x and a random observed mask."""
    d = MODELS[name]()
    checks.randomize_weights(d)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, d.num_values, size=(rows, 6)).astype(np.float32)
    return d, x, rng.random((rows, 6)) < 0.5


@pytest.mark.parametrize("name", ["made-order-agnostic-ensemble", "fvsbn"])
def test_one_particle_is_the_sequential_completion(name):
    """num_particles=1 (the default) draws exactly what the plain loop draws."""
    d, x, observed = randomized_with_inputs(name, 32, seed=1)
    default = d.complete(x, observed, seed=(3, 4)).numpy()
    one = d.complete(x, observed, seed=(3, 4), num_particles=1).numpy()
    loop = d._run_loop(tf.constant(np.where(observed, x, 0.0)), tf.constant(observed), None,
                       (3, 4), None).numpy()
    np.testing.assert_array_equal(one, default)
    np.testing.assert_array_equal(one, loop)
    assert not np.array_equal(
        one, d.complete(x, observed, seed=(3, 4), num_particles=4).numpy())


@pytest.mark.parametrize("name", ["made-order-agnostic-ensemble", "nade-orderings"])
def test_resampling_under_tf_function_equals_eager(name):
    d, x, observed = randomized_with_inputs(name, 16, seed=2)
    eager = d.complete(x, observed, seed=(5, 6), num_particles=8).numpy()
    traced = tf.function(lambda x, seed: d.complete(x, observed, seed=seed, num_particles=8))(
        tf.constant(x), tf.constant([5, 6], tf.int32)).numpy()
    np.testing.assert_array_equal(eager, traced)
    np.testing.assert_array_equal(eager[observed], x[observed])


def test_num_particles_must_be_a_positive_int():
    d = MODELS["fvsbn"]()
    for bad in (0, 2.0, True, tf.constant(0), tf.constant(3.0), tf.constant([3])):
        with pytest.raises(ValueError, match="num_particles"):
            d.complete(np.zeros((1, 6), np.float32), np.ones((1, 6), bool), num_particles=bad)


def test_a_tensor_num_particles_equals_the_python_int():
    """An exported `complete` takes K as an input: a traced tensor K gives the draws of
    the same Python K (K = 1: the sequential completion), and K < 1 fails naming it."""
    d, x, observed = randomized_with_inputs("made-order-agnostic-ensemble", 8, seed=5)
    spec = [tf.TensorSpec([None, 6]), tf.TensorSpec([None, 6], tf.bool),
            tf.TensorSpec([], tf.int32)]
    traced = tf.function(lambda x, m, k: d.complete(x, m, seed=tf.constant([7, 8]),
                                                    num_particles=k), input_signature=spec)
    for k in (1, 4):
        np.testing.assert_array_equal(
            traced(x, observed, k).numpy(),
            d.complete(x, observed, seed=(7, 8), num_particles=k).numpy())
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"num_particles must be >= 1; got\] \[0\]"):
        traced(x, observed, 0)


def test_resampling_under_tf_function_with_an_unknown_batch_size():
    d, x, observed = randomized_with_inputs("made-order-agnostic-ensemble", 5, seed=4)
    spec = [tf.TensorSpec([None, 6]), tf.TensorSpec([None, 6], tf.bool)]
    traced = tf.function(lambda x, m: d.complete(x, m, seed=tf.constant([1, 2]),
                                                 num_particles=3), input_signature=spec)
    np.testing.assert_array_equal(traced(x, observed).numpy(),
                                  d.complete(x, observed, seed=(1, 2), num_particles=3).numpy())
