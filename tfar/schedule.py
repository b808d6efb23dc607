"""`GenerationSchedule`: which dimensions each step of an autoregressive model writes.

A model's network emits one row of `params_size` numbers per *unit*: a unit is the set of
values one row of the head's parameters models, `unit_size` consecutive dimensions of the
flat event (1 for a per-dimension head; a pixel's C channels for PixelCNN++'s logistic
mixture, whose RGB values are coupled inside the head). Unit u holds the flat dimensions
u·C … u·C + C − 1.

A schedule lists, for each of the M components of a model (MADE mask sets, NADE
orderings; 1 otherwise) and each of its S steps, the K units that step writes:

    units[m, s, k]   unit index, or -1 for an unused slot (steps of a ragged schedule
                     pad to the largest K)

so one step writes one dimension (FVSBN, NADE, MADE, a PixelCNN sub-pixel: K = 1, C = 1),
one pixel's C sub-pixels (the logistic mixture: K = 1, C = 3) or a group of many pixels at
once (the Parallel Multiscale PixelCNN, Reed et al. 2017, §3: K = a group's pixels). Every
unit is written by exactly one step of each component. The units of one step are drawn
independently given the steps before it: the model must make their params depend only on
units of earlier steps (the causality tests check this per step).

`log_prob`, the sampling loops (`tfar.sampling`) and `complete` all read the order from
here; nothing else in tfar knows about orders.
"""

import numpy as np
import tensorflow as tf


class GenerationSchedule:
    """The steps of a model's generation order (see the module docstring).

    Args:
      units: int array-like [M, S, K] (or [M, S] for one unit per step): the units each
        step writes, -1 for none.
      unit_size: C, the dimensions per unit.
      num_units: U; the event has D = U · C dimensions.

    Raises:
      ValueError: a component does not write every unit exactly once.
    """

    def __init__(self, units, unit_size, num_units):
        units = np.asarray(units, dtype=np.int64)
        if units.ndim == 2:
            units = units[..., None]
        if units.ndim != 3:
            raise ValueError(f"units must have shape [M, S, K] or [M, S]; got {units.shape}.")
        self.units = units
        self.unit_size, self.num_units = int(unit_size), int(num_units)
        for m, component in enumerate(units):
            written = np.sort(component[component >= 0])
            if not np.array_equal(written, np.arange(self.num_units)):
                raise ValueError(
                    f"Component {m} of the schedule must write each of the {self.num_units} "
                    f"units exactly once; it writes {written.tolist()}.")

    @classmethod
    def orderings(cls, orderings, unit_size=1):
        """One unit per step, in each component's order: orderings int [M, U]."""
        orderings = np.atleast_2d(np.asarray(orderings, dtype=np.int64))
        return cls(orderings[..., None], unit_size, orderings.shape[1])

    @classmethod
    def raster(cls, num_units, unit_size=1):
        """Units 0, 1, …, U − 1, one per step (raster order over pixels or sub-pixels)."""
        return cls.orderings(np.arange(num_units)[None], unit_size)

    @classmethod
    def groups(cls, groups, unit_size=1):
        """One component whose step s writes the units `groups[s]` (lists of any length)."""
        width = max(len(group) for group in groups)
        units = np.full((1, len(groups), width), -1, np.int64)
        for s, group in enumerate(groups):
            units[0, s, :len(group)] = group
        return cls(units, unit_size, sum(len(group) for group in groups))

    @property
    def num_components(self):
        """M."""
        return self.units.shape[0]

    @property
    def num_steps(self):
        """S."""
        return self.units.shape[1]

    @property
    def step_size(self):
        """K, the most units one step writes."""
        return self.units.shape[2]

    def segments(self):
        """[(first, last, width)]: the steps in runs of one width, steps first … last − 1
        writing at most `width` units (slots ≥ width unused in every component), in
        order. A raster schedule is one run of width 1; the Parallel Multiscale
        PixelCNN's is the base's steps (1) and then its groups' (their pixels), so a loop
        per run does each step's work at its own width, not the widest step's."""
        used = self.units >= 0                                            # [M, S, K]
        slots = np.arange(self.step_size)
        widths = np.max(np.where(used, slots + 1, 0), axis=(0, 2))        # [S]
        runs, first = [], 0
        for step in range(1, self.num_steps + 1):
            if step == self.num_steps or widths[step] != widths[first]:
                runs.append((first, step, int(widths[first])))
                first = step
        return runs

    @property
    def num_dims(self):
        """D = U · C."""
        return self.num_units * self.unit_size

    @property
    def order(self):
        """int [M, U]: the units of each component in generation order (steps in turn,
        a step's units in slot order). For one unit per step, `order[m, s]` is the unit
        written at step s."""
        return np.stack([component[component >= 0] for component in self.units])

    # ------------------------------------------------------------- in-graph helpers

    def unit_values(self, x, channel_axis=False):
        """x [..., D] as a head sees it: [..., U, C], or [..., U] when C = 1 and the head
        takes no channel axis (`Likelihood.pixel_head`)."""
        if self.unit_size == 1 and not channel_axis:
            return x
        return tf.reshape(x, tf.concat([tf.shape(x)[:-1], [self.num_units, self.unit_size]], 0))

    def step_units(self, components, step, width=None):
        """int32 [n, K]: the units that step `step` writes in each row's component (the
        first `width` slots only, when given: a run of `segments`)."""
        units = tf.constant(self.units[..., :width], tf.int32)
        if self.num_components == 1:
            return tf.tile(units[0, step][None], [tf.shape(components)[0], 1])
        return tf.gather(units[:, step], components)

    def write(self, x, observed, units, values):
        """x [n, D] with the values [n, K] (or [n, K, C]) of `units` [n, K] written, except
        where `observed` [n, D] is True and at unused slots (unit -1)."""
        n, c = tf.shape(x)[0], self.unit_size
        dims = units[..., None] * c + tf.range(c)                          # [n, K, C]
        rows = tf.broadcast_to(tf.range(n)[:, None, None], tf.shape(dims))
        valid = tf.broadcast_to(units[..., None] >= 0, tf.shape(dims))
        index = tf.boolean_mask(tf.stack([rows, dims], axis=-1), valid)   # [N, 2]
        values = tf.boolean_mask(tf.reshape(values, tf.shape(dims)), valid)
        keep = tf.gather_nd(observed, index)
        values = tf.where(keep, tf.gather_nd(x, index), tf.cast(values, x.dtype))
        return tf.tensor_scatter_nd_update(x, index, values)
