"""PixelCNN and Gated PixelCNN: normalization, causality (and the blind spot), sampling,
conditioning, bad input, config round trip."""

import numpy as np
import pytest

import checks
import tfar
from tfar.models.gated_pixelcnn import GatedPixelCNNNetwork
from tfar.models.pixelcnn import PixelCNNNetwork

MODELS = [tfar.PixelCNN, tfar.GatedPixelCNN]
SMALL = dict(num_layers=2, num_filters=6, first_kernel_size=3)
HEADS = [("categorical", 4, 1), ("categorical", 2, 3), ("bernoulli", 2, 1), ("bernoulli", 2, 3),
         ("logistic_mixture", 4, 1), ("logistic_mixture", 2, 3)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("likelihood,num_values,channels", HEADS,
                         ids=[f"{h}-{v}values-{c}channels" for h, v, c in HEADS])
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_normalized(model, likelihood, num_values, channels, conditional):
    d = model(image_shape=(2, 2, channels), num_values=num_values, likelihood=likelihood,
              num_mixtures=2, conditional_shape=(3,) if conditional else None, **SMALL)
    checks.assert_normalized(d, checks.condition_for(d))


def test_normalized_with_a_spatial_condition():
    d = tfar.GatedPixelCNN(image_shape=(2, 2, 1), num_values=3,
                           spatial_conditional_shape=(1, 1, 2), **SMALL)
    checks.assert_normalized(d, np.array([[[0.5, -2.0]]], np.float32))


@pytest.mark.parametrize("likelihood,num_values", [("categorical", 4), ("logistic_mixture", 4)])
@pytest.mark.parametrize("shape", [(5, 5, 1), (4, 4, 3)], ids=["5x5x1", "4x4x3"])
def test_gated_causal_without_blind_spot(shape, likelihood, num_values):
    # Four layers reach every earlier pixel of these images: none may be missed.
    d = tfar.GatedPixelCNN(image_shape=shape, num_values=num_values, likelihood=likelihood,
                           num_layers=4, num_filters=6, first_kernel_size=3,
                           conditional_shape=(2,))
    checks.assert_image_causal(d, no_blind_spot=True)


@pytest.mark.parametrize("shape", [(5, 5, 1), (4, 4, 3)], ids=["5x5x1", "4x4x3"])
def test_pixelcnn_causal_with_its_blind_spot(shape):
    d = tfar.PixelCNN(image_shape=shape, num_values=4, num_layers=4, num_filters=6,
                      first_kernel_size=3)
    jac = checks.assert_image_causal(d, no_blind_spot=False)
    channels = shape[-1]
    # PixelRNN §3.4 / Gated PixelCNN §2.1: stacked 3×3 masks never reach the pixels above
    # and to the right beyond the first row: pixel (1, 0) does not see (0, 2).
    own, above_right = (1 * shape[1] + 0) * channels, (0 * shape[1] + 2) * channels
    assert np.all(jac[own, above_right:above_right + channels] == 0.0)
    # …although it is earlier in the raster order and the gated model sees it.
    gated = tfar.GatedPixelCNN(image_shape=shape, num_values=4, num_layers=4, num_filters=6,
                               first_kernel_size=3)
    assert np.all(checks.image_step_jacobian(gated)[own, above_right:above_right + channels] > 0.0)


def test_spatial_condition_does_not_leak():
    d = tfar.GatedPixelCNN(image_shape=(4, 4, 1), num_values=4, num_layers=4, num_filters=6,
                           first_kernel_size=3, spatial_conditional_shape=(2, 2, 3))
    checks.assert_image_causal(d, no_blind_spot=True)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("likelihood,num_values,channels",
                         [("categorical", 3, 1), ("logistic_mixture", 2, 3)])
def test_samples_match_log_prob(model, likelihood, num_values, channels):
    d = model(image_shape=(2, 2, channels) if channels == 1 else (1, 2, channels),
              num_values=num_values, likelihood=likelihood, num_mixtures=2, **SMALL)
    checks.train_a_few_steps(d, steps=30)
    checks.assert_samples_match(d, num_samples=20000)
    checks.assert_seeded(d)


def test_conditional_samples_follow_the_condition():
    d = tfar.GatedPixelCNN(image_shape=(2, 2, 1), num_values=2, conditional_shape=(2,), **SMALL)
    one, other = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    checks.assert_samples_match(d, num_samples=8000, conditional_input=one)
    checks.assert_seeded(d, conditional_input=np.stack([one, other] * 16))


@pytest.mark.parametrize("network_class,model", [(PixelCNNNetwork, tfar.PixelCNN),
                                                 (GatedPixelCNNNetwork, tfar.GatedPixelCNN)])
def test_network_config_round_trip(network_class, model):
    d = model(image_shape=(3, 3, 3), num_values=4, conditional_shape=(2,), **SMALL)
    checks.assert_network_config_round_trip(d, network_class)


@pytest.mark.parametrize("model,condition", [
    (tfar.PixelCNN, dict(conditional_shape=(2,))), (tfar.GatedPixelCNN, {}),
    (tfar.GatedPixelCNN, dict(conditional_shape=(2,))),
    (tfar.GatedPixelCNN, dict(spatial_conditional_shape=(1, 1, 2)))],
    ids=["PixelCNN-conditional", "Gated", "Gated-conditional", "Gated-spatial"])
def test_keras_save_and_load(tmp_path, model, condition):
    """A `.keras` file restores every weight, the conditional ones included."""
    import keras
    d = model(image_shape=(2, 2, 1), num_values=4, **condition, **SMALL)
    path = str(tmp_path / "network.keras")
    d.network.save(path)
    loaded = keras.models.load_model(path)
    assert len(loaded.weights) == len(d.network.weights)
    twin = model(image_shape=(2, 2, 1), num_values=4, network=loaded, **condition, **SMALL)
    x = checks.all_configurations(d)
    c = checks.condition_for(d)
    np.testing.assert_array_equal(twin.log_prob(x, conditional_input=c).numpy(),
                                  d.log_prob(x, conditional_input=c).numpy())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_bad_construction(model):
    with pytest.raises(ValueError, match="odd"):
        model(image_shape=(4, 4, 1), num_values=2, kernel_size=4, num_layers=2, num_filters=6)
    with pytest.raises(ValueError, match="num_values=2"):
        model(image_shape=(4, 4, 1), num_values=4, likelihood="bernoulli", **SMALL)
    with pytest.raises(ValueError, match=r"num_filters=4 must be a multiple of the 3 channel "
                                         r"groups .* e\.g\. num_filters=3\."):
        model(image_shape=(4, 4, 3), num_values=4, num_layers=2, num_filters=4)
    with pytest.raises(ValueError, match="height, width, channels"):
        model(image_shape=(16,), num_values=2, **SMALL)
    d = model(image_shape=(2, 2, 1), num_values=2, conditional_shape=(3,), **SMALL)
    with pytest.raises(ValueError, match="conditional"):
        d.log_prob(np.zeros([1, 2, 2, 1], np.float32), conditional_input=np.zeros([1, 4]))


def test_gated_bad_conditions():
    with pytest.raises(ValueError, match=r"at most one of .*got \['conditional_shape', "
                                         r"'spatial_conditional_shape'\]"):
        tfar.GatedPixelCNN(image_shape=(4, 4, 1), num_values=2, conditional_shape=(3,),
                           spatial_conditional_shape=(2, 2, 1), **SMALL)
    with pytest.raises(ValueError, match="must divide"):
        tfar.GatedPixelCNN(image_shape=(4, 4, 1), num_values=2,
                           spatial_conditional_shape=(3, 3, 1), **SMALL)


@pytest.mark.parametrize("model", ["PixelCNN", "PixelRNN"])
def test_dropout_is_active_in_training_steps_only(model, tmp_path):
    """With dropout, `training_terms` (the trainer's objective) runs the network in
    training mode, its masks drawn from the seed; log_prob, sampling, completion, the
    trainer's evaluation and the export run it without dropout: they equal a twin with
    dropout 0 and the same weights."""
    import tensorflow as tf
    import tfar.export
    options = (dict(SMALL, num_filters=4) if model == "PixelCNN" else
               dict(num_layers=2, hidden_units=4, first_kernel_size=3))
    options.update(image_shape=(2, 3, 1), num_values=2, likelihood="bernoulli")
    d = getattr(tfar, model)(dropout=0.5, **options)
    twin = getattr(tfar, model)(dropout=0.0, **options)
    checks.randomize_weights(d)
    twin.network.set_weights(d.network.get_weights())
    x = checks.all_configurations(d)
    exact = twin.log_prob(x).numpy()
    np.testing.assert_allclose(d.log_prob(x), exact, rtol=1e-6)
    checks.assert_normalized(d)
    np.testing.assert_array_equal(d.sample(5, seed=(1, 2)), twin.sample(5, seed=(1, 2)))
    np.testing.assert_array_equal(d.sample(5, seed=(1, 2), method="naive"),
                                  twin.sample(5, seed=(1, 2), method="naive"))
    mask = np.zeros(x.shape, bool)
    mask[:, 0] = True
    np.testing.assert_array_equal(d.complete(x, mask, seed=(3, 4)),
                                  twin.complete(x, mask, seed=(3, 4)))
    assert d.evaluation_log_prob(x).numpy() == pytest.approx(exact, rel=1e-6)
    # Training: dropped features, a function of the seed.
    loss = float(d.training_terms(x, seed=(5, 6))["loss"])
    assert loss != pytest.approx(-exact.mean(), rel=1e-3)
    assert float(d.training_terms(x, seed=(5, 6))["loss"]) == loss
    assert float(d.training_terms(x, seed=(5, 7))["loss"]) != loss
    assert float(twin.training_terms(x, seed=(5, 6))["loss"]) == pytest.approx(-exact.mean(),
                                                                                rel=1e-6)
    loaded = tf.saved_model.load(tfar.export.export(d, str(tmp_path / "export")))
    np.testing.assert_allclose(loaded.log_prob(tf.constant(x))["log_prob"], exact, rtol=1e-5)
    assert d.network.get_config()["dropout"] == 0.5
