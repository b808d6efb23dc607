"""NADE: normalization, causality, sampling (cached == naive), order-agnostic training."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.models.nade import NADENetwork, exclusive_cumsum

CONDITION = np.array([1.0, -0.5], np.float32)

OPTIONS = [
    ("l2r-vector-binary", dict(event_shape=(10,), hidden_units=7)),
    ("r2l-image-4values", dict(event_shape=(2, 2, 1), num_values=4, hidden_units=6,
                               ordering="right_to_left")),
    ("random-order-conditional", dict(event_shape=(6,), hidden_units=5, ordering="random", seed=4,
                                      conditional_shape=(2,))),
    ("explicit-order", dict(event_shape=(2, 3), hidden_units=5, ordering=[5, 2, 0, 4, 1, 3])),
    ("order-agnostic-ensemble", dict(event_shape=(8,), hidden_units=6, ordering="random",
                                     num_orderings=5, order_agnostic=True, seed=0)),
    ("order-agnostic-4values-conditional", dict(
        event_shape=(4,), num_values=4, hidden_units=6, ordering="random", num_orderings=3,
        order_agnostic=True, seed=1, conditional_shape=(2,))),
    ("binary-categorical-head", dict(event_shape=(5,), hidden_units=4, likelihood="categorical")),
]
IDS = [o[0] for o in OPTIONS]


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=IDS)
def test_normalized(kwargs):
    d = tfar.NADE(**kwargs)
    checks.assert_normalized(d, checks.condition_for(d))


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=IDS)
def test_causal_from_construction(kwargs):
    d = tfar.NADE(**kwargs)
    jac = checks.network_jacobian(d)
    checks.assert_causal(jac, d.orderings, fully_connected=True)


def test_causal_under_per_example_training_orders():
    """The order-agnostic training path: each example follows its own drawn order."""
    d = tfar.NADE(**OPTIONS[4][1])
    orders = np.stack([np.random.default_rng(i).permutation(8) for i in range(32)])
    x = tf.constant(np.random.default_rng(0).normal(size=(32, 8, 1)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        params = d.network.conditionals(x, tf.constant(orders, tf.int32), encoded=True)[..., 0]
        rows = {b: params[b] for b in (0, 7, 31)}
    for b, row in rows.items():
        jac = np.abs(tape.jacobian(row, x).numpy()).sum(axis=(1, 3))[None]  # [1, D, D']
        checks.assert_causal(jac, orders[b][None], fully_connected=True)


@pytest.mark.parametrize("method", ["cached", "naive"])
@pytest.mark.parametrize("kwargs", [OPTIONS[2][1], OPTIONS[5][1]], ids=["single", "ensemble"])
def test_samples_match_log_prob(kwargs, method):
    d = tfar.NADE(**({**kwargs, "event_shape": (3,)} if kwargs.get("num_values", 2) == 2 else kwargs))
    c = checks.condition_for(d)
    checks.train_a_few_steps(d, conditional_input=c)
    checks.assert_samples_match(d, method=method, conditional_input=c)
    checks.assert_seeded(d, method=method, conditional_input=c)


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=IDS)
def test_cached_sampler_equals_naive(kwargs):
    d = tfar.NADE(**kwargs)
    c = checks.condition_for(d)
    cached = d.sample(64, seed=(5, 6), method="cached", conditional_input=c)
    naive = d.sample(64, seed=(5, 6), method="naive", conditional_input=c)
    np.testing.assert_array_equal(cached.numpy(), naive.numpy())


def test_cached_completion_equals_naive():
    d = tfar.NADE(**OPTIONS[0][1])
    x = d.sample(16, seed=(1, 1))
    observed = np.zeros((16, 10), bool)
    observed[:, :4] = True
    cached = d.complete(x, observed, seed=(2, 3))
    naive = d.complete(x, observed, seed=(2, 3), method="naive")
    np.testing.assert_array_equal(cached.numpy(), naive.numpy())
    np.testing.assert_array_equal(cached.numpy()[:, :4], x.numpy()[:, :4])


def test_order_agnostic_training_draws_orders():
    d = tfar.NADE(**OPTIONS[4][1])
    x = checks.all_configurations(d)[:40]
    losses = {round(float(d.training_loss(x, seed=(0, s))), 5) for s in range(5)}
    assert len(losses) == 5  # a fresh order per example each call
    exact = tfar.NADE(event_shape=(8,), hidden_units=6)
    np.testing.assert_allclose(float(exact.training_loss(x)), -float(np.mean(exact.log_prob(x))),
                               rtol=1e-6)


def test_ensemble_is_log_mean_exp_of_orders():
    d = tfar.NADE(**OPTIONS[4][1])
    x = checks.all_configurations(d)[:30]
    per_order = np.stack([
        np.sum(d.likelihood.log_prob(d.network.conditionals(x.reshape(30, 8),
                                                            tf.constant(o, tf.int32)), x), -1)
        for o in d.orderings])
    expected = np.log(np.mean(np.exp(per_order.astype(np.float64)), axis=0))
    np.testing.assert_allclose(d.log_prob(x).numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("num_dims", [1, 2, 7, 16, 50])
def test_blocked_cumsum_equals_tf_cumsum(num_dims):
    a = tf.random.stateless_normal([num_dims, 3, 4], seed=(1, num_dims))
    np.testing.assert_allclose(exclusive_cumsum(a).numpy(),
                               tf.cumsum(a, axis=0, exclusive=True).numpy(), atol=1e-5)


def test_log_prob_has_no_python_loop_over_dimensions():
    """D = 784, H = 500: the whole batch in one traced graph with no while loop."""
    d = tfar.NADE(event_shape=(784,), hidden_units=500)
    graph = tf.function(d.log_prob).get_concrete_function(
        tf.TensorSpec([100, 784], tf.float32)).graph
    op_types = {op.type for op in graph.get_operations()}
    assert "Cumsum" in op_types
    assert not op_types & {"While", "StatelessWhile"}
    assert len(graph.get_operations()) < 200  # independent of D


def test_network_config_round_trip():
    d = tfar.NADE(**OPTIONS[5][1])
    clone = NADENetwork.from_config(d.network.get_config())
    clone(tf.zeros([1, 4]), conditional_input=tf.zeros([1, 2]))
    clone.set_weights(d.network.get_weights())
    wrapped = tfar.NADE(event_shape=(4,), num_values=4, conditional_shape=(2,), network=clone)
    x = checks.all_configurations(d)
    np.testing.assert_array_equal(wrapped.log_prob(x, conditional_input=CONDITION).numpy(),
                                  d.log_prob(x, conditional_input=CONDITION).numpy())
    np.testing.assert_array_equal(wrapped.orderings, d.orderings)


def test_variables_are_the_networks():
    d = tfar.NADE(**OPTIONS[2][1])
    names = sorted(v.name for v in d.trainable_variables)
    assert names == sorted(v.value.name for v in d.network.trainable_variables)
    assert len(names) == 6  # W, c, V, b and the two conditional maps


def test_repeated_orders_rejected():
    with pytest.raises(ValueError, match="needs ordering='random'"):
        tfar.NADE(event_shape=(4,), num_orderings=3)


def test_cached_sampling_of_a_conditional_nade_under_mixed_precision():
    import keras
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        d = tfar.NADE(event_shape=(6,), num_values=3, hidden_units=7, conditional_shape=(2,))
        s = d.sample(4, seed=(1, 2), conditional_input=np.zeros([4, 2], np.float32)).numpy()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert s.shape == (4, 6) and set(np.unique(s)) <= {0.0, 1.0, 2.0}


@pytest.mark.parametrize("index", [2, 4, 5], ids=[IDS[i] for i in (2, 4, 5)])
def test_shared_contributions_give_each_orders_params(index):
    """`call` computes W x once for all K orders; each order's params equal those of
    `conditionals` under that order alone (which computes W x itself)."""
    d = tfar.NADE(**OPTIONS[index][1])
    checks.randomize_weights(d, seed=index, scale=1.0)
    x = checks.all_configurations(d)[:40].reshape(40, -1)
    c = checks.condition_for(d)
    c = None if c is None else np.broadcast_to(c, (40,) + c.shape)
    per_order = np.stack([d.network.conditionals(x, tf.constant(o, tf.int32), c).numpy()
                          for o in d.orderings])
    np.testing.assert_allclose(d.network(x, conditional_input=c).numpy(), per_order,
                               rtol=1e-6, atol=1e-6)
