"""Gated PixelCNN with a Bernoulli head on tfds:binarized_mnist (fixed binarization)."""

from configs import default, gated_pixelcnn_mnist


def get_config():
    config = gated_pixelcnn_mnist.get_config()
    config.model.likelihood = "bernoulli"
    del config.model["num_mixtures"]
    return default.on_binarized_mnist(config)
