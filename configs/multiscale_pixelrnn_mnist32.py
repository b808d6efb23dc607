"""A CPU-sized Multi-Scale PixelRNN (PixelRNN paper §3.5) on MNIST binarized at x > 127
and padded with zeros to 32×32: an 8×8 image subsampled from it (x[::4, ::4]) by a
Diagonal BiLSTM PixelRNN of 2 layers × 16, then the other pixels by a conditional
PixelRNN of 2 layers × 16 biased by the upsampled small image. The budget of the other
`*_binarized_mnist_small` rows and of `multiscale_pixelcnn_mnist32` (2,000 steps of
batch 32):

  python train_main.py --config=configs/multiscale_pixelrnn_mnist32.py \\
      --config.data.source=idx:../shared/data/mnist
"""

import ml_collections

from configs import pixelcnn_binarized_mnist_small


def get_config():
    config = pixelcnn_binarized_mnist_small.get_config()
    config.data.pad_to = (32, 32)
    config.model = ml_collections.ConfigDict(dict(
        name="multiscale_pixelrnn", conditioning="", base_size=8, cell="diagonal_bilstm",
        base_layers=2, base_hidden_units=16, num_layers=2, hidden_units=16,
        first_kernel_size=7, context_layers=2, context_filters=32, likelihood="bernoulli"))
    return config
