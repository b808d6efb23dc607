"""PixelRNN on tfds:binarized_mnist, the paper's model (§5, Table 4: 79.20 nats): a 7×7
mask-A input convolution, 7 Diagonal BiLSTM layers of h = 16 with residual connections,
a Bernoulli head. GPU-sized. The Row LSTM: --config.model.cell=row_lstm."""

import ml_collections

from configs import default, pixelcnn_mnist


def get_config():
    config = pixelcnn_mnist.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelrnn", conditioning="", cell="diagonal_bilstm", num_layers=7,
        hidden_units=16, first_kernel_size=7, likelihood="bernoulli"))
    return default.on_binarized_mnist(config)
