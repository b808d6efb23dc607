"""PixelRNN's cached samplers (`tfar.sampling.pixelrnn`: Row LSTM, Diagonal BiLSTM): every
step's params are the full network's, and their samples and completions are the naive
sampler's, on non-square images, every head, one or three channels, with and without a
condition (a vector, a class label's embedding), the Diagonal BiLSTM with and without
`full_past`."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.sampling.pixelrnn import DiagonalBiLSTMSampler, RowLSTMSampler

HEADS = [("bernoulli", 2), ("categorical", 4), ("logistic_mixture", 4)]
SAMPLERS = {"row_lstm": RowLSTMSampler, "diagonal_bilstm": DiagonalBiLSTMSampler}


def model(image_shape, likelihood="categorical", num_values=4, conditional=False,
          first_kernel_size=3, num_layers=2, cell="row_lstm", **options):
    d = tfar.PixelRNN(image_shape=image_shape, num_values=num_values, cell=cell,
                      likelihood=likelihood, num_mixtures=2, num_layers=num_layers,
                      hidden_units=6, first_kernel_size=first_kernel_size,
                      conditional_shape=(2,) if conditional else None, **options)
    checks.randomize_weights(d)
    return d


def test_cached_is_the_default_of_both_cells():
    for cell, sampler in SAMPLERS.items():
        d = model((3, 4, 1), cell=cell)
        assert d.sampling_methods == ("naive", "cached")
        assert isinstance(d._make_sampler("cached", None, None), sampler)
    with pytest.raises(ValueError, match="Row LSTM"):
        RowLSTMSampler(model((2, 2, 1), cell="diagonal_bilstm").network, None, None)
    with pytest.raises(ValueError, match="Diagonal BiLSTM"):
        DiagonalBiLSTMSampler(model((2, 2, 1)).network, None, None)


@pytest.mark.parametrize("likelihood,num_values", HEADS, ids=[h for h, _ in HEADS])
@pytest.mark.parametrize("channels,conditional", [(1, False), (3, True)],
                         ids=["1-unconditional", "3-conditional"])
def test_row_lstm_cached_samples_and_completions_equal_naive(channels, likelihood, num_values,
                                                             conditional):
    # Every head, with 1 and with 3 channel groups, with and without a condition (the
    # layers the condition and the groups reach are tested apart in the models' tests);
    # tall and wide images, 3×3 and 5×5 input layers, 2 and 3 LSTM layers.
    tall = likelihood != "categorical"
    d = model((4, 3, channels) if tall else (3, 4, channels), likelihood, num_values,
              conditional, first_kernel_size=5 if likelihood != "categorical" else 3,
              num_layers=3 if tall else 2)
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


@pytest.mark.parametrize("likelihood,num_values", HEADS, ids=[h for h, _ in HEADS])
@pytest.mark.parametrize("channels,conditional", [
    (1, True), (3, False), pytest.param(1, False, marks=pytest.mark.slow),
    pytest.param(3, True, marks=pytest.mark.slow)], ids=["C1-conditional", "C3", "C1", "C3-conditional"])
def test_diagonal_bilstm_cached_samples_and_completions_equal_naive(
        channels, likelihood, num_values, conditional):
    # Every head × 1 and 3 channel groups × with and without a vector condition; tall and
    # wide images, 3×3 and 5×5 input layers, 2 and 3 layers (the first one's right-to-left
    # stream also reads the image: full_past, the default). The tall, 3-layer half runs in
    # the slow tier.
    tall = (channels == 1) != conditional
    d = model((4, 3, channels) if tall else (3, 4, channels), likelihood, num_values,
              conditional, first_kernel_size=5 if likelihood != "categorical" else 3,
              num_layers=3 if tall else 2, cell="diagonal_bilstm")
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


@pytest.mark.parametrize("cell", list(SAMPLERS))
def test_cached_equals_naive_with_the_papers_7x7_input_layer(cell):
    d = model((5, 6, 1), "bernoulli", 2, conditional=True, first_kernel_size=7, cell=cell)
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


@pytest.mark.slow  # 25 s
def test_diagonal_bilstm_papers_network_and_a_class_label():
    """`full_past=False` (no image term), and a learned class embedding: the sampler
    gets the condition's features, encoded once per call."""
    d = model((4, 5, 3), "categorical", 3, first_kernel_size=3, num_layers=2,
              cell="diagonal_bilstm", full_past=False,
              conditioning=tfar.conditioning.ClassLabel(3, embedding_dim=2))
    assert not d.network.full_past
    checks.assert_cached_equals_naive(d, conditional_input=checks.random_conditions(d, 6))


@pytest.mark.parametrize("likelihood,num_values,channels,shape", [
    ("categorical", 4, 3, (4, 5)), ("bernoulli", 2, 1, (5, 4)),
    ("logistic_mixture", 4, 3, (3, 5))])
@pytest.mark.parametrize("cell", list(SAMPLERS))
def test_every_step_gives_the_full_networks_params(cell, likelihood, num_values, channels,
                                                   shape):
    d = model(shape + (channels,), likelihood, num_values, conditional=True, num_layers=3,
              cell=cell)
    checks.assert_steps_give_network_params(d, SAMPLERS[cell])


@pytest.mark.parametrize("shape", [(1, 4, 3), (4, 1, 1), (1, 1, 3)], ids=str)
def test_diagonal_bilstm_steps_on_a_single_row_or_column(shape):
    d = model(shape, "categorical", 4, conditional=True, num_layers=2, cell="diagonal_bilstm")
    checks.assert_steps_give_network_params(d, DiagonalBiLSTMSampler)


def test_diagonal_bilstm_traced_once_with_an_unknown_batch_size():
    d = model((3, 4, 3), "categorical", 4, conditional=True, cell="diagonal_bilstm")
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
        naive = d.complete(x, observed, seed=(4, 5), conditional_input=c, method="naive").numpy()
        np.testing.assert_array_equal(traced, naive)
        np.testing.assert_array_equal(traced[observed], x.numpy()[observed])
    assert complete.experimental_get_tracing_count() == 1
