"""MADE's cached sampler (`tfar.sampling.made`): the naive loop's samples and completions,
exact sample frequencies, seeds."""

import numpy as np
import pytest

import checks
import tfar

# (id, constructor kwargs): 2 and 3 values, 1 and 2 (and 0) hidden layers, conditional,
# direct connections, random and explicit orders, column blocks 1 / auto / 3, ensembles.
OPTIONS = [
    ("binary-1-hidden", dict(event_shape=(10,), hidden_units=(16,))),
    ("3values-2-hidden-random-order", dict(event_shape=(6,), num_values=3, hidden_units=(8, 8),
                                           ordering="random", seed=3)),
    ("binary-conditional", dict(event_shape=(2, 3), hidden_units=(10,), conditional_shape=(3,),
                                ordering=[3, 0, 5, 1, 4, 2])),
    ("3values-conditional-2-hidden-direct", dict(
        event_shape=(5,), num_values=3, hidden_units=(12, 9), conditional_shape=(3,),
        direct_connections=True, ordering="right_to_left")),
    ("binary-direct-random-order", dict(event_shape=(7,), hidden_units=(9,), ordering="random",
                                        seed=5, direct_connections=True)),
    ("binary-column-blocks-1", dict(event_shape=(12,), hidden_units=(20, 20), column_blocks=1)),
    ("binary-column-blocks-auto", dict(event_shape=(30,), hidden_units=(200, 200),
                                       column_blocks="auto")),
    ("3values-column-blocks-3-conditional-direct", dict(
        event_shape=(8,), num_values=3, hidden_units=(12, 9), column_blocks=3,
        conditional_shape=(3,), direct_connections=True)),
    ("no-hidden-direct-4values", dict(event_shape=(5,), num_values=4, hidden_units=(),
                                      direct_connections=True)),
    ("binary-categorical-head", dict(event_shape=(5,), hidden_units=(8,), likelihood="categorical")),
    ("ensemble-order-agnostic", dict(event_shape=(8,), hidden_units=(12, 12), ordering="random",
                                     num_masks=4, seed=1)),
    ("ensemble-connectivity-3values-conditional-blocks", dict(
        event_shape=(6,), num_values=3, hidden_units=(12,), hidden_degrees="random",
        num_masks=3, seed=2, conditional_shape=(3,), column_blocks=3)),
]


def conditions(d, n):
    c = checks.condition_for(d)
    if c is None:
        return None
    return c[None] * np.linspace(-2.0, 2.0, n, dtype=np.float32).reshape((n,) + (1,) * c.ndim)


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=[o[0] for o in OPTIONS])
def test_cached_equals_naive(kwargs):
    d = tfar.MADE(**kwargs)
    checks.randomize_weights(d)
    checks.assert_cached_equals_naive(d, num_samples=40, conditional_input=conditions(d, 40))


def test_auto_column_blocks_are_blocked():
    """The "auto" case above does exercise blocked kernels (so the sampler reads them)."""
    d = tfar.MADE(**OPTIONS[6][1])
    assert [layer.column_blocks for layer in d.network.hidden_layers] == [2, 2]


def test_cached_is_the_default():
    d = tfar.MADE(event_shape=(6,), hidden_units=(8,))
    checks.randomize_weights(d)
    assert d.sampling_methods[-1] == "cached"
    np.testing.assert_array_equal(d.sample(20, seed=(1, 2)).numpy(),
                                  d.sample(20, seed=(1, 2), method="cached").numpy())


@pytest.mark.parametrize("kwargs", [
    dict(event_shape=(3,), hidden_units=(8, 8), ordering="random", seed=3, direct_connections=True),
    dict(event_shape=(4,), num_values=3, hidden_units=(12,), hidden_degrees="random",
         num_masks=3, seed=2, conditional_shape=(3,)),
], ids=["single", "ensemble-conditional"])
def test_cached_samples_match_log_prob(kwargs):
    d = tfar.MADE(**kwargs)
    c = checks.condition_for(d)
    checks.train_a_few_steps(d, conditional_input=c)
    checks.assert_samples_match(d, method="cached", conditional_input=c)
    checks.assert_seeded(d, method="cached", conditional_input=c)
