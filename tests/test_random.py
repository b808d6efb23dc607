"""`tfar.random`: the same draws inside and outside XLA. Outside a compiled loop its
functions are TensorFlow's stateless ops; inside (the `xla()` context, traced under
`jit_compile=True`) they are rebuilt from the Philox bits, and must equal TF's bit for
bit, for seeds with negative components too (where XLA's own ops draw other numbers)."""

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from tfar import random

SEEDS = [(3, 4), (-1, 4), (3, -1), (-5, -7), (0, -1), (-2**31, 2**31 - 1), (2**31 - 1, -2**31)]


def compiled(fn):
    """fn traced inside `random.xla()` and compiled with XLA."""
    def traced(*args):
        with random.xla():
            return fn(*args)
    return tf.function(traced, jit_compile=True, autograph=False)


def test_the_key_and_counter_are_tfs_for_every_seed():
    derive = tf.function(random.key_counter, jit_compile=True)
    for seed in SEEDS:
        seed = tf.constant(seed, tf.int32)
        key, counter = tf.raw_ops.StatelessRandomGetKeyCounter(seed=seed)
        ours = derive(seed)
        np.testing.assert_array_equal(ours[0], key)
        np.testing.assert_array_equal(ours[1], counter)
        np.testing.assert_array_equal(random.key_counter(seed)[0], key)   # eagerly too


@pytest.mark.parametrize("draw", [
    ("split", lambda s: random.split(s, 3), lambda s: tf.random.experimental.stateless_split(s, 3)),
    ("bits", lambda s: random.bits([5, 3], s), lambda s: tf.random.stateless_uniform(
        [5, 3], s, minval=None, maxval=None, dtype=tf.uint32)),
    ("float32", lambda s: random.uniform([7, 5], s),
     lambda s: tf.random.stateless_uniform([7, 5], s)),
    ("float32_open", lambda s: random.uniform([9], s, open_interval=True),
     lambda s: tf.random.stateless_uniform([9], s, minval=np.finfo(np.float32).tiny)),
    ("float16", lambda s: random.uniform([11], s, dtype=tf.float16),
     lambda s: tf.random.stateless_uniform([11], s, dtype=tf.float16)),
    ("bfloat16", lambda s: random.uniform([11], s, dtype=tf.bfloat16),
     lambda s: tf.random.stateless_uniform([11], s, dtype=tf.bfloat16)),
], ids=lambda d: d[0])
def test_compiled_draws_equal_tensorflows_bit_for_bit(draw):
    _, ours, theirs = draw
    ours_compiled = compiled(ours)
    for seed in SEEDS:
        seed = tf.constant(seed, tf.int32)
        expected = theirs(seed).numpy()
        np.testing.assert_array_equal(ours(seed).numpy(), expected)           # outside XLA
        got = ours_compiled(seed).numpy()
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_compiled_normals_agree_with_tensorflows_to_float_rounding():
    draw = compiled(lambda s: random.normal([7, 3], s))
    for seed in SEEDS:
        seed = tf.constant(seed, tf.int32)
        np.testing.assert_allclose(draw(seed), tf.random.stateless_normal([7, 3], seed),
                                   rtol=1e-5, atol=1e-6)


def test_categorical_is_gumbel_max_the_same_compiled_and_follows_the_softmax():
    logits = tf.constant([[0.0, 1.0, -1.0, 2.0, -np.inf]] * 20000)
    draws = random.categorical(logits, tf.constant([7, -8])).numpy()
    np.testing.assert_array_equal(compiled(random.categorical)(logits, tf.constant([7, -8])),
                                  draws)
    assert draws.dtype == np.int32 and not np.any(draws == 4)    # −inf is never drawn
    counts = np.bincount(draws, minlength=5)[:4]
    p = np.exp(np.array([0.0, 1.0, -1.0, 2.0]))
    expected = p / p.sum() * len(draws)
    assert scipy.stats.chisquare(counts, expected).pvalue > 1e-3


def test_unsupported_dtypes_under_xla_say_so():
    with pytest.raises(ValueError, match="float64"):
        with random.xla():
            random.uniform([2], tf.constant([1, 2]), dtype=tf.float64)
    with pytest.raises(ValueError, match="float64"):
        with random.xla():
            random.normal([2], tf.constant([1, 2]), dtype=tf.float64)
    assert not random.in_xla()
