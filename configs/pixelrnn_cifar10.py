"""PixelRNN on CIFAR-10 (tfds:cifar10), a 256-way softmax per sub-pixel in the R → G → B
order (channel groups in every layer, §3.4): 12 Diagonal BiLSTM layers of h = 129 (the
paper's 128, rounded up to a multiple of the 3 channel groups), GPU-sized. The Row LSTM:
--config.model.cell=row_lstm."""

import ml_collections

from configs import gated_pixelcnn_cifar10


def get_config():
    config = gated_pixelcnn_cifar10.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelrnn", conditioning="", cell="diagonal_bilstm", num_layers=12,
        hidden_units=129, first_kernel_size=7, likelihood="categorical"))
    return config
