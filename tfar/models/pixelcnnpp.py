"""PixelCNN++: two shifted streams, gated ResNet blocks, a U-Net of resolutions.

Salimans, Karpathy, Chen & Kingma, "PixelCNN++: Improving the PixelCNN with Discretized
Logistic Mixture Likelihood and Other Modifications", ICLR 2017 (2.92 bits/dim on
CIFAR-10), §2 and Figure 2:

- §2.1–2.2: each pixel's R, G, B come from one discretized logistic mixture with linear
  coupling of the channels (`tfar.likelihoods.DiscretizedLogisticMixture`), so the
  network conditions whole pixels and needs no channel masks;
- no blind spot (§2.4 of the Gated PixelCNN; here by two streams): a vertical stream u of
  down-shifted convolutions sees every row above, a horizontal stream ul of
  down-right-shifted convolutions sees the current row to the left and, through u, every
  row above (`tfar.layers.shifted`); the input is the image with a channel of ones (so the
  zero padding is told apart from black), read by a 2×3 down-shifted convolution (u) and a
  1×3 down-shifted plus a 2×1 down-right-shifted one (ul), each shifted by a row or a
  column so that no output sees its own pixel;
- §2.3–2.4: `num_hierarchies` resolutions, each `num_resnet` gated ResNet blocks with
  concatenated ELUs (`tfar.layers.GatedResNet`; ul's blocks take u as auxiliary input),
  stride-2 shifted convolutions between them on the way down, stride-2 shifted transposed
  convolutions on the way up, and a skip connection from every block down to its mirror
  block up (u's to u's; ul's concatenated with u to ul's), `num_resnet + 1` blocks per
  resolution up (the extra one takes the downsampling's output as its skip);
- §2.6: dropout on the blocks' inner features in training;
- weight normalization (Salimans & Kingma 2016) of every kernel with `weight_norm=True`
  (`tfar.layers.weight_norm`; the paper's models use it), with its data-dependent
  initialization through `initialize_from_data` (the trainer's first batch).

The output is a 1×1 convolution of elu(ul) to the mixture's parameters at every pixel. A
vector condition (class one-hot, a caption's summary, any `tfar.conditioning`) enters
every block's gate (`GatedResNet`'s h). Images' heights and widths must be divisible by
2^(num_hierarchies − 1).
"""

import tensorflow as tf
import tensorflow_probability as tfp

import keras

from tfar.layers.dropout import check_rate
from tfar.layers.gated_resnet import GatedResNet
from tfar.layers.shifted import (DownRightShiftedConv2D, DownRightShiftedConv2DTranspose,
                                 DownShiftedConv2D, DownShiftedConv2DTranspose, down_shift,
                                 right_shift)
from tfar.layers.weight_norm import WeightNormConv2D
from tfar.models.image import ImageDistribution, ImageNetwork, image_arguments
from tfar.network import PARAMS_DTYPE
from tfar.registry import register
from tfar.sampling.pixelcnnpp import PixelCNNPlusPlusSampler


@keras.saving.register_keras_serializable(package="tfar")
class PixelCNNPlusPlusNetwork(ImageNetwork):
    """PixelCNN++'s network: values [B, D] (+ condition [B, K]) -> params [1, B, U, P].

    Args:
      image_shape: (H, W, C).
      num_values, params_size, values_per_unit, conditional_size: see `ImageNetwork`
        (values_per_unit C: one params row per pixel).
      num_resnet: gated ResNet blocks per resolution on the way down (one more up).
      num_hierarchies: resolutions (H, H/2, …).
      num_filters: F, every stream's features.
      dropout: rate on the blocks' inner features in training.
      weight_norm: whether every kernel is weight-normalized.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit,
                 conditional_size=None, num_resnet=5, num_hierarchies=3, num_filters=160,
                 dropout=0.5, weight_norm=False, **kwargs):
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, **kwargs)
        self.require_vector_condition()
        self.num_resnet, self.num_hierarchies = int(num_resnet), int(num_hierarchies)
        self.num_filters, self.dropout = int(num_filters), check_rate(dropout)
        self.weight_norm = bool(weight_norm)
        f, k, wn = self.num_filters, self.conditional_size, self.weight_norm

        def blocks(shift, level, count, way):
            # down: ul's blocks take u; up: every block takes its skip connection
            auxiliary = way == "up" or shift == "down_right"
            return [GatedResNet(f, shift, auxiliary=auxiliary, conditional_size=k,
                                dropout=self.dropout, weight_norm=wn,
                                name=f"{way}_{level}_{shift}_{i}")
                    for i in range(count)]

        self.input_u = DownShiftedConv2D(f, (2, 3), weight_norm=wn, name="input_u")
        self.input_ul_down = DownShiftedConv2D(f, (1, 3), weight_norm=wn, name="input_ul_down")
        self.input_ul_right = DownRightShiftedConv2D(f, (2, 1), weight_norm=wn,
                                                     name="input_ul_right")
        levels = range(self.num_hierarchies)
        self.down_u = [blocks("down", i, self.num_resnet, "down") for i in levels]
        self.down_ul = [blocks("down_right", i, self.num_resnet, "down") for i in levels]
        self.downsample_u = [DownShiftedConv2D(f, (2, 3), strides=2, weight_norm=wn,
                                               name=f"downsample_u_{i}")
                             for i in levels[:-1]]
        self.downsample_ul = [DownRightShiftedConv2D(f, (2, 2), strides=2, weight_norm=wn,
                                                     name=f"downsample_ul_{i}")
                              for i in levels[:-1]]
        last = self.num_hierarchies - 1  # the deepest level: num_resnet blocks up, others one more
        self.up_u = [blocks("down", i, self.num_resnet + (i < last), "up") for i in levels]
        self.up_ul = [blocks("down_right", i, self.num_resnet + (i < last), "up")
                      for i in levels]
        self.upsample_u = [DownShiftedConv2DTranspose(f, (2, 3), weight_norm=wn,
                                                      name=f"upsample_u_{i}")
                           for i in levels[:-1]]
        self.upsample_ul = [DownRightShiftedConv2DTranspose(f, (2, 2), weight_norm=wn,
                                                            name=f"upsample_ul_{i}")
                            for i in levels[:-1]]
        pointwise = WeightNormConv2D if wn else keras.layers.Conv2D
        self.output_layer = pointwise(self.output_features, 1, name="output",
                                      dtype=PARAMS_DTYPE)

    def call(self, inputs, conditional_input=None, training=False, seed=None):
        x = self.images(inputs)
        x = tf.concat([x, tf.ones_like(x[..., :1])], axis=-1)
        h = (None if self.conditional_size is None
             else tf.reshape(conditional_input, [-1, self.conditional_size]))
        seeds = iter(tf.unstack(tf.random.experimental.stateless_split(
            tfp.random.sanitize_seed(seed, salt="pixelcnnpp_dropout"),
            2 * self.num_hierarchies * (2 * self.num_resnet + 1)))
            if training and self.dropout > 0 else [])

        def run(layer, stream, a=None):
            return layer(stream, a, h, training=training, seed=next(seeds, None))

        u = down_shift(self.input_u(x))
        ul = down_shift(self.input_ul_down(x)) + right_shift(self.input_ul_right(x))
        us, uls = [u], [ul]
        for i in range(self.num_hierarchies):
            for block_u, block_ul in zip(self.down_u[i], self.down_ul[i]):
                us.append(run(block_u, us[-1]))
                uls.append(run(block_ul, uls[-1], us[-1]))
            if i < self.num_hierarchies - 1:
                us.append(self.downsample_u[i](us[-1]))
                uls.append(self.downsample_ul[i](uls[-1]))
        u, ul = us.pop(), uls.pop()
        for i in reversed(range(self.num_hierarchies)):
            for block_u, block_ul in zip(self.up_u[i], self.up_ul[i]):
                u = run(block_u, u, us.pop())
                ul = run(block_ul, ul, tf.concat([u, uls.pop()], axis=-1))
            if i > 0:
                u, ul = self.upsample_u[i - 1](u), self.upsample_ul[i - 1](ul)
        return self.params(self.output_layer(tf.nn.elu(ul)))

    def get_config(self):
        config = super().get_config()
        config.update(self.image_config(), num_resnet=self.num_resnet,
                      num_hierarchies=self.num_hierarchies, num_filters=self.num_filters,
                      dropout=self.dropout, weight_norm=self.weight_norm)
        return config


@register("pixelcnnpp")
class PixelCNNPlusPlus(ImageDistribution):
    """PixelCNN++ (Salimans et al. 2017) over images [H, W, C] of integers in [0, V).

        d = tfar.PixelCNNPlusPlus(image_shape=(32, 32, 3), num_values=256)

    Args:
      image_shape: (H, W, C), H and W divisible by 2^(num_hierarchies − 1).
      num_values: V.
      num_resnet, num_hierarchies, num_filters, dropout, weight_norm: see
        `PixelCNNPlusPlusNetwork` (the paper's CIFAR-10 model: 5, 3, 160, 0.5, True);
        with weight normalization, `initialize_from_data` on a first batch sets its
        data-dependent initial values (the trainer does).
      num_mixtures: components of the discretized logistic mixture (the paper's 10).
      likelihood: "logistic_mixture" (default); "categorical" or "bernoulli" for one
        channel (a per-sub-pixel head would need channel masks, which this network has
        none of).
      conditional_shape: shape of a vector condition, in every block's gate; None for none.
      conditioning: any vector-valued `tfar.conditioning.Conditioning` instead.
      text_encoder: a `tfar.layers.TextEncoder` (captions as `conditional_input`).
      network: a built `PixelCNNPlusPlusNetwork` to wrap.
      dtype, validate_args, name: as `tfar.AutoregressiveDistribution`.
    """

    def __init__(self, image_shape, num_values=256, num_resnet=5, num_hierarchies=3,
                 num_filters=160, dropout=0.5, weight_norm=True, num_mixtures=10,
                 likelihood="logistic_mixture",
                 conditional_shape=None, conditioning=None, text_encoder=None, network=None,
                 dtype=tf.float32, validate_args=False, name="PixelCNNPlusPlus"):
        parameters = dict(locals())
        image_shape, head, conditioning = image_arguments(
            image_shape, num_values, likelihood, num_mixtures,
            conditional_shape=conditional_shape, conditioning=conditioning,
            text_encoder=text_encoder)
        if head.values_per_unit != image_shape[-1]:
            raise ValueError(
                f"{name}: likelihood={likelihood!r} models one sub-pixel at a time, which a "
                f"{image_shape[-1]}-channel PixelCNN++ cannot condition (it has no channel "
                "masks); use likelihood='logistic_mixture' (its channels are coupled in the "
                "head).")
        divisor = 2 ** (int(num_hierarchies) - 1)
        if int(num_hierarchies) < 1 or image_shape[0] % divisor or image_shape[1] % divisor:
            raise ValueError(f"{name}: num_hierarchies={num_hierarchies} needs a height and "
                             f"width divisible by {divisor}; got image_shape {image_shape}.")
        if network is None:
            network = PixelCNNPlusPlusNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                conditioning=conditioning, num_resnet=num_resnet,
                num_hierarchies=num_hierarchies, num_filters=num_filters, dropout=dropout,
                weight_norm=weight_norm, name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, image_shape, num_values, head, conditioning, dtype,
                         validate_args, parameters, name)

    @property
    def sampling_methods(self):
        """"naive", and "cached" (the default): `tfar.sampling.pixelcnnpp.
        PixelCNNPlusPlusSampler`, a row of the vertical stream per image row and a pixel
        of the horizontal stream per step, at every resolution."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return PixelCNNPlusPlusSampler(self._network, c, components)
        return super()._make_sampler(method, c, components)
