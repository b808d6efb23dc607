"""A CPU-sized Gated PixelCNN (5 layers × 32 features, logistic mixture) on 8-bit MNIST:
python train_main.py --config=configs/gated_pixelcnn_mnist_small.py \\
    --config.data.source=idx:../shared/data/mnist"""

from configs import gated_pixelcnn_mnist


def get_config():
    config = gated_pixelcnn_mnist.get_config()
    config.model.update(dict(num_layers=5, num_filters=32, first_kernel_size=5))
    config.train.batch_size = 32
    config.train.steps = 2000
    config.train.log_every = 200
    config.train.checkpoint_every = 500
    return config
