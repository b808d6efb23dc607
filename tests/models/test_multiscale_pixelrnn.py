"""The Multi-Scale PixelRNN (PixelRNN paper §3.5; issue 19): normalized, causal in its
schedule (the small image, then the rest in raster order), samples that follow log_prob,
its cached sampler equal to the naive loop, super-resolution, conditions, round trips."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar import registry
from tfar.models.multiscale_pixelrnn import MultiscalePixelRNNNetwork

SMALL = dict(base_layers=1, base_hidden_units=6, num_layers=2, hidden_units=6,
             first_kernel_size=3, context_layers=1, context_filters=4)
CASES = {  # name: (image_shape, num_values, likelihood, base_size, cell)
    "4x4x1-bernoulli-base2-diagonal": ((4, 4, 1), 2, "bernoulli", 2, "diagonal_bilstm"),
    "4x4x1-bernoulli-base2-row": ((4, 4, 1), 2, "bernoulli", 2, "row_lstm"),
    "4x4x1-bernoulli-base1-diagonal": ((4, 4, 1), 2, "bernoulli", 1, "diagonal_bilstm"),
    "2x4x1-bernoulli-base1x2-diagonal": ((2, 4, 1), 2, "bernoulli", (1, 2), "diagonal_bilstm"),
    "3x3x1-categorical3-base1-row": ((3, 3, 1), 3, "categorical", 1, "row_lstm"),
    "2x2x3-categorical2-base1-diagonal": ((2, 2, 3), 2, "categorical", 1, "diagonal_bilstm"),
    "2x2x3-mixture2-base1-row": ((2, 2, 3), 2, "logistic_mixture", 1, "row_lstm"),
    "2x2x1-mixture4-base1-diagonal": ((2, 2, 1), 4, "logistic_mixture", 1, "diagonal_bilstm"),
}


# The default suite runs one case per head and cell; the slow tier (`-m slow`) the rest.
DEFAULT_CASES = ("4x4x1-bernoulli-base2-row", "2x2x3-categorical2-base1-diagonal",
                 "2x2x3-mixture2-base1-row", "2x2x1-mixture4-base1-diagonal")
SAMPLER_CASES = [name if name in DEFAULT_CASES else pytest.param(name, marks=pytest.mark.slow)
                 for name in sorted(CASES)]


def build(name, **options):
    shape, num_values, likelihood, base, cell = CASES[name]
    d = tfar.MultiscalePixelRNN(image_shape=shape, num_values=num_values, base_size=base,
                                cell=cell, likelihood=likelihood, num_mixtures=2,
                                **SMALL, **options)
    checks.randomize_weights(d)
    return d


@pytest.mark.parametrize("conditional", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_normalized(name, conditional):   # with a condition: test_conditions_… and slow
    d = build(name, conditional_shape=(2,) if conditional else None)
    checks.assert_normalized(d, checks.condition_for(d))


@pytest.mark.parametrize("name", sorted(CASES))
def test_causal_in_its_schedule(name):
    """No unit's params depend on a dim its own step or a later step writes (the small
    image first, then the rest in raster order); with the Diagonal BiLSTM (full past)
    each depends on every earlier dim: the small image whole (the base's raster past, or
    the upsampled context) and the raster past."""
    d = build(name, conditional_shape=(2,))
    jac = checks.image_step_jacobian(d)                              # [U, D]
    steps = np.zeros(d.schedule.num_units, int)
    for s, units in enumerate(d.schedule.units[0]):
        steps[units[units >= 0]] = s
    dim_steps = np.repeat(steps, d.likelihood.values_per_unit)
    assert sorted(steps) == list(range(d.schedule.num_steps))          # one unit per step
    for u in range(jac.shape[0]):
        later = dim_steps >= steps[u]
        assert np.all(jac[u, later] == 0), (u, np.flatnonzero(jac[u, later] != 0))
        if d.network.cell == "diagonal_bilstm":
            assert np.all(jac[u, ~later] > 0), (u, np.flatnonzero(~later & (jac[u] == 0)))


@pytest.mark.parametrize("name", SAMPLER_CASES)
def test_cached_sampler_equals_the_naive_loop(name):
    d = build(name, conditional_shape=(2,))
    c = checks.random_conditions(d, 6)
    checks.assert_cached_equals_naive(d, num_samples=6, conditional_input=c)
    checks.assert_seeded(d, conditional_input=c[:2])


@pytest.mark.slow  # 20 s
def test_cached_sampler_on_a_larger_image():
    """Several rows of small-image pixels passed through the conditional sampler."""
    d = tfar.MultiscalePixelRNN(image_shape=(6, 4, 1), num_values=2, base_size=(3, 2),
                                **SMALL)
    checks.randomize_weights(d)
    checks.assert_cached_equals_naive(d, num_samples=3)


@pytest.mark.slow  # 20,000 samples
def test_samples_follow_log_prob():
    d = build("4x4x1-bernoulli-base2-diagonal")
    checks.train_a_few_steps(d, steps=20)
    checks.assert_samples_match(d, num_samples=20000)


def test_super_resolution_completes_the_small_image():
    d = build("4x4x1-bernoulli-base2-row")
    small = np.random.default_rng(0).integers(0, 2, (5, 2, 2, 1)).astype(np.float32)
    x = np.zeros((5, 4, 4, 1), np.float32)
    x[:, ::2, ::2] = small
    mask = np.broadcast_to(d.base_mask(), x.shape)
    big = d.complete(x, mask, seed=(3, 4)).numpy()
    np.testing.assert_array_equal(big[:, ::2, ::2], small)
    np.testing.assert_array_equal(big, d.complete(x, mask, seed=(3, 4), method="naive"))
    assert d.base_mask().sum() == 4


def test_conditions_class_labels_and_captions():
    for options in (dict(conditioning=tfar.conditioning.ClassLabel(3)),
                    dict(text_encoder=checks.caption_encoder())):
        d = build("2x4x1-bernoulli-base1x2-diagonal", **options)
        conditions = checks.random_conditions(d, 2)
        x = checks.all_configurations(d)
        log_probs = [d.log_prob(x, conditional_input=c).numpy() for c in conditions]
        for c in conditions:
            checks.assert_normalized(d, conditional_input=c)
        if not np.array_equal(conditions[0], conditions[1]):
            assert np.max(np.abs(log_probs[0] - log_probs[1])) > 1e-3
        checks.assert_cached_equals_naive(d, num_samples=2, conditional_input=conditions)


def test_network_config_keras_file_and_registry(tmp_path):
    import keras
    d = build("2x2x3-categorical2-base1-diagonal", conditional_shape=(2,))
    checks.assert_network_config_round_trip(d, MultiscalePixelRNNNetwork)
    path = str(tmp_path / "network.keras")
    d.network.save(path)
    twin = tfar.MultiscalePixelRNN(image_shape=(2, 2, 3), num_values=2, base_size=1,
                                   conditional_shape=(2,), likelihood="categorical",
                                   network=keras.models.load_model(path), **SMALL)
    x = checks.all_configurations(d)[:32]
    c = checks.condition_for(d)
    np.testing.assert_array_equal(twin.log_prob(x, conditional_input=c),
                                  d.log_prob(x, conditional_input=c))
    built = registry.build("multiscale_pixelrnn", (8, 8, 1), 2, base_size=4, **SMALL)
    assert isinstance(built, tfar.MultiscalePixelRNN) and built.base_size == (4, 4)


def test_dropout_in_training_only():
    d = tfar.MultiscalePixelRNN(image_shape=(4, 4, 1), base_size=2, dropout=0.5, **SMALL)
    x = tf.zeros([2, 16])
    eval_params = d.network(x)
    np.testing.assert_array_equal(eval_params, d.network(x))
    a = d.network(x, training=True, seed=tf.constant([1, 2]))
    b = d.network(x, training=True, seed=tf.constant([1, 2]))
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - eval_params)) > 0


def test_bad_construction():
    for shape, base in (((12, 8, 1), 4), ((4, 4, 1), 4), ((6, 6, 1), 4)):
        with pytest.raises(ValueError, match="integer factor f >= 2"):
            tfar.MultiscalePixelRNN(image_shape=shape, base_size=base, **SMALL)
    with pytest.raises(ValueError, match="takes a vector condition"):
        tfar.MultiscalePixelRNN(image_shape=(4, 4, 1), base_size=2,
                                conditioning=tfar.conditioning.SpatialMap((2, 2, 1)), **SMALL)
    with pytest.raises(ValueError, match="full_past=True applies to the Diagonal BiLSTM"):
        tfar.MultiscalePixelRNN(image_shape=(4, 4, 1), base_size=2, cell="row_lstm",
                                full_past=True, **SMALL)
