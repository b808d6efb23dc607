"""The Parallel Multiscale PixelCNN at CelebA-HQ sizes (tfds:celeb_a_hq/256, a manual
download into --config.data.data_dir; test on its train split's last 10% as
validation), 256×256 from an 8×8 base (5 doublings: 192 + 15 sequential steps per
sample), the logistic mixture head, GPU-sized (several accelerators:
--strategy=mirrored). Images are 8-bit; --config.data.image_size=128,128 trains at
128×128."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "tfds:celeb_a_hq/256"
    config.data.train_split = "train[:90%]"
    config.data.test_split = "train[90%:]"
    config.model = ml_collections.ConfigDict(dict(
        name="multiscale_pixelcnn", conditioning="", base_size=8, base_layers=12,
        base_filters=128, base_kernel_size=5, upscale_blocks=8, upscale_filters=128,
        likelihood="logistic_mixture", num_mixtures=10))
    config.train.update(dict(batch_size=32, steps=300_000, learning_rate=5e-4,
                             warmup_steps=2000, ema_decay=0.9995, log_every=1000,
                             checkpoint_every=10_000))
    config.eval.batch_size = 32
    config.eval.num_samples = 16
    config.eval.sample_columns = 4
    return config
