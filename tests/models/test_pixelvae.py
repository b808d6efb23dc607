"""PixelVAE and the PixelCNN auto-encoder: the decoder normalizes and is causal for a
fixed code; every part's variables are trained; ELBO ≈ IWAE(1) < IWAE(64) in mean; IWAE
matches log p(x) by quadrature over a 1-D latent; seeds; bad input; persistence."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import keras
from tfar import registry
from tfar.models import pixelvae
from tfar.training import evaluation
from tfar.models.pixelcnn_autoencoder import PixelCNNAutoEncoder, PixelCNNAutoEncoderNetwork
from tfar.models.pixelvae import PixelVAE, PixelVAENetwork

SMALL = dict(num_layers=2, num_filters=4, first_kernel_size=3, encoder_filters=4,
             hidden_units=8, map_channels=2)
AE_SMALL = dict(num_layers=2, num_filters=4, first_kernel_size=3, encoder_filters=4)


def tiny_vae(num_levels=1, image_shape=(2, 2, 1), num_values=2, latent_dim=2, **options):
    return PixelVAE(image_shape=image_shape, num_values=num_values, latent_dim=latent_dim,
                    num_levels=num_levels, **{**SMALL, **options})


def over_seeds(estimate, images, repeats, salt):
    """estimate(images, seed) [G] for the R = `repeats` seeds (salt, r): the mean over
    repeats and items, and its standard error with the items fixed (the items of one
    repeat share their noise, so it is the spread of the per-repeat means / sqrt(R))."""
    traced = tf.function(lambda seed: estimate(images, seed))
    per_repeat = np.stack([traced(tf.constant([salt, r], tf.int32)).numpy().mean()
                           for r in range(repeats)]).astype(np.float64)          # [R]
    return per_repeat.mean(), per_repeat.std(ddof=1) / np.sqrt(repeats)


# ------------------------------------------------------------------ the decoder p(x | z)

@pytest.mark.parametrize("image_shape,num_values,likelihood,num_levels", [
    ((2, 2, 1), 2, None, 1), ((1, 2, 3), 3, None, 2), ((2, 2, 1), 4, "logistic_mixture", 1)],
    ids=["2x2x1-binary", "1x2x3-3values-2levels", "2x2x1-mixture"])
def test_decoder_normalizes_and_is_causal_for_a_fixed_code(image_shape, num_values, likelihood,
                                                           num_levels):
    vae = tiny_vae(num_levels, image_shape, num_values, likelihood=likelihood, num_mixtures=2,
                   num_filters=6)  # a multiple of the 3 channel groups
    checks.randomize_weights(vae, scale=0.5)
    decoder = vae.decoder_distribution
    events = checks.all_configurations(decoder)
    log_probs = []
    for z in ([0.3, -1.2], [-2.0, 0.7]):
        condition = vae.decode_map(np.array([z], np.float32))
        assert condition.shape == (1,) + vae.network.map_shape
        checks.assert_normalized(decoder, conditional_input=condition)
        log_probs.append(vae.decoder_log_prob(events, np.array(z, np.float32)).numpy())
    assert np.abs(log_probs[0] - log_probs[1]).max() > 1e-3, "p(x | z) ignores z"
    checks.assert_image_causal(decoder, no_blind_spot=True)


# ------------------------------------------------------------------ variables, gradients

@pytest.mark.parametrize("num_levels", [1, 2])
def test_every_part_is_trainable_and_gets_gradients(num_levels):
    vae = tiny_vae(num_levels)
    network = vae.network
    parts = {"encoder": network.encoder, "map_hidden": network.map_hidden,
             "map_conv": network.map_conv, "pixelcnn": network.pixelcnn}
    if num_levels == 2:
        parts.update(top_encoder_hidden=network.top_encoder_hidden,
                     top_encoder_output=network.top_encoder_output,
                     prior_hidden=network.prior_hidden, prior_output=network.prior_output)
    ids = {id(v) for v in vae.trainable_variables}
    assert len(ids) == len(network.trainable_variables)
    assert len(vae.variables) == len(network.variables)
    for name, part in parts.items():
        assert part.trainable_variables, name
        assert {id(v.value) for v in part.trainable_variables} <= ids, f"{name} not in variables"
    x = checks.all_configurations(vae)
    with tf.GradientTape() as tape:
        loss = vae.training_loss(x, seed=(1, 2))
    gradients = tape.gradient(loss, vae.trainable_variables)
    zero = [v.name for v, g in zip(network.trainable_variables, gradients)
            if g is None or not np.any(g.numpy())]
    assert not zero, f"no gradient reaches {zero}"


# ------------------------------------------------------------------ the bounds

@pytest.mark.parametrize("num_levels", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_elbo_below_iwae1_equal_in_mean_below_iwae64(num_levels):
    # Free bits keep the latent in use: a collapsed posterior (KL ≈ 0, q = p(z | x) = p(z))
    # would make every bound equal and the gap below vanish.
    vae = tiny_vae(num_levels, free_bits=1.0)
    checks.train_a_few_steps(vae, steps=20)
    assert float(vae.training_terms(checks.all_configurations(vae), seed=1)["kl"]) > 0.1
    images = checks.all_configurations(vae)                                   # G = 16
    # The images of one seed share their draws, so the single-draw estimates need many
    # seeds for a standard error well below the gap to IWAE(64).
    elbo, se_elbo = over_seeds(lambda x, s: vae.elbo(x, seed=s), images, 400, 1)
    iwae1, se1 = over_seeds(lambda x, s: vae.log_prob(x, num_samples=1, seed=s), images,
                            400, 2)
    iwae64, se64 = over_seeds(lambda x, s: vae.log_prob(x, num_samples=64, seed=s), images,
                              48, 3)
    # ELBO and IWAE(1) estimate the same expectation (independent draws): 4 SE.
    assert abs(elbo - iwae1) < 4 * np.hypot(se_elbo, se1), (elbo, iwae1, se_elbo, se1)
    # IWAE(64) is a tighter bound; with an imperfect q, by more than 4 SE.
    assert iwae64 > iwae1 + 4 * np.hypot(se1, se64), (iwae1, iwae64, se1, se64)
    assert iwae64 > elbo + 4 * np.hypot(se_elbo, se64), (elbo, iwae64)


def test_iwae_converges_to_the_marginal_by_quadrature():
    """log p(x) = log ∫ p(x | z) N(z; 0, 1) dz on a fine grid, for a 1-D latent and every
    2×2 binary image; trained with free bits so that p(x | z) depends on z (by nats)."""
    vae = tiny_vae(latent_dim=1, free_bits=1.0)
    checks.train_a_few_steps(vae, steps=30)
    images = checks.all_configurations(vae)                                   # [16, 2, 2, 1]
    z = np.linspace(-10.0, 10.0, 4001)
    log_px_given_z = vae.decoder_log_prob(images[:, None],
                                          z[None, :, None].astype(np.float32)).numpy()
    assert np.ptp(log_px_given_z, axis=1).mean() > 1.0, "p(x | z) hardly depends on z"
    trapezoid = np.full(z.shape, 20.0 / 4000)
    trapezoid[[0, -1]] /= 2
    log_prior = -0.5 * z ** 2 - 0.5 * np.log(2 * np.pi)
    exact = np.logaddexp.reduce(log_px_given_z + log_prior + np.log(trapezoid), axis=1)  # [16]
    # p(x | z) normalizes for every z, so p(x) does.
    assert abs(np.logaddexp.reduce(exact)) < 1e-4

    # K = 20000. Measured over seeds, the estimate's standard error is 0.002-0.027 nats
    # per image (heavy-tailed weights where q is narrower than p(z | x)), about 0.003 for
    # the mean over the 16 images; the bias, O(1/K), is smaller. Tolerances: ~4-5 SE.
    iwae = vae.log_prob(images, num_samples=20000, seed=(5, 6)).numpy()
    np.testing.assert_allclose(iwae, exact, atol=0.1)
    assert abs(np.mean(iwae - exact)) < 0.015, np.mean(iwae - exact)
    iwae1, se1 = over_seeds(lambda x, s: vae.log_prob(x, num_samples=1, seed=s), images, 32, 7)
    assert iwae1 <= exact.mean() + 4 * se1, (iwae1, exact.mean(), se1)


@pytest.mark.parametrize("num_levels", [1, 2])
def test_an_images_estimates_do_not_depend_on_its_batch(num_levels, monkeypatch):
    """An image's IWAE estimate and ELBO are functions of the image and the seed: the same
    alone and as row 37 of a batch of 64 (TF Serving's request batching, an evaluation's
    batch size). With IMPORTANCE_PIXELS small the batch also changes how the K draws are
    cut into passes (64 images: one draw per pass; one image: all 8 in one pass)."""
    monkeypatch.setattr(pixelvae, "IMPORTANCE_PIXELS", 4 * 4 * 2)
    vae = tiny_vae(num_levels, image_shape=(4, 4, 1), num_importance_samples=8)
    checks.randomize_weights(vae, scale=0.5)
    batch = np.random.default_rng(3).integers(0, 2, (64, 4, 4, 1)).astype(np.float32)
    for estimate in (lambda x: vae.log_prob(x, seed=(4, 5)), lambda x: vae.elbo(x, seed=(6, 7))):
        alone = estimate(batch[37:38]).numpy()
        np.testing.assert_allclose(estimate(batch).numpy()[37:38], alone, rtol=2e-6)
        np.testing.assert_allclose(estimate(batch[30:40]).numpy()[7:8], alone, rtol=2e-6)


def test_two_evaluations_give_the_same_figure():
    """The trainer's test figure (`tfar.training.evaluation.evaluate`, seeded by
    config.eval.seed) is the same in every evaluation, whatever the batch size."""
    vae = tiny_vae(1, num_importance_samples=4)
    checks.randomize_weights(vae, scale=0.5)
    images = np.tile(checks.all_configurations(vae), (3, 1, 1, 1))                # 48
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(48, np.int64)))
    first = evaluation.evaluate(vae, dataset.batch(16), seed=0)
    assert first["metric"] == "nll_bound_iwae_k4" and first["num_images"] == 48
    assert evaluation.evaluate(vae, dataset.batch(16), seed=0)["nats"] == first["nats"]
    assert evaluation.evaluate(vae, dataset.batch(5), seed=0)["nats"] == pytest.approx(
        first["nats"], rel=1e-6)
    assert evaluation.evaluate(vae, dataset.batch(16), seed=1)["nats"] != first["nats"]


# ------------------------------------------------------------------ sampling and shapes

def test_seeded_sampling_decoding_and_shapes():
    vae = tiny_vae(2, image_shape=(2, 2, 1), num_values=3, num_importance_samples=3)
    checks.randomize_weights(vae, scale=0.5)
    checks.assert_seeded(vae)                       # same seed same samples, eager and traced
    np.testing.assert_array_equal(vae.sample(8, seed=(4, 5), method="naive"),
                                  vae.sample(8, seed=(4, 5)))       # cached == naive
    assert vae.sample(8, seed=(4, 5)).dtype == tf.float32
    assert vae.sample([2, 3], seed=1).shape == (2, 3, 2, 2, 1)

    x = checks.all_configurations(vae)[:5]
    z = np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)
    decoded = vae.decode(z, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(decoded, vae.decode(z, seed=(1, 2)).numpy())
    assert decoded.shape == (3, 2, 2, 1) and set(np.unique(decoded)) <= {0, 1, 2}
    assert vae.reconstruct(x, seed=(1, 2)).shape == (5, 2, 2, 1)
    seed = tf.constant([7, 9], tf.int32)
    lines = vae.interpolate(x, x[::-1], num_steps=4, seed=seed).numpy()
    assert lines.shape == (5, 4, 2, 2, 1) and set(np.unique(lines)) <= {0, 1, 2}
    # The endpoints decode the posterior means with the line's seed.
    np.testing.assert_array_equal(lines[:, 0], vae.decode(vae.encode(x).mean(), seed=seed))
    np.testing.assert_array_equal(lines[:, -1],
                                  vae.decode(vae.encode(x[::-1]).mean(), seed=seed))
    posterior = vae.encode(x)
    assert posterior.batch_shape == (5,) and posterior.event_shape == (2,)

    # Estimates: shapes follow the batch dims; stateless seeds reproduce; seed=None works.
    assert vae.log_prob(x.reshape(5, 1, 2, 2, 1), num_samples=3, seed=(1, 2)).shape == (5, 1)
    np.testing.assert_array_equal(vae.log_prob(x, seed=(1, 2)), vae.log_prob(x, seed=(1, 2)))
    np.testing.assert_array_equal(vae.log_prob(x, seed=(1, 2)),   # K = num_importance_samples
                                  vae.log_prob(x, num_samples=3, seed=(1, 2)))
    np.testing.assert_array_equal(vae.elbo(x, seed=(1, 2)), vae.elbo(x, seed=(1, 2)))
    assert not np.array_equal(vae.elbo(x, seed=(1, 2)), vae.elbo(x, seed=(2, 2)))
    assert np.all(np.isfinite(vae.log_prob(x))) and np.all(vae.log_prob(x) < 0)
    assert vae.log_prob(np.zeros((0, 2, 2, 1), np.float32)).shape == (0,)


def test_evaluation_images():
    vae = tiny_vae(2, image_shape=(2, 2, 1), num_values=3)
    checks.randomize_weights(vae, scale=0.5)
    images = checks.all_configurations(vae)
    grids = vae.evaluation_images(images[:9], seed=(1, 2))
    assert grids["reconstructions"].shape == (2, 8, 2, 2, 1)     # 8 images, 8 reconstructions
    assert grids["interpolations"].shape == (4, 8, 2, 2, 1)      # 4 pairs, 8 steps
    for grid in grids.values():
        assert grid.dtype == tf.int32 and set(np.unique(grid)) <= {0, 1, 2}
    np.testing.assert_array_equal(grids["reconstructions"][0], images[:8])
    assert vae.evaluation_images(images[:1], seed=1)["interpolations"].shape == (1, 8, 2, 2, 1)


def test_training_terms_warm_up_and_free_bits():
    x = checks.all_configurations(tiny_vae())
    for num_levels in (1, 2):
        vae = tiny_vae(num_levels, kl_warmup_steps=10)
        terms = {k: float(v) for k, v in vae.training_terms(x, seed=(1, 2), step=5).items()}
        assert terms["kl_weight"] == 0.5
        np.testing.assert_allclose(terms["loss"], terms["reconstruction"] + 0.5 * terms["kl"],
                                   rtol=1e-6)
        np.testing.assert_allclose(terms["elbo"], -terms["reconstruction"] - terms["kl"],
                                   rtol=1e-6)
        np.testing.assert_allclose(terms["elbo"], np.mean(vae.elbo(x, seed=(3, 4))), atol=0.5)
        assert float(vae.training_terms(x, seed=(1, 2), step=20)["kl_weight"]) == 1.0
        assert float(vae.training_terms(x, seed=(1, 2))["kl_weight"]) == 1.0
        np.testing.assert_allclose(float(vae.training_loss(x, seed=(1, 2))),
                                   -terms["elbo"], rtol=1e-6)
        if num_levels == 2:
            np.testing.assert_allclose(terms["kl_z1"] + terms["kl_z2"], terms["kl"], rtol=1e-6)
        free = tiny_vae(num_levels, network=vae.network, free_bits=100.0)
        free_terms = free.training_terms(x, seed=(1, 2))
        np.testing.assert_allclose(float(free_terms["loss"]),
                                   terms["reconstruction"] + 100.0 * num_levels, rtol=1e-6)
        assert float(free_terms["elbo"]) == terms["elbo"]
        assert all(v.dtype == tf.float32 and v.shape == () for v in free_terms.values())


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_levels must be 1 or 2"):
        tiny_vae(num_levels=3)
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        tiny_vae(latent_dim=0)
    with pytest.raises(ValueError, match="free_bits must be a finite number >= 0"):
        tiny_vae(free_bits=-1.0)
    with pytest.raises(ValueError, match="kl_warmup_steps must be an int >= 0"):
        tiny_vae(kl_warmup_steps=-5)
    with pytest.raises(ValueError, match="only num_levels=2"):
        tiny_vae(num_levels=1, latent2_dim=3)
    with pytest.raises(ValueError, match="num_importance_samples must be a positive int"):
        tiny_vae(num_importance_samples=0)
    with pytest.raises(ValueError, match="num_values=2"):
        tiny_vae(num_values=3, likelihood="bernoulli")
    with pytest.raises(ValueError, match="height, width, channels"):
        tiny_vae(image_shape=(4,))
    vae = tiny_vae()
    with pytest.raises(ValueError, match="latent_dim=2 .the distribution needs 3"):
        tiny_vae(latent_dim=3, network=vae.network)
    x = np.zeros((2, 2, 2, 1), np.float32)
    for call in (lambda c: vae.log_prob(x, conditional_input=c),
                 lambda c: vae.sample(2, seed=1, conditional_input=c),
                 lambda c: vae.training_terms(x, conditional_input=c)):
        with pytest.raises(ValueError, match="without a conditional input"):
            call(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="num_samples must be a Python int >= 1"):
        vae.log_prob(x, num_samples=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"integers in \[0, 2\)"):
        vae.elbo(x + 2)
    with pytest.raises(ValueError, match="z must have shape"):
        vae.decode(np.zeros((2, 5), np.float32))


# ------------------------------------------------------------------ the auto-encoder

def test_pixelcnn_autoencoder():
    ae = PixelCNNAutoEncoder(image_shape=(2, 2, 1), num_values=2, code_size=3, **AE_SMALL)
    checks.randomize_weights(ae, scale=0.5)
    x = checks.all_configurations(ae)
    code = ae.encode(x)
    assert code.shape == (16, 3) and ae.conditional_shape == (3,)
    np.testing.assert_allclose(ae.reconstruction_log_prob(x),
                               ae.log_prob(x, conditional_input=code), atol=1e-6)
    # Without a code there is no likelihood of x: log p(x | encode(x)) is not normalized
    # over x, so it has its own name.
    with pytest.raises(ValueError, match="reconstruction_log_prob"):
        ae.log_prob(x)
    assert ae.evaluation_metric == "reconstruction_nll"
    np.testing.assert_allclose(ae.evaluation_log_prob(x), ae.reconstruction_log_prob(x))
    assert np.exp(ae.reconstruction_log_prob(x)).sum() > 1 + 1e-3   # not a distribution
    checks.assert_normalized(ae, conditional_input=code[5])
    checks.assert_normalized(ae.decoder_distribution, conditional_input=code[11])
    checks.assert_image_causal(ae.decoder_distribution, no_blind_spot=True)
    np.testing.assert_allclose(float(ae.training_terms(x)["loss"]),
                               -np.mean(ae.reconstruction_log_prob(x)), rtol=1e-6)
    checks.assert_seeded(ae, conditional_input=code[:4])
    assert {id(v) for v in ae.trainable_variables} >= {
        id(v.value) for v in ae.network.encoder.trainable_variables}
    with pytest.raises(ValueError, match="needs a code"):
        ae.sample(2, seed=1)
    with pytest.raises(ValueError, match="own code"):
        ae.training_terms(x, conditional_input=code)
    grid = ae.evaluation_images(x[:3], seed=(1, 2))["reconstructions"]
    assert grid.shape == (2, 3, 2, 2, 1) and set(np.unique(grid)) <= {0, 1}


def test_registry_builds_both():
    vae = registry.build("pixelvae", (2, 2, 1), 2, seed=0, latent_dim=2, **SMALL)
    ae = registry.build("pixelcnn_autoencoder", (2, 2, 1), 2, seed=0, code_size=2, **AE_SMALL)
    assert isinstance(vae, PixelVAE) and isinstance(ae, PixelCNNAutoEncoder)
    assert vae.conditional_shape is None and vae.event_shape == (2, 2, 1)


# ------------------------------------------------------------------ export and persistence

def test_serving_signatures():
    vae = tiny_vae(2, num_importance_samples=5)
    x = checks.all_configurations(vae)[:3]
    signatures = vae.serving_signatures()
    assert set(signatures) == {"log_prob", "elbo", "encode", "decode"}
    outputs = {name: tf.function(fn, input_signature=specs).get_concrete_function()
               for name, (fn, specs) in signatures.items()}
    # The same draws as eagerly with seed (0, 0), up to graph-vs-eager float rounding.
    np.testing.assert_allclose(outputs["log_prob"](tf.constant(x))["log_prob_iwae_k5"],
                               vae.log_prob(x, seed=(0, 0)), rtol=1e-5)
    np.testing.assert_allclose(outputs["elbo"](tf.constant(x))["elbo"],
                               vae.elbo(x, seed=(0, 0)), rtol=1e-5)
    encoded = outputs["encode"](tf.constant(x))
    np.testing.assert_allclose(encoded["mean"], vae.encode(x).mean())
    np.testing.assert_allclose(encoded["stddev"], vae.encode(x).stddev(), rtol=1e-6)
    z = np.ones((4, 2), np.float32)
    seed = tf.constant([1, 2], tf.int32)
    np.testing.assert_array_equal(outputs["decode"](tf.constant(z), seed)["images"],
                                  vae.decode(z, seed=seed))

    ae = PixelCNNAutoEncoder(image_shape=(2, 2, 1), num_values=2, code_size=3, **AE_SMALL)
    signatures = ae.serving_signatures()
    assert set(signatures) == {"reconstruction_log_prob", "encode"}
    fn, specs = signatures["reconstruction_log_prob"]
    np.testing.assert_allclose(tf.function(fn, input_signature=specs)(tf.constant(x))[
        "reconstruction_log_prob"], ae.reconstruction_log_prob(x), atol=1e-6)
    fn, specs = signatures["encode"]
    np.testing.assert_allclose(tf.function(fn, input_signature=specs)(tf.constant(x))["code"],
                               ae.encode(x), atol=1e-6)


@pytest.mark.parametrize("num_levels", [1, 2, "autoencoder"])
def test_config_checkpoint_and_keras_file_round_trips(num_levels, tmp_path):
    if num_levels == "autoencoder":
        def build(network=None):
            return PixelCNNAutoEncoder(image_shape=(2, 2, 1), num_values=2, code_size=3,
                                       network=network, **AE_SMALL)

        def estimate(d):
            return d.reconstruction_log_prob(x).numpy()
        network_class = PixelCNNAutoEncoderNetwork
    else:
        def build(network=None):
            return tiny_vae(num_levels, network=network)

        def estimate(d):
            return np.concatenate([d.elbo(x, seed=(1, 2)), d.log_prob(x, seed=(3, 4))])
        network_class = PixelVAENetwork
    d = build()
    checks.randomize_weights(d, scale=0.5)
    x = checks.all_configurations(d)

    clone = network_class.from_config(d.network.get_config()).build_variables()
    clone.set_weights(d.network.get_weights())
    np.testing.assert_array_equal(estimate(build(clone)), estimate(d))

    path = tf.train.Checkpoint(network=d.network).save(str(tmp_path / "ckpt"))
    saved = {name for name, _ in tf.train.list_variables(path)}
    assert sum("network/" in name for name in saved) == len(d.network.variables)
    twin = build()
    assert not np.allclose(estimate(twin), estimate(d))
    tf.train.Checkpoint(network=twin.network).restore(path).assert_consumed()
    np.testing.assert_array_equal(estimate(twin), estimate(d))

    file = str(tmp_path / "network.keras")
    d.network.save(file)
    loaded = keras.models.load_model(file)
    assert len(loaded.weights) == len(d.network.weights)
    np.testing.assert_array_equal(estimate(build(loaded)), estimate(d))
