"""A CPU-sized Gated PixelCNN (5 layers × 32 features, Bernoulli head) on MNIST binarized
at x > 127: python train_main.py --config=configs/gated_pixelcnn_binarized_mnist_small.py \\
    --config.data.source=idx:../shared/data/mnist"""

from configs import pixelcnn_binarized_mnist_small


def get_config():
    config = pixelcnn_binarized_mnist_small.get_config()
    config.model.update(dict(name="gated_pixelcnn", num_layers=5, num_filters=32))
    config.model.first_kernel_size = 5
    return config
