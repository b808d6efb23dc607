"""A class-conditional Gated PixelCNN on the 8×8 digits binarized at half intensity: the
one-hot label enters every gate (Gated PixelCNN paper eq. 4). A few minutes on 2 CPU cores;
samples.png shows one class per row (0–7)."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.binarize = "fixed"
    config.model = ml_collections.ConfigDict(dict(
        name="gated_pixelcnn", conditioning="class", num_layers=5, num_filters=32,
        first_kernel_size=5, kernel_size=3, likelihood="bernoulli"))
    config.train.steps = 1500
    config.train.learning_rate = 2e-3
    return config
