"""Weight normalization: a layer's kernel as a direction times a learned length.

Salimans & Kingma, "Weight Normalization: A Simple Reparameterization to Accelerate
Training of Deep Neural Networks", NIPS 2016, §2 (PixelCNN++ uses it on every layer):
for each output unit o, w_o = g_o · v_o / ‖v_o‖, with v the layer's kernel variable and
g a learned [units] vector. The gradient of v is orthogonal to v (so ‖v‖ grows slowly and
the effective step shrinks), and the output scale is g whatever v's: with g = 1 at the
start every unit's weights have norm 1, so a layer keeps its inputs' variance (instead
of the paper's data-dependent initialization of g and the bias, which would depend on
the first batch and on how it is split across replicas).

`WeightNormConv2D`, `WeightNormConv2DTranspose` and `WeightNormDense` are the Keras layers
with `kernel` the normalized kernel: `call`, and everything that reads `layer.kernel`
(the cached samplers), use it; the variables are v (the Keras `kernel` variable), the
bias and g, so checkpoints, `.keras` files and SavedModels keep them like any others.
The norm is computed in float32 under a mixed-precision policy, then cast to the
compute dtype.
"""

import keras
from keras import ops


class _WeightNorm:
    """The mixin: `units_axis` is the kernel's output-unit axis (-1 for Conv2D and Dense,
    -2 for Conv2DTranspose, whose kernel is [kh, kw, out, in])."""

    units_axis = -1

    def build(self, input_shape):
        # g before the wrapped build: a built layer takes no new variables.
        units = self.filters if hasattr(self, "filters") else self.units
        self.g = self.add_weight(name="g", shape=(units,), initializer="ones",
                                 trainable=True)
        super().build(input_shape)

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        v = ops.cast(self._kernel, "float32")
        axes = [a for a in range(len(v.shape)) if a != len(v.shape) + self.units_axis]
        norm = ops.sqrt(ops.sum(ops.square(v), axis=axes, keepdims=True))
        g = ops.reshape(ops.cast(self.g, "float32"), norm.shape)
        return ops.cast(v * (g / ops.maximum(norm, 1e-12)), self.compute_dtype)

    @kernel.setter
    def kernel(self, value):  # Conv2DTranspose's build assigns `self.kernel`
        self._kernel = value

    def save_own_variables(self, store):
        """v, the bias and g as variables (Keras' convolutions would save `kernel`)."""
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)


@keras.saving.register_keras_serializable(package="tfar")
class WeightNormConv2D(_WeightNorm, keras.layers.Conv2D):
    """`keras.layers.Conv2D` with a weight-normalized kernel (see the module docstring)."""


@keras.saving.register_keras_serializable(package="tfar")
class WeightNormConv2DTranspose(_WeightNorm, keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with a weight-normalized kernel."""

    units_axis = -2


@keras.saving.register_keras_serializable(package="tfar")
class WeightNormDense(_WeightNorm, keras.layers.Dense):
    """`keras.layers.Dense` with a weight-normalized kernel."""
