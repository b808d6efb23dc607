"""The sampler protocol, the naive sampler and the generation loop.

    sampler = distribution._make_sampler(method, conditional, components)
    state = sampler.initial_state(x)                  # a nest of tensors
    params, state = sampler.step(state, i, units, x)  # params [n, K, P] of units [n, K]

x [n, D] holds the observed values and every value written at steps < i (zeros
elsewhere). `initial_state` runs once, in the graph of the call, before the loop. One
convention for per-call state: what the steps read but never change (masked kernels,
the condition's terms) is formed there once and kept as attributes, which is why a
sampler serves one call only; the carried state holds only what the steps update (the
caches). `step` returns the params of the units step i writes given x, exactly those
the full network gives (the naive sampler's), so every sampler draws the same samples
from the same seed; it may update its caches from the values written since its last
step. `run` draws each step's values with the head and one seed per step, and writes
them (`GenerationSchedule.write`), keeping observed values.

Runs of one width: `run` has one loop per run of steps that write the same number of
units (`GenerationSchedule.segments`), so a step's units, params and draws have its
run's width, not the widest step's (the multiscale model's 64 base steps drew 256
padded units each when it had one loop), and asks the sampler for each run's step
function (`segment_step`: `step` unless the sampler builds only that run's branches).

Row structure (optional): an image sampler whose caches of a row can only be computed
once the row above is done sets `steps_per_row` and defines

    state = sampler.start_row(state, row, x)          # before the row's first step

called for every row, 0 included, before the row's first step; its `step` then never
starts a row. `run` loops over rows and, inside, over the row's steps, so `start_row`
runs unconditionally once per row: no per-step `tf.cond` whose false branch passes the
row caches through (XLA copies a conditional's pass-through operands: a step that
starts a row only at column 0 copied every cache at every step). A driver that calls
`step` one step at a time on its own schedule (a multiscale model's base sampler) uses
`step_starting_rows`.
"""

import tensorflow as tf


class Sampler:
    """The protocol (see the module docstring). A sampler is made for one call, bound to
    its rows' condition [n, …] (or None) and components [n]."""

    def initial_state(self, x):
        """The loop's carried state before step 0: a nest of tensors (may be empty)."""
        raise NotImplementedError

    steps_per_row = None
    """None, or the steps of an image row when the sampler has a row structure."""

    def step(self, state, i, units, x):
        """(params [n, K, P] of `units` [n, K] at step i (scalar int32), next state)."""
        raise NotImplementedError

    def start_row(self, state, row, x):
        """With `steps_per_row`: the state before image row `row`'s first step."""
        raise NotImplementedError

    def segment_step(self, first, last):
        """The step function (as `step`) `run` calls for steps first … last − 1, a run of
        one width (`GenerationSchedule.segments`): a sampler whose steps differ by run
        builds only that run's (`step` itself by default)."""
        del first, last
        return self.step


def step_starting_rows(sampler, state, i, units, x):
    """`sampler.step` at step i, starting a row first (a `tf.cond`) when step i is a row's
    first and the sampler has a row structure: for drivers that step one at a time."""
    per_row = sampler.steps_per_row
    if per_row is not None:
        state = tf.cond(tf.equal(i % per_row, 0),
                        lambda: sampler.start_row(state, i // per_row, x), lambda: state)
    return sampler.step(state, i, units, x)


class NaiveSampler(Sampler):
    """The reference: one full network pass per step.

    Args:
      params_fn: (x [n, D]) -> params [n, U, P] of every unit under each row's component.
    """

    def __init__(self, params_fn):
        self._params_fn = params_fn

    def initial_state(self, x):
        return ()

    def step(self, state, i, units, x):
        params = self._params_fn(x)                                          # [n, U, P]
        return tf.gather(params, tf.maximum(units, 0), batch_dims=1), state  # [n, K, P]


def run(sampler, schedule, head, x, observed, components, step_seeds):
    """Fills x [n, D] step by step: the in-graph loops every sampler runs in, one per run
    of steps of one width (`GenerationSchedule.segments`), each step's units [n, K] of its
    run's width K.

    Args:
      sampler: a `Sampler` bound to the rows' condition and components.
      schedule: the model's `GenerationSchedule`.
      head: the model's likelihood head.
      x: float32 [n, D], observed values in place.
      observed: bool [n, D]; these values are kept.
      components: int32 [n], the component each row follows.
      step_seeds: int32 [S, 2], one stateless seed per step.

    Returns:
      float32 [n, D].
    """
    state = sampler.initial_state(x)
    per_row = sampler.steps_per_row
    for first, last, width in schedule.segments():
        step = sampler.segment_step(first, last)

        def body(i, x, state, step=step, width=width):
            units = schedule.step_units(components, i, width)                # [n, K]
            params, state = step(state, i, units, x)
            values = head.sample(params, step_seeds[i])           # [n, K] or [n, K, C]
            return i + 1, schedule.write(x, observed, units, values), state

        def steps(first, last, x, state, body=body):
            """Steps first … last − 1."""
            _, x, state = tf.while_loop(lambda i, *_: i < last, body, (first, x, state))
            return x, state

        if per_row is None:
            x, state = steps(tf.constant(first), last, x, state)
            continue
        if first % per_row or last % per_row:
            raise ValueError(f"{type(sampler).__name__}: steps {first} … {last - 1} are not "
                             f"whole rows of {per_row}.")

        def row_body(row, x, state, steps=steps):
            state = sampler.start_row(state, row, x)
            return (row + 1,) + steps(row * per_row, (row + 1) * per_row, x, state)

        _, x, state = tf.while_loop(lambda row, *_: row < last // per_row, row_body,
                                    (tf.constant(first // per_row), x, state))
    return x
