"""The convolutional encoder of PixelVAE's q(z | x) and of the PixelCNN auto-encoder's
code (`tfar.models.pixelvae`, `tfar.models.pixelcnn_autoencoder`): images -> a vector."""

import numpy as np
import tensorflow as tf

import keras

from tfar.layers.tracking import ListsInCheckpoints


@keras.saving.register_keras_serializable(package="tfar")
class ConvEncoder(ListsInCheckpoints, keras.layers.Layer):
    """images [B, H, W, C] in [-1, 1] -> [B, units]: a 3×3 convolution of F features, two
    4×4 stride-2 convolutions of 2F ("same" padding, so any H, W), each with ReLU, then a
    linear layer of the flattened features.

    Args:
      filters: F.
      units: outputs (2d for a Gaussian of d dimensions, the code size for a code).
    """

    def __init__(self, filters, units, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.units = int(filters), int(units)
        self.convs = [
            keras.layers.Conv2D(self.filters, 3, padding="same", activation="relu",
                                name="conv_0"),
            keras.layers.Conv2D(2 * self.filters, 4, strides=2, padding="same",
                                activation="relu", name="conv_1"),
            keras.layers.Conv2D(2 * self.filters, 4, strides=2, padding="same",
                                activation="relu", name="conv_2")]
        # Its outputs are a distribution's parameters (PixelVAE's posterior) or a code:
        # float32 under a mixed policy.
        self.output_layer = keras.layers.Dense(self.units, name="output", dtype="float32")

    def build(self, input_shape):
        shape = (None,) + tuple(input_shape[1:])
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        self.output_layer.build((None, int(np.prod(shape[1:]))))

    def call(self, images):
        y = images
        for conv in self.convs:
            y = conv(y)
        return self.output_layer(tf.reshape(y, [tf.shape(y)[0], int(np.prod(y.shape[1:]))]))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, units=self.units)
        return config
