"""PixelVAE (Gulrajani et al. 2017, §4.1) on tfds:binarized_mnist: a conv encoder to a
64-d diagonal Gaussian, the decoder map of z upsampled into a Gated PixelCNN of 3 layers
× 64 (few autoregressive layers: the paper's point), KL warm-up over 10,000 steps; test
NLL is the importance-weighted estimate with k = 64 (ELBO in metrics.json's train terms).
GPU-sized. Two latent levels: --config.model.num_levels=2."""

import ml_collections

from configs import default, pixelcnn_mnist


def get_config():
    config = pixelcnn_mnist.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelvae", conditioning="", latent_dim=64, num_levels=1, num_layers=3,
        num_filters=64, first_kernel_size=7, encoder_filters=64, map_channels=16,
        likelihood="bernoulli", num_importance_samples=64, kl_warmup_steps=10_000,
        free_bits=0.0))
    return default.on_binarized_mnist(config)
