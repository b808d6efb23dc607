"""A CPU-sized PixelRNN (7×7 mask-A input layer, 2 Diagonal BiLSTM layers of h = 16,
Bernoulli head; about the parameters of `pixelcnn_binarized_mnist_small`) on MNIST
binarized at x > 127, the budget of the PixelCNN rows (2,000 steps of batch 32):

  python train_main.py --config=configs/pixelrnn_binarized_mnist_small.py \\
      --config.data.source=idx:../shared/data/mnist [--config.model.cell=row_lstm]"""

import ml_collections

from configs import pixelcnn_binarized_mnist_small


def get_config():
    config = pixelcnn_binarized_mnist_small.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelrnn", conditioning="", cell="diagonal_bilstm", num_layers=2,
        hidden_units=16, first_kernel_size=7, likelihood="bernoulli"))
    return config
