"""PixelCNN++ (Salimans et al. 2017) on 16×16 RGB patches of scikit-image's photographs
(`photos:16`: 6,732 train / 2,441 test patches, split by photograph; offline), CPU-sized:
2 gated ResNet blocks per resolution, 3 resolutions (16, 8, 4), 32 filters, 5 logistic
mixture components, dropout 0.5, weight normalization (initialized from the first batch),
cosine schedule."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "photos:16"
    config.model = ml_collections.ConfigDict(dict(
        name="pixelcnnpp", conditioning="", num_resnet=2, num_hierarchies=3, num_filters=32,
        num_mixtures=5, dropout=0.5, weight_norm=True))
    config.train.update(dict(batch_size=32, steps=3000, learning_rate=1e-3, warmup_steps=100,
                             log_every=500, checkpoint_every=1000))
    config.eval.update(dict(num_samples=16, sample_columns=4))
    return config
