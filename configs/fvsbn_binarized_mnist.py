"""FVSBN of configs/fvsbn_mnist.py on tfds:binarized_mnist (`default.on_binarized_mnist`)."""

from configs import default, fvsbn_mnist


def get_config():
    return default.on_binarized_mnist(fvsbn_mnist.get_config())
