"""Gated PixelCNN: vertical and horizontal stacks, gated units, class and spatial conditions.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image
Generation with PixelCNN Decoders", NIPS 2016. The network is a first
`GatedPixelCNNBlock` with a mask-A horizontal convolution (7×7 receptive field), then
`num_layers - 1` blocks with 3×3 receptive fields (`tfar.layers.gated`), no blind spot; the
sum of the blocks' skip outputs goes through ReLU, a 1×1 layer, ReLU and a 1×1 layer to the
per-sub-pixel (or per-pixel, for the logistic mixture) parameters.

Conditioning (§2.3, `tfar.conditioning`): a vector h (of `conditional_shape` (K,), a
class label's one-hot or embedding, or a caption's summary from a `TextEncoder`) enters
every gate through a learned linear map (eq. 4); a spatial map (of
`spatial_conditional_shape` (h', w', c'), or a caption's `CaptionToMaps`) is upsampled to
the image by a transposed convolution, s = m(h), and enters every gate through a 1×1
convolution (eq. 5).
"""

import tensorflow as tf

import keras

from tfar.conditioning import SpatialMap
from tfar.layers.gated import GatedPixelCNNBlock
from tfar.layers.masked import MaskedConv2D
from tfar.models.image import ImageDistribution, ImageNetwork, check_grouped, image_arguments
from tfar.network import PARAMS_DTYPE
from tfar.sampling.gated_pixelcnn import GatedPixelCNNSampler
from tfar.registry import register


@keras.saving.register_keras_serializable(package="tfar")
class GatedPixelCNNNetwork(ImageNetwork):
    """values [B, D] (+ condition) -> params [1, B, U, P].

    Args:
      image_shape, num_values, params_size, values_per_unit, conditional_size: see
        `tfar.models.image.ImageNetwork`; `conditional_size` is the flat size of the
        condition (the vector, or the spatial map).
      spatial_conditional_shape: (h', w', c') of a spatial condition map, with H, W
        multiples of h', w'; None for none (the older argument of `conditioning=
        tfar.conditioning.SpatialMap(...)`; a condition whose features are maps, e.g. a
        caption through `CaptionToMaps`, takes the same path).
      num_layers: gated blocks (the first included).
      num_filters: F, features of each stack.
      first_kernel_size, kernel_size: receptive field of the first block (7) and the rest (3).
      output_filters: features of the hidden 1×1 output layer.
    """

    def __init__(self, image_shape, num_values, params_size, values_per_unit=1,
                 conditional_size=None, spatial_conditional_shape=None, num_layers=15,
                 num_filters=128, first_kernel_size=7, kernel_size=3, output_filters=None,
                 conditioning=None, **kwargs):
        if spatial_conditional_shape is not None:  # a map, as configs before conditioning
            if conditioning is not None:           # said it (with its flat size)
                raise ValueError("Give conditioning or spatial_conditional_shape, not both.")
            conditioning, conditional_size = SpatialMap(spatial_conditional_shape), None
        super().__init__(image_shape, num_values, params_size, values_per_unit,
                         conditional_size, conditioning=conditioning, **kwargs)
        self.spatial_conditional_shape = (None if self.conditioning is None
                                          else self.conditioning.map_shape)
        self.num_layers, self.num_filters = int(num_layers), int(num_filters)
        check_grouped(self.image_shape, self.values_per_unit, num_filters=self.num_filters)
        self.first_kernel_size, self.kernel_size = int(first_kernel_size), int(kernel_size)
        self.output_filters = int(output_filters or 2 * num_filters)
        self.upsample = None
        spatial_features = None
        if self.spatial_conditional_shape is not None:
            (height, width, _), (h, w, _) = self.image_shape, self.spatial_conditional_shape
            if height % h or width % w:
                raise ValueError(f"spatial_conditional_shape {self.spatial_conditional_shape} "
                                 f"must divide the image's {height}×{width}.")
            spatial_features = self.num_filters
            self.upsample = keras.layers.Conv2DTranspose(
                spatial_features, (height // h, width // w), strides=(height // h, width // w),
                name="spatial_upsample")
        self.blocks = [GatedPixelCNNBlock(
            self.num_filters, self.first_kernel_size if i == 0 else self.kernel_size,
            groups=self.groups, first=i == 0, last=i == self.num_layers - 1 and i > 0,
            conditional_size=None if spatial_features else self.conditional_size,
            spatial_features=spatial_features, name=f"gated_{i}")
            for i in range(self.num_layers)]
        self.output_hidden = MaskedConv2D(self.output_filters, 1, "B", self.groups,
                                          name="output_hidden")
        self.output_layer = MaskedConv2D(self.output_features, 1, "B", self.groups,
                                         name="output", dtype=PARAMS_DTYPE)

    def call(self, inputs, conditional_input=None, training=False, seed=None):
        del training, seed  # no dropout
        v = h = self.images(inputs)
        condition = spatial = None
        if self.upsample is not None:
            spatial = self.upsample(tf.reshape(conditional_input,
                                               (-1,) + self.spatial_conditional_shape))
        elif self.conditional_size is not None:
            condition = tf.reshape(conditional_input, [-1, self.conditional_size])
        skips = 0.0
        for block in self.blocks:
            v, h, skip = block(v, h, condition=condition, spatial_condition=spatial)
            skips = skips + skip
        y = self.output_layer(tf.nn.relu(self.output_hidden(tf.nn.relu(skips))))
        return self.params(y)

    def get_config(self):
        config = super().get_config()
        config.update(self.image_config(), num_layers=self.num_layers, num_filters=self.num_filters,
                      first_kernel_size=self.first_kernel_size, kernel_size=self.kernel_size,
                      output_filters=self.output_filters)
        return config


@register("gated_pixelcnn")
class GatedPixelCNN(ImageDistribution):
    """Gated PixelCNN over images [H, W, C] of integers in [0, V).

        d = tfar.GatedPixelCNN(image_shape=(32, 32, 3), num_values=256, num_layers=15,
                               num_filters=128, conditional_shape=(10,))
        d.sample(10, seed=(1, 2), conditional_input=tf.one_hot(tf.range(10), 10))

    Args:
      image_shape: (H, W, C).
      num_values: V.
      num_layers, num_filters, first_kernel_size, kernel_size, output_filters: see
        `GatedPixelCNNNetwork`.
      likelihood: "bernoulli" (V = 2), "categorical" (default) or "logistic_mixture".
      num_mixtures: components of the logistic mixture.
      conditional_shape: (K,) of a vector condition (eq. 4); None for none.
      spatial_conditional_shape: (h', w', c') of a spatial condition map (§2.3); then
        `conditional_input` is that map.
      conditioning: any `tfar.conditioning.Conditioning` instead: `ClassLabel(10)` (int
        labels), `Caption(text_encoder, map_shape=(h', w', k))` (a caption as maps), ….
      text_encoder: a `tfar.layers.TextEncoder`: `conditional_input` is then caption
        strings [B], their summary vector in every gate (`Caption(text_encoder)`).
        Give at most one of the four.
      network, dtype, validate_args, name: as `tfar.PixelCNN`.
    """

    def __init__(self, image_shape, num_values=256, num_layers=15, num_filters=128,
                 first_kernel_size=7, kernel_size=3, output_filters=None,
                 likelihood="categorical", num_mixtures=5, conditional_shape=None,
                 spatial_conditional_shape=None, conditioning=None, text_encoder=None,
                 network=None, dtype=tf.float32, validate_args=False, name="GatedPixelCNN"):
        parameters = dict(locals())
        image_shape, head, conditioning = image_arguments(
            image_shape, num_values, likelihood, num_mixtures,
            conditional_shape=conditional_shape,
            spatial_conditional_shape=spatial_conditional_shape, conditioning=conditioning,
            text_encoder=text_encoder)
        if network is None:
            network = GatedPixelCNNNetwork(
                image_shape, num_values, head.params_size, head.values_per_unit,
                conditioning=conditioning, num_layers=num_layers, num_filters=num_filters,
                first_kernel_size=first_kernel_size, kernel_size=kernel_size,
                output_filters=output_filters, name=f"{name}_network").build_variables()
        parameters["network"] = network
        super().__init__(network, image_shape, num_values, head, conditioning, dtype,
                         validate_args, parameters, name)

    @property
    def sampling_methods(self):
        """"naive", and "cached" (the default): `tfar.sampling.gated_pixelcnn.
        GatedPixelCNNSampler`, a row of the vertical stack per image row and a pixel of
        the horizontal stack per step."""
        return ("naive", "cached")

    def _make_sampler(self, method, c, components):
        if method == "cached":
            return GatedPixelCNNSampler(self._network, c, components)
        return super()._make_sampler(method, c, components)
