"""A CPU-sized PixelCNN (4 residual blocks, h = 16, Bernoulli head) on MNIST binarized at
x > 127: python train_main.py --config=configs/pixelcnn_binarized_mnist_small.py \\
    --config.data.source=idx:../shared/data/mnist"""

from configs import pixelcnn_mnist


def get_config():
    config = pixelcnn_mnist.get_config()
    config.data.binarize = "fixed"
    config.model.update(dict(num_layers=4, num_filters=16, likelihood="bernoulli"))
    config.train.update(dict(batch_size=32, steps=2000, log_every=200, checkpoint_every=500,
                             learning_rate=2e-3))
    return config
