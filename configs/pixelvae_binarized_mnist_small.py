"""A CPU-sized PixelVAE on MNIST binarized at x > 127, the budget of the other
`*_binarized_mnist_small` rows (2,000 steps of batch 32): a 32-d latent, a Gated PixelCNN
decoder of 2 layers × 32 (compare `gated_pixelcnn_binarized_mnist_small
--config.model.num_layers=2`, the same autoregressive layers without a latent), KL
warm-up over 500 steps, test NLL by importance sampling with k = 64:

  python train_main.py --config=configs/pixelvae_binarized_mnist_small.py \\
      --config.data.source=idx:../shared/data/mnist"""

import ml_collections

from configs import pixelcnn_binarized_mnist_small


def get_config():
    config = pixelcnn_binarized_mnist_small.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelvae", conditioning="", latent_dim=32, num_levels=1, num_layers=2,
        num_filters=32, first_kernel_size=5, encoder_filters=32, map_channels=8,
        likelihood="bernoulli", num_importance_samples=64, kl_warmup_steps=500,
        free_bits=0.0))
    config.eval.batch_size = 100
    config.eval.num_samples = 16
    config.eval.sample_columns = 4
    return config
