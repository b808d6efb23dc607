"""PixelCNN's cached sampler (`tfar.sampling.pixelcnn`): every step's params are the full
network's, and its samples and completions are the naive sampler's, on non-square images,
every head, one or three channels, with and without a vector condition."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.sampling.pixelcnn import PixelCNNSampler

HEADS = [("bernoulli", 2), ("categorical", 4), ("logistic_mixture", 4)]


def model(image_shape, likelihood="categorical", num_values=4, conditional=False,
          first_kernel_size=3, num_layers=2):
    d = tfar.PixelCNN(image_shape=image_shape, num_values=num_values, likelihood=likelihood,
                      num_mixtures=2, num_layers=num_layers, num_filters=6,
                      first_kernel_size=first_kernel_size,
                      conditional_shape=(2,) if conditional else None)
    checks.randomize_weights(d)
    return d


def test_cached_is_the_default():
    d = model((3, 4, 1))
    assert d.sampling_methods == ("naive", "cached")


@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
@pytest.mark.parametrize("likelihood,num_values", HEADS, ids=[h for h, _ in HEADS])
@pytest.mark.parametrize("channels", [1, 3])
def test_cached_samples_and_completions_equal_naive(channels, likelihood, num_values,
                                                    conditional):
    # Alternate tall and wide images, 3×3 and 5×5 input layers, 2 and 3 blocks.
    tall = (channels == 1) != conditional
    d = model((4, 3, channels) if tall else (3, 4, channels), likelihood, num_values,
              conditional, first_kernel_size=5 if likelihood != "categorical" else 3,
              num_layers=3 if tall else 2)
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


def test_cached_equals_naive_with_a_7x7_input_layer():
    d = model((5, 6, 1), "categorical", 3, conditional=True, first_kernel_size=7)
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


@pytest.mark.parametrize("likelihood,num_values,channels,shape,first_kernel_size", [
    ("categorical", 4, 3, (4, 5), 7), ("bernoulli", 2, 1, (5, 4), 5),
    ("logistic_mixture", 4, 3, (3, 5), 3)])
def test_every_step_gives_the_full_networks_params(likelihood, num_values, channels, shape,
                                                   first_kernel_size):
    d = model(shape + (channels,), likelihood, num_values, conditional=True,
              first_kernel_size=first_kernel_size, num_layers=3)
    checks.assert_steps_give_network_params(d, PixelCNNSampler)


def test_traced_once_with_an_unknown_batch_size():
    d = model((3, 4, 3), "categorical", 4, conditional=True, first_kernel_size=5)
    spec = [tf.TensorSpec([None, 3, 4, 3]), tf.TensorSpec([None, 3, 4, 3], tf.bool),
            tf.TensorSpec([None, 2])]

    @tf.function(input_signature=spec)
    def complete(x, observed, c):
        return d.complete(x, observed, seed=(4, 5), conditional_input=c)

    for n in (2, 5):
        x = tf.constant(np.random.default_rng(n).integers(0, 4, (n, 3, 4, 3)), tf.float32)
        observed = np.zeros((n, 3, 4, 3), bool)
        observed[:, 0] = True
        observed[:, 1, :2] = True
        c = checks.random_conditions(d, n, seed=n)
        traced = complete(x, observed, c).numpy()
        eager = d.complete(x, observed, seed=(4, 5), conditional_input=c).numpy()
        naive = d.complete(x, observed, seed=(4, 5), conditional_input=c, method="naive").numpy()
        np.testing.assert_array_equal(traced, eager)
        np.testing.assert_array_equal(traced, naive)
        np.testing.assert_array_equal(traced[observed], x.numpy()[observed])
    assert complete.experimental_get_tracing_count() == 1
