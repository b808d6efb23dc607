"""NADE (Larochelle & Murray 2011) with 500 sigmoid hidden units on MNIST binarized at
x > 127 (tfds:mnist, or --config.data.source=idx:<dir> for local IDX files)."""

import ml_collections

from configs import made_mnist


def get_config():
    config = made_mnist.get_config()
    config.model = ml_collections.ConfigDict(dict(name="nade", conditioning="", hidden_units=500))
    return config
