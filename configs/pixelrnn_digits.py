"""A small PixelRNN (2 Diagonal BiLSTM layers of h = 16, 5×5 mask-A input layer) on the
8×8 digits with a 17-way softmax per pixel, the budget of `pixelcnn_digits` (3,000 steps
of batch 64): a few minutes on 2 CPU cores. The Row LSTM: --config.model.cell=row_lstm."""

import ml_collections

from configs import pixelcnn_digits


def get_config():
    config = pixelcnn_digits.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="pixelrnn", conditioning="", cell="diagonal_bilstm", num_layers=2,
        hidden_units=16, first_kernel_size=5, likelihood="categorical"))
    return config
