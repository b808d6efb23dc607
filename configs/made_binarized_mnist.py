"""MADE on binarized MNIST (tfds:binarized_mnist: Larochelle & Murray's fixed stochastic
binarization, 50,000 train / 10,000 validation / 10,000 test), the papers' benchmark;
the model as in configs/made_mnist.py. Published test NLLs: ../shared/REFERENCES.md."""

from configs import made_mnist


def get_config():
    config = made_mnist.get_config()
    config.data.source = "tfds:binarized_mnist"
    config.data.binarize = ""          # already binary
    config.train.steps = 50_000        # 100 epochs of batch 100
    config.train.checkpoint_every = 5000
    return config
