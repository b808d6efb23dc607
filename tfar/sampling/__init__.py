"""Sampling: the loop over a generation schedule, and the samplers that feed it params.

Every sampler follows one protocol (`tfar.sampling.base.Sampler`); `run` is the one
in-graph loop over the steps of a `tfar.schedule.GenerationSchedule` that draws and
writes each step's units (a `tf.while_loop` per run of steps of one width, and per image
row for a sampler with a row structure). `NaiveSampler` (one full network pass per step) is
the reference; a model's cached sampler keeps what its next step needs (NADE's running
pre-activation, MADE's first hidden layer, PixelCNN's row and pixel caches) and must give
the params the naive sampler gives, so both draw the same samples from the same seed.
"""

from tfar.sampling.base import NaiveSampler, Sampler, run

__all__ = ["NaiveSampler", "Sampler", "run"]
