"""GMMN: seeded samples in [0, 1], the loss is the MMD² it names, a short training run
matches a 2-D distribution's moments, no log_prob, persistence and bad input."""

import numpy as np
import pytest
import tensorflow as tf

import keras

import tfar
from tfar import metrics

SMALL = {
    "dense": dict(event_shape=(4, 4, 1), hidden_units=(8, 16)),
    "conv": dict(event_shape=(4, 4, 1), generator="conv", num_filters=3, num_upsamplings=1),
    "autoencoder": dict(event_shape=(4, 4, 1), hidden_units=(8,), autoencoder=True,
                        code_size=3, autoencoder_units=(10,)),
}


def build(name, **options):
    keras.utils.set_random_seed(0)
    return tfar.GMMN(latent_dim=3, data_num_values=5, **SMALL[name], **options)


def data(n=12, seed=0):
    return tf.constant(np.random.default_rng(seed).integers(0, 5, (n, 4, 4, 1)), tf.float32)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_seeded_samples_reproduce_and_lie_in_the_unit_interval(name):
    d = build(name)
    s = d.sample(7, seed=(1, 2)).numpy()
    assert s.shape == (7, 4, 4, 1) and s.dtype == np.float32
    assert s.min() >= 0 and s.max() <= 1
    np.testing.assert_array_equal(s, d.sample(7, seed=(1, 2)).numpy())
    in_graph = tf.function(lambda: d.sample(7, seed=(1, 2)))().numpy()
    np.testing.assert_allclose(in_graph, s, rtol=0, atol=1e-6)  # the same draw, fused ops
    assert not np.array_equal(s, d.sample(7, seed=(1, 3)).numpy())


@pytest.mark.parametrize("name", ["dense", "conv"])
def test_the_loss_is_the_mmd2_of_its_samples_and_the_data(name):
    d = build(name)
    x, seed = data(), tf.constant([3, 4], tf.int32)
    terms = d.training_terms(x, seed=seed)
    noise = 2.0 * tf.random.stateless_uniform([12, 3], seed) - 1.0
    samples = d.network(noise)
    expected = metrics.mmd2(samples, x / 4.0, d.bandwidths)
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert float(terms["mmd2"]) == float(terms["loss"])
    with tf.GradientTape() as tape:
        loss = d.training_loss(x, seed=seed)
    gradients = tape.gradient(loss, d.trainable_variables)
    assert all(g is not None and np.all(np.isfinite(g)) for g in gradients)


def test_autoencoder_terms_add_the_reconstruction():
    d = build("autoencoder")
    terms = {k: float(v) for k, v in d.training_terms(data(), seed=(3, 4)).items()}
    assert terms["loss"] == pytest.approx(terms["mmd2"] + terms["reconstruction"], rel=1e-6)
    assert 0 < terms["reconstruction"] < 16 * np.log(2) * 2
    with tf.GradientTape() as tape:
        loss = d.training_terms(data(), seed=(3, 4))["mmd2"]
    encoder = [v for v in d.network.trainable_variables if "encoder" in v.path or
               "code" in v.path]
    assert encoder and all(g is None for g in tape.gradient(loss, encoder))  # codes held fixed


def test_a_short_run_matches_a_2d_distribution_s_moments():
    """600 steps of batch 256 on (x, y): x ~ 0.3 + 0.05·N(0, 1), y = x + 0.4 + 0.1·N(0, 1):
    the samples' means within 0.02, standard deviations within 0.02 and correlation
    within 0.15 of the data's (2,000 samples)."""
    keras.utils.set_random_seed(0)
    d = tfar.GMMN(event_shape=(2,), latent_dim=2, hidden_units=(32, 32),
                  bandwidths=(0.05, 0.1, 0.2, 0.5))
    rng = np.random.default_rng(0)

    def batch(n):
        x = 0.3 + 0.05 * rng.normal(size=n)
        return np.stack([x, x + 0.4 + 0.1 * rng.normal(size=n)], 1).astype(np.float32)

    optimizer = keras.optimizers.Adam(3e-3)

    @tf.function
    def step(x, seed):
        with tf.GradientTape() as tape:
            loss = d.training_loss(x, seed=seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, d.trainable_variables),
                                      d.network.trainable_variables))
        return loss

    for i in range(600):
        step(tf.constant(batch(256)), tf.constant([0, i], tf.int32))
    samples, target = d.sample(2000, seed=(5, 6)).numpy(), batch(2000)
    np.testing.assert_allclose(samples.mean(0), target.mean(0), atol=0.02)
    np.testing.assert_allclose(samples.std(0), target.std(0), atol=0.02)
    assert abs(np.corrcoef(samples.T)[0, 1] - np.corrcoef(target.T)[0, 1]) < 0.15


def test_log_prob_is_a_clear_error():
    d = build("dense")
    with pytest.raises(NotImplementedError, match="no tractable density.*tfar.metrics.mmd2"):
        d.log_prob(data())
    assert not d.has_likelihood and tfar.MADE(event_shape=(3,)).has_likelihood


@pytest.mark.parametrize("name", sorted(SMALL))
def test_checkpoint_and_keras_file_restore_the_samples(name, tmp_path):
    d = build(name)
    expected = d.sample(5, seed=(1, 2)).numpy()
    path = tf.train.Checkpoint(network=d.network).save(str(tmp_path / "ckpt"))
    keras.utils.set_random_seed(1)
    twin = tfar.GMMN(latent_dim=3, data_num_values=5, **SMALL[name])
    assert not np.array_equal(twin.sample(5, seed=(1, 2)), expected)
    tf.train.Checkpoint(network=twin.network).restore(path).assert_consumed()
    np.testing.assert_array_equal(twin.sample(5, seed=(1, 2)).numpy(), expected)
    d.network.save(tmp_path / "gmmn.keras")
    loaded = keras.saving.load_model(tmp_path / "gmmn.keras")
    again = tfar.GMMN(latent_dim=3, data_num_values=5, network=loaded, **SMALL[name])
    np.testing.assert_array_equal(again.sample(5, seed=(1, 2)).numpy(), expected)


def test_bad_input_is_named():
    d = build("dense")
    with pytest.raises(tf.errors.InvalidArgumentError, match="values >= 5"):
        d.training_terms(tf.fill([4, 4, 4, 1], 5.0), seed=(1, 2))
    with pytest.raises(ValueError, match="needs a seed"):
        d.training_terms(data())
    with pytest.raises(ValueError, match="divisible by 2\\*\\*num_upsamplings = 4"):
        tfar.GMMN(event_shape=(6, 6, 1), generator="conv")
    with pytest.raises(ValueError, match="generator must be one of"):
        tfar.GMMN(event_shape=(4,), generator="lstm")
    with pytest.raises(ValueError, match="sample shape -1 is not a shape"):
        d.sample(-1, seed=(1, 2))


def test_registry_builds_it_for_integer_data():
    d = tfar.registry.build("gmmn", (8, 8, 1), 17, seed=0, generator="conv")
    assert isinstance(d, tfar.GMMN) and d.data_num_values == 17 and d.num_values is None
