"""FVSBN on MNIST binarized at x > 127 (tfds:mnist, or --config.data.source=idx:<dir>)."""

import ml_collections

from configs import made_mnist


def get_config():
    config = made_mnist.get_config()
    config.model = ml_collections.ConfigDict(dict(name="fvsbn", conditioning="",
                                                  column_blocks="auto"))
    config.train.learning_rate = 3e-3
    return config
