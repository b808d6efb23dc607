"""The Parallel Multiscale PixelCNN's fast sampler (`tfar.models.multiscale`).

Reed et al., "Parallel Multiscale Autoregressive Density Estimation", ICML 2017, §3: the
base image is drawn with the Gated PixelCNN's cached sampler (`tfar.sampling.
gated_pixelcnn`: one pixel of every layer per step, on the base image's flat values), and
each later step of the schedule, a group of pixels (for sub-pixel units: one channel of
them), with that group's upscaling network alone at its scale. `run` loops over each run
of steps of one width apart (`tfar.sampling.base`): `segment_step` gives the base's step,
or a `tf.switch_case` on the step index over the run's group steps; a branch returns
params [n, K, P] padded to its run's width K.
"""

import functools

import numpy as np
import tensorflow as tf

from tfar.sampling.base import Sampler, step_starting_rows
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
        return self.segment_step(0, self._base_steps + len(self._stages))(state, i, units, x)

    def segment_step(self, first, last):
        """Steps first … last − 1: the base's, or a `tf.switch_case` over those of their
        group steps (one branch per step in the run, none for a single step)."""
        base_steps, network = self._base_steps, self._network

        def base(state, i, units, x):
            params, state = step_starting_rows(self._base, state, i, units[:, :1],
                                               tf.gather(x, self._base_dims, axis=1))
            return _pad(params, units.shape[1]), state

        def stage(level, group, channel):
            def compute(state, i, units, x):
                params = network.group_params(x, level, group, self._conditional)
                return _pad(params[:, :, channel], units.shape[1]), state
            return compute

        stages = [stage(*s) for s in self._stages[max(first - base_steps, 0):
                                                  last - base_steps]]
        if last <= base_steps:
            return base
        if first >= base_steps and len(stages) == 1:
            return stages[0]
        branches = ([base] if first < base_steps else []) + stages
        offset = first if first >= base_steps else base_steps - 1

        def step(state, i, units, x):
            index = tf.maximum(i - offset, 0)
            return tf.switch_case(index, [functools.partial(branch, state, i, units, x)
                                          for branch in branches])
        return step


def _pad(params, width):
    """params [n, k, P] padded with zeros to [n, width, P] (unused slots of a step)."""
    return tf.pad(params, [[0, 0], [0, width - tf.shape(params)[1]], [0, 0]])
