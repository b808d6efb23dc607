"""GenerationSchedule: validation, and a model whose steps write groups of units (the
contract the multiscale model's pixel groups will use): normalized, causal per step, and
sampled and completed by the shared loop with frequencies that match exp(log_prob)."""

import numpy as np
import pytest
import tensorflow as tf

import checks
from tfar import likelihoods
from tfar.autoregressive import AutoregressiveDistribution
from tfar.models.made import MADENetwork
from tfar.schedule import GenerationSchedule

GROUPS = [[2], [0, 4], [1, 3]]          # ragged, not contiguous: step 0 writes one unit


def group_model(num_values=2, hidden_units=8, conditional_shape=None):
    """A MADE whose input degrees are group numbers: a unit sees units of earlier groups
    only (MADE §4's masks work from any degrees), under the matching group schedule."""
    num_dims = sum(len(group) for group in GROUPS)
    degrees = np.zeros(num_dims, np.int64)
    for s, group in enumerate(GROUPS):
        degrees[group] = s + 1
    hidden = np.round(np.linspace(1, len(GROUPS) - 1, hidden_units)).astype(np.int64)
    head = likelihoods.get(None, num_values)
    network = MADENetwork(num_dims, num_values, head.params_size, [degrees[None], hidden[None]],
                          column_blocks=1,
                          conditional_size=None if conditional_shape is None else
                          int(np.prod(conditional_shape))).build_variables()
    d = AutoregressiveDistribution(network, (num_dims,), num_values, head,
                                   GenerationSchedule.groups(GROUPS),
                                   conditional_shape=conditional_shape, name="GroupMADE")
    checks.randomize_weights(d, seed=3, scale=1.0)
    return d


def test_group_schedule_layout():
    schedule = GenerationSchedule.groups(GROUPS)
    assert (schedule.num_components, schedule.num_steps, schedule.step_size) == (1, 3, 2)
    np.testing.assert_array_equal(schedule.units[0], [[2, -1], [0, 4], [1, 3]])
    np.testing.assert_array_equal(schedule.order, [[2, 0, 4, 1, 3]])
    pixels = GenerationSchedule.raster(4, unit_size=3)
    assert pixels.num_dims == 12 and pixels.step_size == 1
    x = tf.reshape(tf.range(12.0), [1, 12])
    np.testing.assert_array_equal(pixels.unit_values(x)[0, 1], [3.0, 4.0, 5.0])


def test_segments_are_runs_of_one_width():
    """`run` loops over each run of steps of one width; a run's width is its widest step
    in any component, and the runs cover the steps in order."""
    assert GenerationSchedule.groups(GROUPS).segments() == [(0, 1, 1), (1, 3, 2)]
    assert GenerationSchedule.raster(6).segments() == [(0, 6, 1)]
    ragged = GenerationSchedule([[[0, -1], [1, 2], [3, -1]], [[3, -1], [2, -1], [0, 1]]],
                                unit_size=1, num_units=4)
    assert ragged.segments() == [(0, 1, 1), (1, 3, 2)]       # step 1: 2 units in component 0
    units = ragged.step_units(tf.constant([0, 1]), 1, width=2)
    np.testing.assert_array_equal(units, [[1, 2], [2, -1]])


@pytest.mark.parametrize("units,message", [
    ([[[0], [0]]], r"exactly once; it writes \[0, 0\]"),
    ([[[0, 1], [-1, -1]]], r"each of the 3 units"),
])
def test_schedule_must_write_every_unit_once(units, message):
    with pytest.raises(ValueError, match=message):
        GenerationSchedule(units, unit_size=1, num_units=3 if "3" in message else 2)


def test_write_keeps_observed_values_and_skips_unused_slots():
    schedule = GenerationSchedule.groups(GROUPS)
    x = tf.constant([[9.0, 9.0, 9.0, 9.0, 9.0]] * 2)
    observed = tf.constant([[False, False, True, False, False], [False] * 5])
    written = schedule.write(x, observed, tf.constant([[2, -1], [0, 4]]),
                             tf.constant([[1.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(written, [[9, 9, 9, 9, 9], [0, 9, 9, 9, 1]])


@pytest.mark.parametrize("num_values", [2, 3])
def test_group_model_is_normalized(num_values):
    checks.assert_normalized(group_model(num_values))


def test_group_model_units_see_only_earlier_steps():
    d = group_model()
    jac = checks.network_jacobian(d)[0]                  # [D, D]
    for s, group in enumerate(GROUPS):
        same_or_later = [u for g in GROUPS[s:] for u in g]
        earlier = [u for g in GROUPS[:s] for u in g]
        assert np.all(jac[np.ix_(group, same_or_later)] == 0.0)
        assert np.all(jac[np.ix_(group, earlier)] > 0.0)


def test_group_samples_match_log_prob_and_seed_reproduces():
    d = group_model(num_values=3)
    checks.assert_samples_match(d, num_samples=20000)
    checks.assert_seeded(d)


def test_group_completion_keeps_observed_values_and_is_conditional():
    # The first group is observed: completions follow p(x_rest | x_2) exactly.
    d = group_model()
    x = np.zeros((20000, 5), np.float32)
    x[:, 2] = 1.0
    observed = np.zeros_like(x, bool)
    observed[:, 2] = True
    filled = d.complete(x, observed, seed=(4, 2)).numpy()
    assert np.all(filled[:, 2] == 1.0)
    events = checks.all_configurations(d)
    events = events[events[:, 2] == 1.0]
    probs = np.exp(d.log_prob(events).numpy().astype(np.float64))
    index = {tuple(e): i for i, e in enumerate(events)}
    counts = np.bincount([index[tuple(row)] for row in filled], minlength=len(events))
    assert checks.chi_square_p(counts, probs) > 1e-3
