"""The Parallel Multiscale PixelCNN's fast sampler (`tfar.models.multiscale`).

Reed et al., "Parallel Multiscale Autoregressive Density Estimation", ICML 2017, §3: the
base image is drawn with the Gated PixelCNN's cached sampler (`tfar.sampling.
gated_pixelcnn`: one pixel of every layer per step, on the base image's flat values), and
each later step of the schedule, a group of pixels (for sub-pixel units: one channel of
them), with that group's upscaling network alone at its scale. A step picks its branch
with `tf.switch_case` on the step index; every branch returns params [n, K, P] padded to
the schedule's widest step.
"""

import numpy as np
import tensorflow as tf

from tfar.sampling.base import Sampler
from tfar.sampling.gated_pixelcnn import GatedPixelCNNSampler


class MultiscaleSampler(Sampler):
    """The fast sampler: the base image with the Gated PixelCNN's cached sampler (one
    pixel of every layer per step), then each group step with that group's upscaling
    network alone, at its scale (the naive loop runs the whole network every step).

    Args:
      network: a `MultiscalePixelCNNNetwork`.
      conditional: the condition's features [n, K], or None.
      components: unused (one component).
    """

    def __init__(self, network, conditional, components):
        self._network = network
        self._conditional = conditional
        self._base = GatedPixelCNNSampler(network.base, conditional, components)
        self._base_dims = tf.constant(self._base_flat_dims(network), tf.int32)
        self._base_steps = len(network.base_units())          # one base unit per step
        self._stages = network.group_steps()     # the steps after the base's, in order

    @staticmethod
    def _base_flat_dims(network):
        """The flat dims of x [n, D] that form the base image's flat values."""
        height, width, channels = network.image_shape
        t = network.stride(0)
        ys, xs = np.meshgrid(np.arange(0, height, t), np.arange(0, width, t), indexing="ij")
        pixels = (ys * width + xs).reshape(-1)
        return (pixels[:, None] * channels + np.arange(channels)).reshape(-1)

    def initial_state(self, x):
        return self._base.initial_state(tf.gather(x, self._base_dims, axis=1))

    def step(self, state, i, units, x):
        width = units.shape[1] if units.shape[1] is not None else tf.shape(units)[1]
        network = self._network

        def base():
            params, new_state = self._base.step(state, i, units[:, :1],
                                                tf.gather(x, self._base_dims, axis=1))
            return _pad(params, width), new_state

        def stage(level, group, channel):
            def compute():
                params = network.group_params(x, level, group, self._conditional)
                return _pad(params[:, :, channel], width), state
            return compute

        branches = [base] + [stage(*s) for s in self._stages]
        index = tf.maximum(i - self._base_steps + 1, 0)
        return tf.switch_case(index, branches)


def _pad(params, width):
    """params [n, k, P] padded with zeros to [n, width, P] (unused slots of a step)."""
    return tf.pad(params, [[0, 0], [0, width - tf.shape(params)[1]], [0, 0]])
