"""MADE of configs/made_mnist.py on tfds:binarized_mnist (`default.on_binarized_mnist`)."""

from configs import default, made_mnist


def get_config():
    return default.on_binarized_mnist(made_mnist.get_config())
