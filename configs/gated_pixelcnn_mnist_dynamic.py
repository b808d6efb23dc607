"""Gated PixelCNN with a Bernoulli head on MNIST binarized dynamically: each epoch draws
x ~ Bernoulli(intensity) afresh (the test split keeps one seeded draw)."""

from configs import gated_pixelcnn_binarized_mnist


def get_config():
    config = gated_pixelcnn_binarized_mnist.get_config()
    config.data.source = "tfds:mnist"
    config.data.binarize = "dynamic"
    return config
