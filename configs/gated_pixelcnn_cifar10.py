"""Gated PixelCNN on CIFAR-10 (tfds:cifar10) with a 256-way softmax per sub-pixel in the
R → G → B order (channel-grouped masks): 15 gated layers × 129 features (a multiple of
the 3 channel groups), GPU-sized. Add --config.model.conditioning=class for the
class-conditional model."""

import ml_collections

from configs import pixelcnn_mnist


def get_config():
    config = pixelcnn_mnist.get_config()
    config.data.source = "tfds:cifar10"
    config.model = ml_collections.ConfigDict(dict(
        name="gated_pixelcnn", conditioning="", num_layers=15, num_filters=129,
        likelihood="categorical"))
    config.train.steps = 200_000
    config.train.ema_decay = 0.9995
    return config
