"""NADE of configs/nade_mnist.py on tfds:binarized_mnist (`default.on_binarized_mnist`)."""

from configs import default, nade_mnist


def get_config():
    return default.on_binarized_mnist(nade_mnist.get_config())
