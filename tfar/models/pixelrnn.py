"""PixelRNN: Row LSTM and Diagonal BiLSTM layers over the image, with residual connections.

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016,
§3.1 (Row LSTM), §3.2 (Diagonal BiLSTM), §3.3 (residual connections), §3.4 (masks A
and B, RGB sub-pixel channel groups), §5 (architectures: a 7×7 mask-A input
convolution, the LSTM layers, two 1×1 ReLU output layers, a softmax per sub-pixel).

The network: a mask-A `first_kernel_size`² convolution reads the image into a residual
stream of 2h features (h = `hidden_units`). Each of `num_layers` LSTM layers
(`tfar.layers.RowLSTM` or `tfar.layers.DiagonalBiLSTM`, h units) reads the stream; its
output, projected back to 2h features by a 1×1 mask-B convolution, is added to it
(§3.3). Then ReLU, a 1×1 mask-B hidden layer, ReLU, and a 1×1 mask-B output layer give
the per-sub-pixel (or per-pixel, for the logistic mixture) parameters. Every layer uses
the channel groups of the head (C for per-sub-pixel heads, 1 for the logistic mixture),
so sub-pixel j of a pixel never sees sub-pixels >= j of that pixel, nor a later pixel.
With `full_past` (the default) the first Diagonal BiLSTM's right-to-left stream also reads
the image, which it may (it is shifted down a row): every sub-pixel then sees every
earlier one, where the paper's network (`full_past=False`) misses x(r − 1, W − 1) at row
r's pixels c < W − 1 − k//2, hidden by the mask-A input layer (DESIGN.md, pitfalls).

Heads: "bernoulli", "categorical" and "logistic_mixture", as `tfar.PixelCNN`. Sampling:
the naive loop (one network pass per step) and the cached samplers of
`tfar.sampling.pixelrnn` (one pixel of every layer per step; the Diagonal BiLSTM's
right-to-left stream one row of every layer per image row), the default.
"""

import tensorflow as tf

import keras

from tfar.layers.lstm import DiagonalBiLSTM, RowLSTM
from tfar.layers.masked import MaskedConv2D
from tfar.models.image import ImageDistribution, ResidualStreamNetwork, image_arguments
from tfar.sampling.pixelrnn import DiagonalBiLSTMSampler, RowLSTMSampler
from tfar.registry import register

CELLS = ("row_lstm", "diagonal_bilstm")


def check_cell(cell):
    """The cell name, or a clear error."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}; got {cell!r}.")
    return cell


def resolve_full_past(full_past, cell):
    """`full_past` for `cell`: None -> True for the Diagonal BiLSTM, False for the Row
    LSTM; True with the Row LSTM is a ValueError (its field is a triangle)."""
    if full_past is None:
        return cell == "diagonal_bilstm"
    if full_past and cell != "diagonal_bilstm":
        raise ValueError(f"full_past=True applies to the Diagonal BiLSTM only; the {cell}'s "
                         "field is a triangle by design. Leave full_past=None (or False).")
    return bool(full_past)


@keras.saving.register_keras_serializable(package="tfar")
class PixelRNNNetwork(ResidualStreamNetwork):
    """PixelRNN's network: values [B, D] (+ condition [B, K]) -> params [1, B, U, P].

    Args:
      image_shape: (H, W, C).
      num_values, params_size, values_per_unit, conditional_size: see `ImageNetwork`.
      cell: "row_lstm" (§3.1, state-to-state kernel 3) or "diagonal_bilstm" (§3.2).
      num_layers: LSTM layers.
      hidden_units: h, the units of each LSTM layer; the residual stream has 2h features.
      first_kernel_size: the mask-A input convolution's kernel (7 in the paper).
      output_filters: features of the hidden 1×1 output layer (default 2h).
      full_past: Diagonal BiLSTM only: the first layer's right-to-left stream also reads
        the image (`DiagonalBiLSTM(image_channels=C)`), so that every sub-pixel sees every
        earlier one. False is the paper's network, in which the mask-A input layer hides
        x(r − 1, W − 1) from row r's pixels c < W − 1 − first_kernel_size//2 (DESIGN.md,
        pitfalls). None (the default): True for the Diagonal BiLSTM, False for the Row
        LSTM (whose field is a triangle by design; True is an error there).
      dropout: rate at which training drops each layer's projected output (0: none).
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1,
                 conditional_size=None, cell="diagonal_bilstm", num_layers=7, hidden_units=16,
                 first_kernel_size=7, output_filters=None, full_past=None, dropout=0.0,
                 **kwargs):
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, num_layers, 2 * int(hidden_units), first_kernel_size,
                         output_filters, dropout, **kwargs)
        self.cell, self.hidden_units = check_cell(cell), int(hidden_units)
        self.full_past = resolve_full_past(full_past, cell)
        g, h, channels = self.groups, self.hidden_units, self.image_shape[-1]
        self.lstm_layers = [
            (RowLSTM(h, kernel_size=3, groups=g, name=f"lstm_{i}") if cell == "row_lstm"
             else DiagonalBiLSTM(h, groups=g, name=f"lstm_{i}",
                                 image_channels=channels if self.full_past and i == 0 else None))
            for i in range(self.num_layers)]
        self.projections = [MaskedConv2D(2 * h, 1, "B", g, name=f"residual_{i}")
                            for i in range(self.num_layers)]

    def residual(self, i, x, images):
        """The LSTM layer reads the stream (the first Diagonal BiLSTM also the images, with
        `full_past`); its output, projected 1×1, is added (§3.3)."""
        lstm = self.lstm_layers[i]
        if self.full_past and i == 0:
            return self.projections[i](lstm(x, images))
        return self.projections[i](lstm(x))

    def get_config(self):
        config = super().get_config()
        config.update(self.image_config(), cell=self.cell, num_layers=self.num_layers,
                      hidden_units=self.hidden_units, first_kernel_size=self.first_kernel_size,
                      output_filters=self.output_filters, full_past=self.full_past,
                      dropout=self.dropout)
        return config


@register("pixelrnn")
class PixelRNN(ImageDistribution):
    """PixelRNN (§3.1–3.4) over images [H, W, C] of integers in [0, V).

        d = tfar.PixelRNN(image_shape=(28, 28, 1), num_values=2, cell="diagonal_bilstm",
                          num_layers=7, hidden_units=16)

    Args:
      image_shape: (H, W, C).
      num_values: V.
      cell: "diagonal_bilstm" (default) or "row_lstm".
      num_layers, hidden_units, first_kernel_size, output_filters, full_past, dropout: see
        `PixelRNNNetwork` (full_past=None, the default, is True for the Diagonal BiLSTM:
        it closes the paper's network's one blind dimension per row; False is the
        paper's network).
      likelihood: "bernoulli", "categorical" or "logistic_mixture"; None: "bernoulli" for
        V = 2, else "categorical".
      num_mixtures: components of the logistic mixture.
      conditional_shape: shape of a vector condition (e.g. (10,) one-hot classes), added
        linearly to the residual stream after the input layer and each LSTM layer; None
        for none.
      conditioning, text_encoder: instead, any vector-valued `tfar.conditioning`
        condition, or a caption (see `tfar.PixelCNN`).
      network: a built `PixelRNNNetwork` to wrap instead of building one.
      dtype, validate_args, name: as `tfar.AutoregressiveDistribution`.
    """

    def __init__(self, image_shape, num_values=2, cell="diagonal_bilstm", num_layers=7,
                 hidden_units=16, first_kernel_size=7, output_filters=None, full_past=None,
                 dropout=0.0, likelihood=None, num_mixtures=5, conditional_shape=None,
                 conditioning=None, text_encoder=None, network=None, dtype=tf.float32,
                 validate_args=False, name="PixelRNN"):
        parameters = dict(locals())
        parameters["full_past"] = full_past = resolve_full_past(full_past, check_cell(cell))
        image_shape, head, conditioning = image_arguments(
            image_shape, num_values, likelihood, num_mixtures,
            conditional_shape=conditional_shape, conditioning=conditioning,
            text_encoder=text_encoder)
        if network is None:
            network = PixelRNNNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                conditioning=conditioning, cell=cell, num_layers=num_layers,
                hidden_units=hidden_units, first_kernel_size=first_kernel_size,
                output_filters=output_filters, full_past=full_past, dropout=dropout,
                name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, image_shape, num_values, head, conditioning, dtype,
                         validate_args, parameters, name)

    @property
    def sampling_methods(self):
        """The naive sampler (one network pass per step) and the cached one, the default
        (`tfar.sampling.pixelrnn`: one pixel of every layer per step; the Diagonal
        BiLSTM's right-to-left stream one row of every layer per image row)."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            sampler = (RowLSTMSampler if self._network.cell == "row_lstm"
                       else DiagonalBiLSTMSampler)
            return sampler(self._network, c, components)
        return super()._make_sampler(method, c, components)
