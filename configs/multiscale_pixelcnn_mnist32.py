"""A CPU-sized Parallel Multiscale PixelCNN on MNIST binarized at x > 127 and padded with
zeros to 32×32 (so that the size doubles from an 8×8 base: 8 → 16 → 32): the base by a
Gated PixelCNN of 5 layers × 32, then 3 groups per doubling by upscaling ResNets of 4
blocks × 32 (64 + 6 sequential steps to sample, against 1,024 for a PixelCNN). The budget
of the other `*_binarized_mnist_small` rows (2,000 steps of batch 32):

  python train_main.py --config=configs/multiscale_pixelcnn_mnist32.py \\
      --config.data.source=idx:../shared/data/mnist
  python train_main.py --config=configs/gated_pixelcnn_binarized_mnist_small.py \\
      --config.data.source=idx:../shared/data/mnist --config.data.pad_to=32,32
"""

import ml_collections

from configs import pixelcnn_binarized_mnist_small


def get_config():
    config = pixelcnn_binarized_mnist_small.get_config()
    config.data.pad_to = (32, 32)
    config.model = ml_collections.ConfigDict(dict(
        name="multiscale_pixelcnn", conditioning="", base_size=8, base_layers=5,
        base_filters=32, base_kernel_size=5, upscale_blocks=4, upscale_filters=32,
        likelihood="bernoulli"))
    return config
