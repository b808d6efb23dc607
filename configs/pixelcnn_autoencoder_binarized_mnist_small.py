"""The PixelCNN auto-encoder (Conditional Image Generation with PixelCNN Decoders, §2.4,
§3.4) on MNIST binarized at x > 127: a conv encoder to a 10-d code and a Gated PixelCNN
decoder of 2 layers × 32 conditioned on it, trained end to end by the likelihood of x
given its own code (the test NLL reported is that reconstruction NLL, not a density);
reconstructions.png shows test images and decodings of their codes. CPU-sized:

  python train_main.py --config=configs/pixelcnn_autoencoder_binarized_mnist_small.py \\
      --config.data.source=idx:../shared/data/mnist"""

import ml_collections

from configs import pixelcnn_binarized_mnist_small


def get_config():
    config = pixelcnn_binarized_mnist_small.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelcnn_autoencoder", conditioning="", code_size=10, num_layers=2,
        num_filters=32, first_kernel_size=5, encoder_filters=32, likelihood="bernoulli"))
    return config
