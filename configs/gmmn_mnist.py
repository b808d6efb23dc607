"""A GMMN (Li, Swersky & Zemel 2015) with §20.10.6's convolutional generator on MNIST's
gray levels (intensities k / 255): 10 noise values to a 7×7×128 map, two transposed
convolutions to 28×28, batches of 1,000 (the paper's), MMD² with the paper's bandwidths
(2, 5, 10, 20, 40, 80). Reports the test MMD² of 2,000 samples (no likelihood).

  python train_main.py --config=configs/gmmn_mnist.py                 # tfds:mnist
  python train_main.py --config=configs/gmmn_mnist.py --config.data.source=idx:../shared/data/mnist
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "tfds:mnist"
    config.model = ml_collections.ConfigDict(dict(
        name="gmmn", conditioning="", generator="conv", latent_dim=10, num_filters=32,
        num_upsamplings=2))
    config.train.update(dict(batch_size=1000, steps=20_000, schedule="constant",
                             learning_rate=1e-3, warmup_steps=0, log_every=1000,
                             checkpoint_every=2000))
    config.eval.mmd_samples = 2000
    return config
