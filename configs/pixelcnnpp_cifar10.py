"""PixelCNN++ (Salimans et al. 2017) on CIFAR-10 (tfds:cifar10) with the paper's settings:
5 gated ResNet blocks per resolution, 3 resolutions, 160 filters, 10 logistic mixture
components, dropout 0.5, weight normalization (initialized from the first batch), Adam
1e-3 decayed by 0.999995 per step, Polyak averaging of the
weights (EMA 0.9995); the paper reports 2.92 bits/dim. GPU-sized."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "tfds:cifar10"
    config.model = ml_collections.ConfigDict(dict(
        name="pixelcnnpp", conditioning="", num_resnet=5, num_hierarchies=3, num_filters=160,
        num_mixtures=10, dropout=0.5, weight_norm=True))
    config.train.update(dict(batch_size=64, steps=500_000, schedule="exponential",
                             learning_rate=1e-3, decay_steps=1, decay_rate=0.999995,
                             warmup_steps=0, ema_decay=0.9995, log_every=1000,
                             checkpoint_every=10_000))
    config.eval.num_samples = 16
    return config
