"""A small PixelCNN (4 residual blocks, h = 16, 5×5 mask-A input layer) on the 8×8 digits
with a 17-way softmax per pixel, the budget of the digits table (3,000 steps of batch 64):
a few minutes on 2 CPU cores. The same network sizes as a Gated PixelCNN:
--config.model.name=gated_pixelcnn."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelcnn", conditioning="", num_layers=4, num_filters=16, first_kernel_size=5,
        likelihood="categorical"))
    config.train.learning_rate = 2e-3
    return config
