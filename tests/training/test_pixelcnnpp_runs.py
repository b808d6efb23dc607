"""train_main's job trains PixelCNN++ on the photo patches and on tfds:cifar10 (mock data),
from the configs' own fields at tiny sizes: test bits/dim, samples and the export; the
trainer's model starts from weight normalization's data-dependent values."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from configs import pixelcnnpp_cifar10, pixelcnnpp_photos16
from tfar.layers import weight_norm
from tfar.training import train_and_evaluate
from tfar.training.trainer import build_model

TINY_MODEL = dict(num_resnet=1, num_hierarchies=2, num_filters=4, num_mixtures=2)


def _tiny(config):
    config.model.update(TINY_MODEL)
    config.data.image_size = (4, 4)
    config.train.update(dict(batch_size=4, steps=6, steps_per_loop=3, log_every=3,
                             checkpoint_every=6, schedule="constant", ema_decay=0.0))
    config.eval.update(dict(batch_size=64, num_samples=2, sample_columns=2))
    return config


def test_trains_on_the_photo_patches(tmp_path):
    config = _tiny(pixelcnnpp_photos16.get_config())
    config.data.test_split = "test[:32]"
    workdir = str(tmp_path / "run")
    metrics = train_and_evaluate(config, workdir)
    assert metrics["test_images"] == 32 and 0 < metrics["test_bits_per_dim"] < 16  # 6 steps
    written = json.load(open(os.path.join(workdir, "metrics.json")))
    assert written["model"] == "PixelCNNPlusPlus" and written["dataset"]["event_shape"] == [4, 4, 3]
    assert os.path.exists(os.path.join(workdir, "samples.png"))
    exported = tf.saved_model.load(metrics["export"]).signatures["log_prob_uint8"]
    images = np.zeros((1, 4, 4, 3), np.uint8)
    assert np.isfinite(exported(images=tf.constant(images))["log_prob"].numpy()).all()


def test_build_model_initializes_weight_norm_from_the_first_batch():
    """With a first batch the trainer's model gets weight normalization's data-dependent
    values (those `initialize_from_data` sets on that batch); without one (to be
    restored) g stays at 1."""
    config = _tiny(pixelcnnpp_photos16.get_config())
    config.model.weight_norm = True
    x = tf.random.stateless_uniform([4, 4, 4, 3], seed=(1, 2), maxval=256, dtype=tf.int32)
    model = build_model(config, (4, 4, 3), 256, first_batch=lambda: (x, None))
    fresh = build_model(config, (4, 4, 3), 256)
    assert all(np.all(layer.g.numpy() == 1.0)
               for layer in weight_norm.layers_in(fresh.distribution.network))
    fresh.distribution.initialize_from_data(x)
    for built, expected in zip(model.distribution.network.variables,
                               fresh.distribution.network.variables):
        np.testing.assert_allclose(built.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.slow  # 15 s
def test_trains_on_cifar10_mock_data(tmp_path):
    config = _tiny(pixelcnnpp_cifar10.get_config())
    with tfds.testing.mock_data(num_examples=8, policy=tfds.testing.MockPolicy.USE_CODE):
        metrics = train_and_evaluate(config, str(tmp_path / "run"))
    assert metrics["test_images"] == 8 and np.isfinite(metrics["test_bits_per_dim"])
