"""Weight normalization: a layer's kernel as a direction times a learned length.

Salimans & Kingma, "Weight Normalization: A Simple Reparameterization to Accelerate
Training of Deep Neural Networks", NIPS 2016, §2 (PixelCNN++ uses it on every layer):
for each output unit o, w_o = g_o · v_o / ‖v_o‖, with v the layer's kernel variable and
g a learned [units] vector. The gradient of v is orthogonal to v (so ‖v‖ grows slowly and
the effective step shrinks), and the output scale is g whatever v's: with g = 1 at the
start every unit's weights have norm 1, so a layer keeps its inputs' variance (instead
of the paper's data-dependent initialization of g and the bias, which would depend on
the first batch and on how it is split across replicas).

§3's data-dependent initialization: inside `data_dependent_init()`, each call of a
weight-normalized layer sets its g and bias so that its outputs on that call's inputs
have zero mean and unit variance per unit (g = 1/σ, b = −μ/σ of v·x/‖v‖) and returns those
outputs, so one forward pass on a batch initializes every layer on its normalized
inputs, in order (`tfar.NetworkDistribution.initialize_from_data`; the trainer runs it
on a fresh run's first global batch).

`WeightNormConv2D`, `WeightNormConv2DTranspose` and `WeightNormDense` are the Keras layers
with `kernel` the normalized kernel: `call`, and everything that reads `layer.kernel`
(the cached samplers), use it; the variables are v (the Keras `kernel` variable), the
bias and g, so checkpoints, `.keras` files and SavedModels keep them like any others.
The norm is computed in float32 under a mixed-precision policy, then cast to the
compute dtype.
"""

import contextlib

import tensorflow as tf

import keras
from keras import ops

_INITIALIZING = [False]


@contextlib.contextmanager
def data_dependent_init():
    """Within it, weight-normalized layers initialize g and the bias from their inputs."""
    _INITIALIZING[0] = True
    try:
        yield
    finally:
        _INITIALIZING[0] = False


def layers_in(layer):
    """The weight-normalized layers in `layer` (itself included)."""
    return [sub for sub in layer._flatten_layers() if isinstance(sub, _WeightNorm)]


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

    def call(self, inputs):
        if not _INITIALIZING[0]:
            return super().call(inputs)
        self.g.assign(tf.ones_like(self.g))
        if self.use_bias:
            self.bias.assign(tf.zeros_like(self.bias))
        t = super().call(inputs)                                  # v·x/‖v‖
        mean, variance = tf.nn.moments(tf.cast(t, "float32"), list(range(len(t.shape) - 1)))
        scale = tf.math.rsqrt(variance + 1e-6)
        self.g.assign(scale)
        if not self.use_bias:
            return tf.cast(tf.cast(t, "float32") * scale, t.dtype)
        self.bias.assign(-mean * scale)
        return tf.cast((tf.cast(t, "float32") - mean) * scale, t.dtype)

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
