"""The Parallel Multiscale PixelCNN (issue 19): normalized, group-causal, samples that
follow log_prob, a fast sampler equal to the naive loop, O(log N) sequential steps,
super-resolution by completing the base pixels, conditions, round trips."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar import registry
from tfar.models import multiscale
from tfar.models.multiscale import MultiscalePixelCNNNetwork

SMALL = dict(base_layers=2, base_filters=6, base_kernel_size=3, upscale_blocks=1,
             upscale_filters=4)
CASES = {  # name: (image_shape, num_values, likelihood, base_size)
    "4x4x1-bernoulli-base1": ((4, 4, 1), 2, "bernoulli", 1),
    "4x4x1-bernoulli-base2": ((4, 4, 1), 2, "bernoulli", 2),
    "2x4x1-bernoulli-base1x2": ((2, 4, 1), 2, "bernoulli", (1, 2)),
    "2x2x1-categorical4-base1": ((2, 2, 1), 4, "categorical", 1),
    "2x2x3-categorical2-base1": ((2, 2, 3), 2, "categorical", 1),
    "2x2x1-mixture4-base1": ((2, 2, 1), 4, "logistic_mixture", 1),
    "2x2x3-mixture2-base1": ((2, 2, 3), 2, "logistic_mixture", 1),
}


def build(name, **options):
    shape, num_values, likelihood, base = CASES[name]
    d = tfar.MultiscalePixelCNN(image_shape=shape, num_values=num_values, base_size=base,
                                likelihood=likelihood, num_mixtures=2, **SMALL, **options)
    checks.randomize_weights(d)
    return d


@pytest.mark.parametrize("conditional", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_normalized(name, conditional):   # with a condition: test_conditions_… and slow
    d = build(name, conditional_shape=(2,) if conditional else None)
    checks.assert_normalized(d, checks.condition_for(d))


def unit_steps(d):
    """int [U]: the schedule step that writes each unit."""
    steps = np.zeros(d.schedule.num_units, int)
    for s, units in enumerate(d.schedule.units[0]):
        steps[units[units >= 0]] = s
    return steps


@pytest.mark.parametrize("name", sorted(CASES))
def test_group_causality(name):
    """No unit's params depend on a dim of its own step (its group), a later step (later
    groups, finer scales); each depends on every dim of an earlier step, except, for a
    sub-pixel head, the earlier channels of the *other* pixels of its own group (the
    channel head reads its own pixel's only)."""
    d = build(name, conditional_shape=(2,))
    jac = checks.image_step_jacobian(d)                              # [U, D]
    steps = unit_steps(d)
    per_unit = d.likelihood.values_per_unit
    dim_steps = np.repeat(steps, per_unit)
    units_per_pixel = d.network.units_per_pixel
    base_steps = len(d.network.base_units())
    for u in range(jac.shape[0]):
        later = dim_steps >= steps[u]
        assert np.all(jac[u, later] == 0), (u, np.flatnonzero(jac[u, later] != 0))
        claimed = ~later
        if units_per_pixel > 1 and steps[u] >= base_steps:
            group_start = steps[u] - (steps[u] - base_steps) % units_per_pixel
            same_group = (dim_steps >= group_start) & (dim_steps < steps[u])
            own_pixel = np.arange(jac.shape[1]) // units_per_pixel == u // units_per_pixel
            claimed &= ~same_group | own_pixel
        assert np.all(jac[u, claimed] > 0), (u, np.flatnonzero(claimed & (jac[u] == 0)))


@pytest.mark.parametrize("name", ["4x4x1-bernoulli-base1", "2x2x3-categorical2-base1",
                                  "2x2x3-mixture2-base1"])
def test_cached_sampler_equals_the_naive_loop(name):
    d = build(name, conditional_shape=(2,))
    c = checks.random_conditions(d, 6)
    checks.assert_cached_equals_naive(d, num_samples=6, conditional_input=c)
    checks.assert_seeded(d, conditional_input=c[:2])


@pytest.mark.slow  # 20,000 samples
def test_samples_follow_log_prob():
    d = build("4x4x1-bernoulli-base2")
    checks.train_a_few_steps(d, steps=20)
    checks.assert_samples_match(d, num_samples=20000)


def test_sequential_steps_grow_with_log_n(monkeypatch):
    """`sample` runs one network evaluation per schedule step: the base's pixels (by
    the cached Gated PixelCNN), then one upscaling network per group. Counted at run
    time, for 8×8 … 64×64 (base 4×4, 1 channel): 16 + 3·L, L = log2(H / 4)."""
    calls = tf.Variable(0)
    upscaler_calls = tf.Variable(0)
    segment_step = multiscale.MultiscaleSampler.segment_step
    group_params = MultiscalePixelCNNNetwork.group_params

    def counted_segment_step(self, first, last):
        step = segment_step(self, first, last)

        def counted_step(*args):
            calls.assign_add(1)
            return step(*args)
        return counted_step

    def counted_group_params(self, *args, **kwargs):
        upscaler_calls.assign_add(1)
        return group_params(self, *args, **kwargs)

    monkeypatch.setattr(multiscale.MultiscaleSampler, "segment_step", counted_segment_step)
    monkeypatch.setattr(MultiscalePixelCNNNetwork, "group_params", counted_group_params)
    counts = {}
    for size in (8, 16, 32, 64):
        d = tfar.MultiscalePixelCNN(image_shape=(size, size, 1), num_values=2, base_size=4,
                                    likelihood="bernoulli", **SMALL)
        calls.assign(0)
        upscaler_calls.assign(0)
        samples = tf.function(lambda: d.sample(2, seed=(1, 2)))()
        assert samples.shape == (2, size, size, 1)
        counts[size] = int(calls.numpy())
        levels = int(np.log2(size // 4))
        assert counts[size] == 16 + 3 * levels == d.schedule.num_steps
        assert int(upscaler_calls.numpy()) == 3 * levels   # one group network per group step
    assert [counts[s] - counts[s // 2] for s in (16, 32, 64)] == [3, 3, 3]   # + 3 per doubling


def test_super_resolution_completes_the_base_image():
    """`complete` with the base pixels observed (a prefix of the schedule: exact) keeps
    them and draws the rest; the cached and naive loops agree."""
    d = build("4x4x1-bernoulli-base2")
    small = np.random.default_rng(0).integers(0, 2, (5, 2, 2, 1)).astype(np.float32)
    x = np.zeros((5, 4, 4, 1), np.float32)
    x[:, ::2, ::2] = small
    mask = np.broadcast_to(d.base_mask(), x.shape)
    big = d.complete(x, mask, seed=(3, 4)).numpy()
    np.testing.assert_array_equal(big[:, ::2, ::2], small)
    np.testing.assert_array_equal(big, d.complete(x, mask, seed=(3, 4), method="naive"))
    assert d.base_mask().sum() == 4


def test_conditions_class_labels_and_captions():
    for options in (dict(conditioning=tfar.conditioning.ClassLabel(3)),
                    dict(text_encoder=checks.caption_encoder())):
        d = build("4x4x1-bernoulli-base2", **options)
        conditions = checks.random_conditions(d, 2)
        x = checks.all_configurations(d)
        log_probs = [d.log_prob(x, conditional_input=c).numpy() for c in conditions]
        for c in conditions:
            checks.assert_normalized(d, conditional_input=c)
        if not np.array_equal(conditions[0], conditions[1]):
            assert np.max(np.abs(log_probs[0] - log_probs[1])) > 1e-3


def test_network_config_keras_file_and_registry(tmp_path):
    import keras
    d = build("2x2x3-categorical2-base1", conditional_shape=(2,))
    checks.assert_network_config_round_trip(d, MultiscalePixelCNNNetwork)
    path = str(tmp_path / "network.keras")
    d.network.save(path)
    twin = tfar.MultiscalePixelCNN(image_shape=(2, 2, 3), num_values=2, base_size=1,
                                   conditional_shape=(2,), network=keras.models.load_model(path),
                                   **SMALL)
    x = checks.all_configurations(d)[:32]
    c = checks.condition_for(d)
    np.testing.assert_array_equal(twin.log_prob(x, conditional_input=c),
                                  d.log_prob(x, conditional_input=c))
    built = registry.build("multiscale_pixelcnn", (8, 8, 1), 2, base_size=4, **SMALL)
    assert isinstance(built, tfar.MultiscalePixelCNN) and built.base_size == (4, 4)


def test_bad_construction():
    with pytest.raises(ValueError, match="doubled L >= 0 times"):
        tfar.MultiscalePixelCNN(image_shape=(12, 8, 1), num_values=2, base_size=4, **SMALL)
    with pytest.raises(ValueError, match="doubled L >= 0 times"):
        tfar.MultiscalePixelCNN(image_shape=(6, 6, 1), num_values=2, base_size=4, **SMALL)
    with pytest.raises(ValueError, match="takes a vector condition"):
        tfar.MultiscalePixelCNN(image_shape=(4, 4, 1), num_values=2, base_size=2,
                                conditioning=tfar.conditioning.SpatialMap((2, 2, 1)), **SMALL)
