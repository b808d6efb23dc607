"""FVSBN (a logistic autoregressive network, Deep Learning book §20.10.7) on 8×8 digits."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.model = ml_collections.ConfigDict(dict(name="fvsbn", conditioning=""))
    config.train.learning_rate = 3e-3
    return config
