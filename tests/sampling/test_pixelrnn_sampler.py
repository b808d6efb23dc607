"""The Row LSTM PixelRNN's cached sampler (`tfar.sampling.pixelrnn`): every step's params
are the full network's, and its samples and completions are the naive sampler's, on
non-square images, every head, one or three channels, with and without a vector
condition."""

import pytest

import checks
import tfar
from tfar.sampling.pixelrnn import RowLSTMSampler

HEADS = [("bernoulli", 2), ("categorical", 4), ("logistic_mixture", 4)]


def model(image_shape, likelihood="categorical", num_values=4, conditional=False,
          first_kernel_size=3, num_layers=2, cell="row_lstm"):
    d = tfar.PixelRNN(image_shape=image_shape, num_values=num_values, cell=cell,
                      likelihood=likelihood, num_mixtures=2, num_layers=num_layers,
                      hidden_units=6, first_kernel_size=first_kernel_size,
                      conditional_shape=(2,) if conditional else None)
    checks.randomize_weights(d)
    return d


def test_cached_is_the_row_lstms_default():
    assert model((3, 4, 1)).sampling_methods == ("naive", "cached")
    assert model((3, 4, 1), cell="diagonal_bilstm").sampling_methods == ("naive",)
    with pytest.raises(ValueError, match="Row LSTM"):
        RowLSTMSampler(model((2, 2, 1), cell="diagonal_bilstm").network, None, None)


@pytest.mark.parametrize("likelihood,num_values", HEADS, ids=[h for h, _ in HEADS])
@pytest.mark.parametrize("channels,conditional", [(1, False), (3, True)],
                         ids=["1-unconditional", "3-conditional"])
def test_cached_samples_and_completions_equal_naive(channels, likelihood, num_values,
                                                    conditional):
    # Every head, with 1 and with 3 channel groups, with and without a condition (the
    # layers the condition and the groups reach are tested apart in the models' tests);
    # tall and wide images, 3×3 and 5×5 input layers, 2 and 3 LSTM layers.
    tall = likelihood != "categorical"
    d = model((4, 3, channels) if tall else (3, 4, channels), likelihood, num_values,
              conditional, first_kernel_size=5 if likelihood != "categorical" else 3,
              num_layers=3 if tall else 2)
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


def test_cached_equals_naive_with_the_papers_7x7_input_layer():
    d = model((5, 6, 1), "bernoulli", 2, conditional=True, first_kernel_size=7)
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


@pytest.mark.parametrize("likelihood,num_values,channels,shape", [
    ("categorical", 4, 3, (4, 5)), ("bernoulli", 2, 1, (5, 4)),
    ("logistic_mixture", 4, 3, (3, 5))])
def test_every_step_gives_the_full_networks_params(likelihood, num_values, channels, shape):
    d = model(shape + (channels,), likelihood, num_values, conditional=True, num_layers=3)
    checks.assert_steps_give_network_params(d, RowLSTMSampler)
