"""PixelCNN++'s cached sampler: every step gives the network's params, and the samples and
completions equal the naive loop's (integer images identical) with one and three
channels, one to three resolutions, with and without a condition and weight
normalization; non-square images;
under tf.function with an unknown batch size."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.sampling.pixelcnnpp import PixelCNNPlusPlusSampler

CASES = {  # name: (image_shape, num_hierarchies, head[, num_resnet])
    "gray_categorical_2_levels": ((4, 4, 1), 2, dict(likelihood="categorical", num_values=4)),
    "gray_bernoulli_1_level": ((2, 3, 1), 1, dict(likelihood="bernoulli", num_values=2)),
    "rgb_2_levels_wide": ((4, 6, 3), 2, dict(num_values=4, num_mixtures=2)),
    "rgb_3_levels_tall": ((8, 4, 3), 3, dict(num_values=256, num_mixtures=3), 1),
}


def tiny(image_shape, num_hierarchies, head, num_resnet=2, conditional=False,
         weight_norm=False):
    d = tfar.PixelCNNPlusPlus(image_shape=image_shape, num_resnet=num_resnet,
                              num_hierarchies=num_hierarchies, num_filters=4, dropout=0.5,
                              conditional_shape=(3,) if conditional else None,
                              weight_norm=weight_norm, **head)
    checks.randomize_weights(d, scale=0.2)
    return d


def conditions(d, n, seed=(4, 2)):
    return (None if d.conditional_shape is None
            else tf.random.stateless_normal([n, 3], seed=seed))


def test_cached_is_the_default():
    assert tiny(*CASES["gray_categorical_2_levels"]).sampling_methods == ("naive", "cached")


# The two RGB cases' unconditional variants run in the slow tier (their conditional ones,
# a superset of the code, in the default one).
@pytest.mark.parametrize("case,conditional", [
    pytest.param(case, conditional, id=f"{case}-{'vector' if conditional else 'unconditional'}",
                 marks=[pytest.mark.slow] if case.startswith("rgb") and not conditional else [])
    for case in CASES for conditional in (False, True)])
def test_cached_equals_naive(case, conditional):
    d = tiny(*CASES[case], conditional=conditional)
    checks.assert_cached_equals_naive(d, conditional_input=conditions(d, 6))


@pytest.mark.parametrize("case", ["gray_categorical_2_levels", "rgb_3_levels_tall"])
def test_every_step_gives_the_networks_params(case):
    d = tiny(*CASES[case], conditional=True)
    checks.assert_steps_give_network_params(d, PixelCNNPlusPlusSampler)


def test_weight_normalized():
    """The sampler reads each layer's `kernel`: the weight-normalized one."""
    d = tiny((4, 4, 3), 3, dict(num_values=4, num_mixtures=2), conditional=True,
             num_resnet=1, weight_norm=True)
    checks.assert_cached_equals_naive(d, conditional_input=conditions(d, 6))


def test_one_block_per_level():
    d = tiny((4, 4, 3), 3, dict(num_values=4, num_mixtures=1), num_resnet=1)
    checks.assert_cached_equals_naive(d)


def test_traced_once_with_an_unknown_batch_size():
    d = tiny(*CASES["rgb_2_levels_wide"], conditional=True)
    sample = tf.function(lambda c, s: d.sample(tf.shape(c)[0], seed=s, conditional_input=c),
                         input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([2], tf.int32)])
    for n in (4, 5):
        c = conditions(d, n)
        np.testing.assert_array_equal(sample(c, tf.constant([1, 2])),
                                      d.sample(n, seed=(1, 2), conditional_input=c,
                                               method="naive"))
    assert sample.experimental_get_tracing_count() == 1
