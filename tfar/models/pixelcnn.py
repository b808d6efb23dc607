"""PixelCNN: a stack of masked convolutions over the image.

van den Oord, Kalchbrenner, Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016,
§3.4 (masked convolutions, masks A and B, RGB sub-pixel channel groups), §3.5 and
Figure 5 (residual blocks), §5.1 (the discrete softmax over 256 values). A 7×7 mask-A
convolution reads the image; residual blocks (ReLU, 1×1, ReLU, 3×3 mask B, ReLU, 1×1)
follow; two 1×1 ReLU layers give the per-sub-pixel parameters.

Stacked 3×3 masks leave a blind spot above-right of each pixel (a test shows it);
`tfar.GatedPixelCNN` removes it. Heads: "bernoulli", "categorical" (one softmax per
sub-pixel, R then G then B, conditioned through the channel groups of the masks) and
"logistic_mixture" (PixelCNN++: one mixture per pixel; its R, G, B are coupled in the head,
so the network masks whole pixels).
"""

import tensorflow as tf

import keras

from tfar.layers.masked import MaskedConv2D
from tfar.models.image import (ImageDistribution, ResidualStreamNetwork, check_grouped,
                               image_arguments)
from tfar.sampling.pixelcnn import PixelCNNSampler
from tfar.registry import register


@keras.saving.register_keras_serializable(package="tfar")
class PixelCNNNetwork(ResidualStreamNetwork):
    """PixelCNN's network: values [B, D] (+ condition [B, K]) -> params [1, B, U, P].

    Args:
      image_shape: (H, W, C).
      num_values, params_size, values_per_unit, conditional_size: see `ImageNetwork`.
      num_layers: residual blocks after the input layer (`ResidualStreamNetwork`): ReLU,
        1×1, ReLU, `kernel_size`² mask B, ReLU, 1×1.
      num_filters: h; the residual stream has 2h features (PixelRNN Figure 5).
      first_kernel_size, kernel_size: the mask-A input convolution (7) and the blocks' (3).
      output_filters: features of the hidden 1×1 output layer.
      dropout: rate at which training drops each block's output (0: none).
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1,
                 conditional_size=None, num_layers=7, num_filters=64, first_kernel_size=7,
                 kernel_size=3, output_filters=None, dropout=0.0, **kwargs):
        check_grouped(image_shape, values_per_unit, num_filters=num_filters)
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, num_layers, 2 * int(num_filters), first_kernel_size,
                         output_filters, dropout, **kwargs)
        self.num_filters, self.kernel_size = int(num_filters), int(kernel_size)
        g, h = self.groups, self.num_filters
        self.blocks = [[MaskedConv2D(h, 1, "B", g, name=f"block_{i}_in"),
                        MaskedConv2D(h, kernel_size, "B", g, name=f"block_{i}_conv"),
                        MaskedConv2D(2 * h, 1, "B", g, name=f"block_{i}_out")]
                       for i in range(self.num_layers)]

    def residual(self, i, x, images):
        del images  # a block reads the stream only
        into, conv, out = self.blocks[i]
        return out(tf.nn.relu(conv(tf.nn.relu(into(tf.nn.relu(x))))))

    def get_config(self):
        config = super().get_config()
        config.update(self.image_config(), num_layers=self.num_layers,
                      num_filters=self.num_filters, first_kernel_size=self.first_kernel_size,
                      kernel_size=self.kernel_size, output_filters=self.output_filters,
                      dropout=self.dropout)
        return config


@register("pixelcnn")
class PixelCNN(ImageDistribution):
    """PixelCNN (PixelRNN paper §3.4–3.5) over images [H, W, C] of integers in [0, V).

        d = tfar.PixelCNN(image_shape=(28, 28, 1), num_values=256, num_layers=7,
                          num_filters=64, likelihood="categorical")

    Args:
      image_shape: (H, W, C).
      num_values: V.
      num_layers, num_filters, first_kernel_size, kernel_size, output_filters, dropout:
        see `PixelCNNNetwork`.
      likelihood: "bernoulli" (V = 2), "categorical" (default) or "logistic_mixture".
      num_mixtures: components of the logistic mixture.
      conditional_shape: shape of a vector condition (e.g. (10,) one-hot classes), added
        linearly to every block; None for none.
      conditioning: any vector-valued `tfar.conditioning.Conditioning` instead (e.g.
        `ClassLabel(10)`, `Caption(text_encoder)`).
      text_encoder: a `tfar.layers.TextEncoder`: the model takes caption strings [B] as
        `conditional_input` (`Caption(text_encoder)`). Give at most one of the three.
      network: a built `PixelCNNNetwork` to wrap instead of building one.
      dtype, validate_args, name: as `tfar.AutoregressiveDistribution`.
    """

    def __init__(self, image_shape, num_values=256, num_layers=7, num_filters=64,
                 first_kernel_size=7, kernel_size=3, output_filters=None, dropout=0.0,
                 likelihood="categorical", num_mixtures=5, conditional_shape=None,
                 conditioning=None, text_encoder=None, network=None, dtype=tf.float32,
                 validate_args=False, name="PixelCNN"):
        parameters = dict(locals())
        image_shape, head, conditioning = image_arguments(
            image_shape, num_values, likelihood, num_mixtures,
            conditional_shape=conditional_shape, conditioning=conditioning,
            text_encoder=text_encoder)
        if network is None:
            network = PixelCNNNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                conditioning=conditioning, num_layers=num_layers,
                num_filters=num_filters, first_kernel_size=first_kernel_size,
                kernel_size=kernel_size, output_filters=output_filters, dropout=dropout,
                name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, image_shape, num_values, head, conditioning, dtype,
                         validate_args, parameters, name)

    @property
    def sampling_methods(self):
        """The naive sampler (one network pass per step) and the cached one, the default
        (one pixel of every layer per step: `tfar.sampling.pixelcnn`)."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return PixelCNNSampler(self._network, c, components)
        return super()._make_sampler(method, c, components)
