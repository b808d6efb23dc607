"""Gated PixelCNN on 8-bit MNIST with a 5-component discretized logistic mixture
(PixelCNN++ head): 15 gated layers × 128 features (GPU-sized). tfds:mnist, or
--config.data.source=idx:<dir>; configs/gated_pixelcnn_mnist_small.py is the CPU size."""

import ml_collections

from configs import pixelcnn_mnist


def get_config():
    config = pixelcnn_mnist.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="gated_pixelcnn", conditioning="", num_layers=15, num_filters=128,
        likelihood="logistic_mixture", num_mixtures=5))
    return config
