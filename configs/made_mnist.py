"""MADE (Germain et al. 2015), one hidden layer of 500 units, on MNIST binarized at x > 127.

  python train_main.py --config=configs/made_mnist.py                 # tfds:mnist
  python train_main.py --config=configs/made_mnist.py --config.data.source=idx:../shared/data/mnist

The second trains on the MNIST test-set copy (first 8,000 images train, last 2,000 test:
../shared/data/README.md), the split of benchmarks/made_vs_tfp.py.
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "tfds:mnist"
    config.data.binarize = "fixed"
    config.model = ml_collections.ConfigDict(dict(
        name="made", conditioning="", hidden_units=(500,), ordering="left_to_right",
        hidden_degrees="equal", num_masks=1, column_blocks="auto"))
    config.train.batch_size = 100
    config.train.steps = 6000
    config.train.learning_rate = 1e-3
    config.train.warmup_steps = 0
    config.train.log_every = 1000
    config.train.checkpoint_every = 2000
    return config
