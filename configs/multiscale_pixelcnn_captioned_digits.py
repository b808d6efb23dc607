"""Text to image with the Parallel Multiscale PixelCNN on the CPU: captioned 8×8 digits
on a 16×16 canvas (`configs/gated_pixelcnn_captioned_digits.py`'s data and text encoder),
a 4×4 base by a Gated PixelCNN, then 4×4 → 8×8 → 16×16 in 3 groups each (16 + 6
sequential steps against 256), the caption's summary in every gate and upscaling block:

  python train_main.py --config=configs/multiscale_pixelcnn_captioned_digits.py
"""

import ml_collections

from configs import gated_pixelcnn_captioned_digits


def get_config():
    config = gated_pixelcnn_captioned_digits.get_config()
    text_encoder = config.model.text_encoder
    config.model = ml_collections.ConfigDict(dict(
        name="multiscale_pixelcnn", conditioning="caption", base_size=4, base_layers=4,
        base_filters=32, base_kernel_size=3, upscale_blocks=4, upscale_filters=32,
        likelihood="bernoulli", text_encoder=text_encoder))
    return config
