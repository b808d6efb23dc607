"""Gated PixelCNN's cached sampler: the naive sampler's samples and completions, with every
head, one and three channels, no condition, a vector or a spatial condition; non-square
images; under tf.function with an unknown batch size."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar

TINY = dict(num_layers=3, num_filters=6, kernel_size=3, num_mixtures=2)
HEADS = [("bernoulli", 2), ("categorical", 4), ("logistic_mixture", 4)]
CONDITIONS = {"unconditional": {}, "vector": dict(conditional_shape=(3,)),
              "spatial": dict(spatial_conditional_shape=(2, 1, 2))}


def tiny(image_shape, likelihood, num_values, condition, first_kernel_size=3, **kwargs):
    d = tfar.GatedPixelCNN(image_shape=image_shape, num_values=num_values,
                           likelihood=likelihood, first_kernel_size=first_kernel_size,
                           **CONDITIONS[condition], **TINY, **kwargs)
    checks.randomize_weights(d)
    return d


def conditions(d, num_samples, seed=(4, 2)):
    """A different condition for each of `num_samples` rows, or None."""
    if d.conditional_shape is None:
        return None
    return tf.random.stateless_normal([num_samples] + d.conditional_shape.as_list(), seed=seed)


def test_cached_is_the_default():
    d = tiny((2, 3, 1), "bernoulli", 2, "unconditional")
    assert d.sampling_methods == ("naive", "cached")


@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("likelihood,num_values", HEADS, ids=[h for h, _ in HEADS])
def test_cached_equals_naive(likelihood, num_values, channels, condition):
    shape = (4, 3, channels) if channels == 1 else (2, 3, channels)
    d = tiny(shape, likelihood, num_values, condition,
             first_kernel_size=5 if channels == 1 else 3)
    checks.assert_cached_equals_naive(d, conditional_input=conditions(d, 6))


def test_cached_equals_naive_with_a_wide_first_kernel():
    d = tiny((5, 7, 3), "logistic_mixture", 4, "vector", first_kernel_size=7)
    checks.assert_cached_equals_naive(d, num_samples=3, conditional_input=conditions(d, 3))


def test_one_layer_and_unit_kernels():
    d = tfar.GatedPixelCNN(image_shape=(3, 2, 3), num_values=3, num_layers=1, num_filters=3,
                           first_kernel_size=1)
    checks.randomize_weights(d)
    checks.assert_cached_equals_naive(d)
    d = tfar.GatedPixelCNN(image_shape=(3, 2, 3), num_values=3, num_layers=3, num_filters=3,
                           first_kernel_size=3, kernel_size=1)
    checks.randomize_weights(d)
    checks.assert_cached_equals_naive(d)


def test_traced_once_with_an_unknown_batch_size():
    d = tiny((3, 2, 3), "categorical", 4, "vector")
    sample = tf.function(lambda c, s: d.sample(tf.shape(c)[0], seed=s, conditional_input=c),
                         input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([2], tf.int32)])
    for n in (4, 5):
        c = conditions(d, n)
        np.testing.assert_array_equal(sample(c, tf.constant([1, 2])),
                                      d.sample(n, seed=(1, 2), conditional_input=c))
    complete = tf.function(
        lambda x, c: d.complete(x, np.arange(3)[:, None, None] < 1, seed=(5, 6),
                                conditional_input=c),
        input_signature=[tf.TensorSpec([None, 3, 2, 3]), tf.TensorSpec([None, 3])])
    x = d.sample(5, seed=(7, 8), conditional_input=conditions(d, 5))
    np.testing.assert_array_equal(
        complete(x, conditions(d, 5)),
        d.complete(x, np.arange(3)[:, None, None] < 1, seed=(5, 6), method="naive",
                   conditional_input=conditions(d, 5)))
    assert sample.experimental_get_tracing_count() == 1
    assert complete.experimental_get_tracing_count() == 1
