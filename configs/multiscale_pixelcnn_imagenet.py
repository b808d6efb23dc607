"""The Parallel Multiscale PixelCNN on ImageNet 32×32 or 64×64 (tfds:imagenet_resized,
in --config.data.data_dir; tested on its validation split), the paper's setting
(Reed et al. 2017, Table 2: 3.95 and 3.70 bits/dim): a 4×4 base, the logistic mixture
head, GPU-sized. For 64×64:

  python train_main.py --config=configs/multiscale_pixelcnn_imagenet.py \\
      --config.data.source=tfds:imagenet_resized/64x64
"""

import ml_collections

from configs import gated_pixelcnn_imagenet32


def get_config():
    config = gated_pixelcnn_imagenet32.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="multiscale_pixelcnn", conditioning="", base_size=4, base_layers=15,
        base_filters=192, base_kernel_size=5, upscale_blocks=12, upscale_filters=192,
        likelihood="logistic_mixture", num_mixtures=10))
    config.train.batch_size = 64
    return config
