"""PixelCNN (PixelRNN paper §3.4–3.5) on 8-bit MNIST with a 256-way softmax per pixel:
7 residual blocks of h = 64 (GPU-sized). tfds:mnist, or --config.data.source=idx:<dir>."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "tfds:mnist"
    config.model = ml_collections.ConfigDict(dict(
        name="pixelcnn", conditioning="", num_layers=7, num_filters=64,
        likelihood="categorical"))
    config.train.batch_size = 64
    config.train.steps = 50_000
    config.train.log_every = 500
    config.train.checkpoint_every = 2000
    config.eval.num_samples = 16
    config.eval.sample_columns = 4
    return config
