"""train_and_evaluate in-process: outputs, EMA, mixed precision, bad input, checkpoints."""

import json
import os
import re

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfar.training import builders, input_pipeline, train_and_evaluate
from tfar.training.checkpoints import CheckpointError
from tiny import tiny_config


def test_outputs_and_rerun_after_finish(tmp_path):
    workdir = str(tmp_path / "run")
    metrics = train_and_evaluate(tiny_config(), workdir)
    assert metrics["step"] == 40 and np.isfinite(metrics["test_nll_nats"])
    assert metrics["train_images_per_second"] > 0
    assert metrics["test_images"] == 360
    assert metrics["test_bits_per_dim"] == pytest.approx(
        metrics["test_nll_nats"] / (64 * np.log(2)))
    written = json.load(open(os.path.join(workdir, "metrics.json")))
    assert written["step"] == 40 and written["dataset"]["source"] == "digits"
    assert written["config"]["model"]["hidden_units"] == 8 and written["wall_time_s"] > 0
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == [
        "checkpoint", "ckpt-20.data-00000-of-00001", "ckpt-20.index",
        "ckpt-40.data-00000-of-00001", "ckpt-40.index"]
    assert os.listdir(os.path.join(workdir, "export")) == ["40"]
    assert os.path.exists(os.path.join(workdir, "export", "40", "saved_model.pb"))
    assert any(f.startswith("events.out.tfevents")
               for f in os.listdir(os.path.join(workdir, "tensorboard")))
    with Image.open(os.path.join(workdir, "samples.png")) as image:
        assert image.mode == "L" and image.size[0] > 8 * 64  # 8 columns of 64-pixel digits
    # Rerunning a finished run trains nothing and reproduces the evaluation.
    again = train_and_evaluate(tiny_config(), workdir)
    assert again["step"] == 40 and again["restored_from"].endswith("ckpt-40")
    assert again["test_nll_nats"] == pytest.approx(metrics["test_nll_nats"], rel=1e-6)


def test_ema_weights_are_evaluated_and_exported(tmp_path):
    """With ema_decay, metrics and export use the optimizer's moving average; the
    checkpoint keeps the last weights (and the average, to resume)."""
    config = tiny_config(ema_decay=0.9)
    metrics = train_and_evaluate(config, str(tmp_path))
    data = input_pipeline.with_splits(config.data)
    test = np.concatenate([x for x, _ in input_pipeline.test_batches(data, 500)])
    exported = tf.saved_model.load(metrics["export"]).signatures["log_prob"]
    exported_nll = -np.mean(exported(images=tf.constant(test))["log_prob"].numpy())
    assert exported_nll == pytest.approx(metrics["test_nll_nats"], rel=1e-5)
    last = builders.build_distribution(dict(config.model.to_dict(), seed=0), (8, 8, 1), 17)
    tf.train.Checkpoint(network=last.network).restore(
        os.path.join(str(tmp_path), "checkpoints", "ckpt-40")).expect_partial()
    last_nll = -np.mean(last.log_prob(test).numpy())
    assert abs(last_nll - exported_nll) > 1e-2


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_and_restores_the_policy(tmp_path, policy):
    import keras
    before = keras.config.dtype_policy().name
    metrics = train_and_evaluate(tiny_config(mixed_precision=policy, ema_decay=0.9),
                                 str(tmp_path))
    assert np.isfinite(metrics["test_nll_nats"]) and metrics["test_nll_nats"] < 140
    assert keras.config.dtype_policy().name == before


def test_jit_compiled_step_trains_as_the_default_one(tmp_path):
    """config.train.jit_compile compiles the loss and gradients with XLA (the update stays
    outside): NADE (no noise in its objective) reaches the default executor's losses and
    test NLL to float rounding."""
    default = train_and_evaluate(tiny_config(), str(tmp_path / "default"))
    compiled = train_and_evaluate(tiny_config(jit_compile=True), str(tmp_path / "xla"))
    assert compiled["train_loss"] == pytest.approx(default["train_loss"], rel=1e-4)
    assert compiled["test_nll_nats"] == pytest.approx(default["test_nll_nats"], rel=1e-4)


def test_bad_workdir(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        train_and_evaluate(tiny_config(), str(afile))
    with pytest.raises(ValueError, match="not writable"):
        train_and_evaluate(tiny_config(), str(afile / "below"))


def test_bad_model_and_data_config(tmp_path):
    config = tiny_config()
    config.model.name = "pixelsnail"
    with pytest.raises(ValueError, match="Unknown model 'pixelsnail'"):
        train_and_evaluate(config, str(tmp_path))
    with pytest.raises(ValueError, match="does not take"):
        builders.build_distribution({"name": "made", "hidden_unit": 5}, (2, 2, 1), 2)
    config = tiny_config()
    config.data.source = f"idx:{tmp_path}"
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        train_and_evaluate(config, str(tmp_path / "run"))


def test_nan_loss_stops_naming_the_step_and_keeps_the_good_checkpoint(tmp_path):
    workdir = str(tmp_path)
    with pytest.raises(FloatingPointError, match=r"is nan at step \d+") as error:
        train_and_evaluate(tiny_config(learning_rate=3e38, checkpoint_every=1,
                                       steps_per_loop=1, warmup_steps=0), workdir)
    nan_step = int(re.search(r"at step (\d+)", str(error.value)).group(1))
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    assert nan_step >= 2 and latest.endswith(f"ckpt-{nan_step - 1}")
    assert f"last good checkpoint is {latest}" in str(error.value)
    reader = tf.train.load_checkpoint(latest)
    weights = [reader.get_tensor(name) for name, _ in tf.train.list_variables(latest)
               if name.startswith("network/")]
    assert weights and all(np.all(np.isfinite(w)) for w in weights)
    assert not os.path.exists(os.path.join(workdir, "metrics.json"))


def test_truncated_checkpoint_names_the_file_and_restore_from_an_older_one(tmp_path):
    workdir = str(tmp_path)
    train_and_evaluate(tiny_config(steps=40), workdir)
    data = os.path.join(workdir, "checkpoints", "ckpt-40.data-00000-of-00001")
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    config = tiny_config(steps=60)
    with pytest.raises(CheckpointError, match=r"ckpt-40.*ckpt-20"):
        train_and_evaluate(config, workdir)
    metrics = train_and_evaluate(config, workdir,
                                 restore_from=os.path.join(workdir, "checkpoints", "ckpt-20"))
    assert metrics["step"] == 60 and metrics["restored_from"].endswith("ckpt-20")
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        train_and_evaluate(config, workdir, restore_from=os.path.join(workdir, "nope"))


@pytest.mark.parametrize("name", ["pixelvae", pytest.param("pixelcnn_autoencoder",
                                                            marks=pytest.mark.slow)])
def test_latent_models_log_their_terms_and_images(tmp_path, name):
    """The trainer asks the model for its loss and terms (no per-model branch): PixelVAE
    logs its ELBO, reconstruction and KL terms with the KL weight warming up, and both
    write their evaluation images and export."""
    config = tiny_config(steps=20, checkpoint_every=10, warmup_steps=2)
    config.data.binarize = "fixed"
    config.model = ml_collections.ConfigDict(dict(
        name=name, conditioning="", num_layers=1, num_filters=4, first_kernel_size=3,
        encoder_filters=4, likelihood="bernoulli"))
    if name == "pixelvae":
        config.model.update(latent_dim=2, map_channels=2, num_importance_samples=3,
                            kl_warmup_steps=40)
    metrics = train_and_evaluate(config, str(tmp_path))
    terms = metrics["train_terms"]
    # Each model's figure under its own name: PixelVAE's is a bound (IWAE, k = 3), the
    # auto-encoder's a reconstruction term; neither is reported as an NLL.
    metric = {"pixelvae": "nll_bound_iwae_k3", "pixelcnn_autoencoder": "reconstruction_nll"}[name]
    assert metrics["test_metric"] == metric and metrics["export"]
    assert np.isfinite(metrics[f"test_{metric}_nats"])
    assert metrics[f"test_{metric}_bits_per_dim"] == pytest.approx(
        metrics[f"test_{metric}_nats"] / (64 * np.log(2)))
    assert "test_nll_nats" not in metrics and "test_bits_per_dim" not in metrics
    if name == "pixelvae":
        assert {"loss", "elbo", "reconstruction", "kl", "kl_weight"} <= set(terms)
        assert 0 < terms["kl_weight"] < 1  # warming up: mean of step/40 over steps 1-20
        assert terms["elbo"] == pytest.approx(-(terms["reconstruction"] + terms["kl"]), rel=1e-4)
        assert (tmp_path / "interpolations.png").exists() and (tmp_path / "samples.png").exists()
    else:
        assert set(terms) == {"loss"} and not (tmp_path / "samples.png").exists()
    assert (tmp_path / "reconstructions.png").exists()


@pytest.mark.slow  # the default tier trains caption models outside the trainer
def test_caption_conditional_run(tmp_path):    # (test_export.py) and checks its caption errors
    """conditioning='caption' end to end: the trainer reads caption batches, adapts the
    text encoder to the training captions, writes samples under their captions and
    exports a model that takes caption strings; a rerun restores the vocabulary with the
    weights and reproduces the test NLL."""
    import importlib
    config = importlib.import_module("configs.gated_pixelcnn_captioned_digits").get_config()
    config.model.update(num_layers=2, num_filters=8)
    config.train.update(steps=20, steps_per_loop=10, log_every=10, checkpoint_every=20,
                        warmup_steps=2)
    config.eval.update(num_samples=8, sample_columns=4)
    workdir = str(tmp_path / "run")
    metrics = train_and_evaluate(config, workdir)
    assert metrics["test_metric"] == "nll" and np.isfinite(metrics["test_nll_nats"])
    with Image.open(os.path.join(workdir, "samples.png")) as image:   # 2 rows + caption strips
        assert image.size[1] == 2 * (64 + 1) + 1 + 2 * 14   # 64-pixel images, 1-pixel borders
    loaded = tf.saved_model.load(metrics["export"])
    caption = tf.constant(["the digit 3 is at the top left"] * 2)
    samples = loaded.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant([1, 2]),
                                          caption=caption)["samples"]
    assert samples.shape == (2, 16, 16, 1)
    again = train_and_evaluate(config, workdir)
    assert again["test_nll_nats"] == pytest.approx(metrics["test_nll_nats"], rel=1e-6)


def test_caption_batches_need_a_caption_conditional_model(tmp_path):
    config = tiny_config()
    config.data.source = "captioned_digits"
    config.data.condition = "caption"
    with pytest.raises(ValueError, match="only a caption-conditional model uses"):
        train_and_evaluate(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
