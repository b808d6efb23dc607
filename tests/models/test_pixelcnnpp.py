"""PixelCNN++: normalization, causality with no blind spot, sampling and seeds (DESIGN's
four properties) for 1 and 3 channels, conditioned and not, with and without weight
normalization; dropout; persistence; bad construction."""

import numpy as np
import pytest
import tensorflow as tf

import keras

import checks
import tfar
from tfar.models.pixelcnnpp import PixelCNNPlusPlusNetwork

SMALL = dict(num_resnet=1, num_hierarchies=2, num_filters=6, num_mixtures=2, dropout=0.0)
CASES = [((2, 2, 1), 3, "logistic_mixture"), ((2, 2, 1), 3, "categorical"),
         ((2, 2, 3), 2, "logistic_mixture")]


@pytest.mark.parametrize("shape,num_values,likelihood", CASES,
                         ids=[f"{s[-1]}ch-{v}-{h}" for s, v, h in CASES])
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_normalized(shape, num_values, likelihood, conditional):
    d = tfar.PixelCNNPlusPlus(image_shape=shape, num_values=num_values, likelihood=likelihood,
                              conditional_shape=(3,) if conditional else None, **SMALL)
    checks.randomize_weights(d, scale=0.3)
    checks.assert_normalized(d, checks.condition_for(d))


def test_weight_normalized_is_normalized_and_causal():
    d = tfar.PixelCNNPlusPlus(image_shape=(2, 2, 3), num_values=2, conditional_shape=(3,),
                              weight_norm=True, **SMALL)
    checks.randomize_weights(d, scale=0.5)
    checks.assert_normalized(d, checks.condition_for(d))
    d = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 3), num_values=4, num_resnet=1,
                              num_hierarchies=3, num_filters=6, num_mixtures=2, dropout=0.0,
                              conditional_shape=(2,), weight_norm=True)
    checks.randomize_weights(d, scale=0.3)
    checks.assert_image_causal(d, no_blind_spot=True)


def test_initialize_from_data_standardizes_the_params():
    """Weight normalization's data-dependent initialization: afterwards every mixture
    parameter has zero mean and unit variance over the batch's pixels (the output layer
    was initialized last, on its normalized inputs); a model without weight
    normalization is left as it was."""
    d = tfar.PixelCNNPlusPlus(image_shape=(8, 8, 3), num_values=256, num_resnet=1,
                              num_hierarchies=2, num_filters=8, num_mixtures=2,
                              dropout=0.5, weight_norm=True)
    assert d.data_dependent_init
    x = tf.random.stateless_uniform([16, 8, 8, 3], seed=(1, 2), maxval=256, dtype=tf.int32)
    d.initialize_from_data(x)
    params = d.network(tf.reshape(tf.cast(x, tf.float32), [16, -1]))[0].numpy()
    params = params.reshape(-1, params.shape[-1])                      # [B·H·W, P]
    np.testing.assert_allclose(params.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(params.std(axis=0), 1.0, rtol=1e-3)
    plain = tfar.PixelCNNPlusPlus(image_shape=(8, 8, 3), num_values=256, weight_norm=False,
                                  **SMALL)
    before = [v.numpy() for v in plain.variables]
    assert not plain.data_dependent_init
    plain.initialize_from_data(x)
    for old, new in zip(before, plain.variables):
        np.testing.assert_array_equal(old, new.numpy())


@pytest.mark.parametrize("shape,hierarchies", [((4, 4, 1), 2), ((4, 4, 3), 2), ((4, 4, 3), 3)],
                         ids=["4x4x1", "4x4x3", "4x4x3-3levels"])
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_causal_without_blind_spot(shape, hierarchies, conditional):
    """Every output depends on every earlier pixel and on no later one (its own included),
    through every resolution (gradients exactly zero to the future). (On a wider image
    one block per level does not reach every earlier pixel: a receptive field's limit,
    not a blind spot.)"""
    d = tfar.PixelCNNPlusPlus(image_shape=shape, num_values=4, num_resnet=1,
                              num_hierarchies=hierarchies, num_filters=6, num_mixtures=2,
                              dropout=0.0, conditional_shape=(2,) if conditional else None)
    checks.randomize_weights(d, scale=0.3)
    checks.assert_image_causal(d, no_blind_spot=True)


@pytest.mark.parametrize("shape,num_values", [((2, 2, 1), 3), ((1, 2, 3), 2)],
                         ids=["1ch", "3ch"])
def test_samples_match_log_prob_and_follow_the_seed(shape, num_values):
    d = tfar.PixelCNNPlusPlus(image_shape=shape, num_values=num_values, num_resnet=1,
                              num_hierarchies=1, num_filters=6, num_mixtures=2, dropout=0.0)
    checks.train_a_few_steps(d, steps=30)
    checks.assert_samples_match(d, num_samples=20000)
    checks.assert_seeded(d)


def test_conditional_samples_follow_the_condition():
    d = tfar.PixelCNNPlusPlus(image_shape=(2, 2, 1), num_values=2, conditional_shape=(2,),
                              **SMALL)
    checks.randomize_weights(d, scale=0.5)
    one, other = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    checks.assert_samples_match(d, num_samples=8000, conditional_input=one)
    checks.assert_seeded(d, conditional_input=np.stack([one, other] * 4))


def test_dropout_is_active_in_training_only_and_follows_the_seed():
    d = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 3), num_values=4, num_resnet=1,
                              num_hierarchies=2, num_filters=6, num_mixtures=2, dropout=0.5)
    x = checks.example_events(d, count=4)
    one = float(d.training_terms(x, seed=(1, 2))["loss"])
    assert one == float(d.training_terms(x, seed=(1, 2))["loss"])
    assert one != float(d.training_terms(x, seed=(1, 3))["loss"])
    np.testing.assert_array_equal(d.log_prob(x).numpy(), d.log_prob(x).numpy())
    assert float(-tf.reduce_mean(d.log_prob(x))) != one


@pytest.mark.parametrize("weight_norm", [False, True], ids=["plain", "weight_norm"])
def test_network_config_and_keras_file_round_trip(tmp_path, weight_norm):
    d = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 3), num_values=4, conditional_shape=(2,),
                              weight_norm=weight_norm, **SMALL)
    checks.randomize_weights(d, scale=0.3)
    checks.assert_network_config_round_trip(d, PixelCNNPlusPlusNetwork)
    path = str(tmp_path / "network.keras")
    d.network.save(path)
    loaded = keras.models.load_model(path)
    assert len(loaded.weights) == len(d.network.weights)
    twin = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 3), num_values=4, conditional_shape=(2,),
                                 weight_norm=weight_norm, network=loaded, **SMALL)
    x, c = checks.example_events(d), checks.condition_for(d)
    np.testing.assert_array_equal(twin.log_prob(x, conditional_input=c).numpy(),
                                  d.log_prob(x, conditional_input=c).numpy())


@pytest.mark.parametrize("weight_norm", [False, True], ids=["plain", "weight_norm"])
def test_checkpoint_holds_every_variable(tmp_path, weight_norm):
    d = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 1), num_values=4, weight_norm=weight_norm,
                              **SMALL)
    checks.randomize_weights(d, scale=0.3)
    path = tf.train.Checkpoint(network=d.network).save(str(tmp_path / "ckpt"))
    saved = [n for n, _ in tf.train.list_variables(path) if "network/" in n]
    assert len(saved) == len(d.network.variables)
    twin = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 1), num_values=4, weight_norm=weight_norm,
                                 **SMALL)
    x = checks.example_events(d)
    assert not np.allclose(twin.log_prob(x), d.log_prob(x))
    tf.train.Checkpoint(network=twin.network).restore(path).assert_consumed()
    np.testing.assert_array_equal(twin.log_prob(x).numpy(), d.log_prob(x).numpy())


def test_bad_construction():
    with pytest.raises(ValueError, match="channel masks.*logistic_mixture"):
        tfar.PixelCNNPlusPlus(image_shape=(4, 4, 3), num_values=4, likelihood="categorical",
                              **SMALL)
    with pytest.raises(ValueError, match="divisible by 4"):
        tfar.PixelCNNPlusPlus(image_shape=(6, 6, 3), num_values=4, num_hierarchies=3)
    with pytest.raises(ValueError, match="dropout"):
        tfar.PixelCNNPlusPlus(image_shape=(4, 4, 1), num_values=4, dropout=1.0)


def test_registry_builds_it():
    d = tfar.registry.build("pixelcnnpp", (8, 8, 3), 256, seed=0, num_resnet=1,
                            num_filters=8)
    assert isinstance(d, tfar.PixelCNNPlusPlus) and d.event_shape == (8, 8, 3)
