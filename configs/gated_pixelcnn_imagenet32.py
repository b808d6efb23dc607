"""Gated PixelCNN on ImageNet 32×32 (tfds:imagenet_resized/32x32; the data must already be
in --config.data.data_dir) with the logistic mixture head: 20 gated layers × 256 features,
GPU-sized; tested on the validation split (the dataset has no test split). The train split
(3.9 GB of images) is streamed (see tfar/training/input_pipeline.py)."""

from configs import gated_pixelcnn_cifar10


def get_config():
    config = gated_pixelcnn_cifar10.get_config()
    config.data.source = "tfds:imagenet_resized/32x32"
    config.data.test_split = "validation"  # imagenet_resized has no test split
    config.data.num_classes = 1000
    config.model.update(dict(num_layers=20, num_filters=256, likelihood="logistic_mixture"))
    config.model.num_mixtures = 10
    config.train.steps = 500_000
    return config
