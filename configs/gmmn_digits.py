"""A GMMN (Li, Swersky & Zemel 2015; Deep Learning §20.10.5–6) on the embedded 8×8 digits:
the convolutional generator (a 2×2×128 map from 10 noise values, two transposed
convolutions to 8×8), trained on batches of 512 to minimize the MMD² of its samples to the
data's (intensities k / 16). It has no likelihood: the run reports the test MMD² of
1,000 samples."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="gmmn", conditioning="", generator="conv", latent_dim=10, num_filters=32,
        num_upsamplings=2, bandwidths=(0.5, 1.0, 2.0, 4.0, 8.0)))
    config.train.update(dict(batch_size=512, steps=3000, schedule="constant",
                             learning_rate=1e-3, warmup_steps=0))
    config.eval.mmd_samples = 1000
    return config
