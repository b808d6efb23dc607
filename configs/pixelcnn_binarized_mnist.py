"""PixelCNN with a Bernoulli head on tfds:binarized_mnist (the papers' benchmark)."""

from configs import default, pixelcnn_mnist


def get_config():
    config = pixelcnn_mnist.get_config()
    config.model.likelihood = "bernoulli"
    return default.on_binarized_mnist(config)
