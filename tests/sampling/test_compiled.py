"""Sampling loops compiled with XLA (`sample(..., jit_compile=True)`, `tfar.random`): for
every model with a cached sampler, on randomized weights, the compiled loop's samples and
completions equal the uncompiled loop's for the same seed (integer values identical), with
one and three channels, every head, with and without a condition. The default tier runs
the Gated PixelCNN, the Diagonal BiLSTM (whose carried left neighbour meets RGB
sub-steps), a MADE ensemble and real values; the slow tier the rest."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar

slow = pytest.mark.slow


def image_model(constructor, channels, likelihood, num_values, conditional, **options):
    if likelihood == "logistic_mixture":
        options["num_mixtures"] = 2
    return constructor(image_shape=(3, 4, channels), num_values=num_values,
                       likelihood=likelihood, conditional_shape=(2,) if conditional else None,
                       **options)


FAMILIES = {
    "gated_pixelcnn": lambda **k: image_model(tfar.GatedPixelCNN, num_layers=2, num_filters=6,
                                              first_kernel_size=3, **k),
    "pixelcnn": lambda **k: image_model(tfar.PixelCNN, num_layers=2, num_filters=6,
                                        first_kernel_size=3, **k),
    "row_lstm": lambda **k: image_model(tfar.PixelRNN, cell="row_lstm", num_layers=2,
                                        hidden_units=6, first_kernel_size=3, **k),
    "diagonal_bilstm": lambda **k: image_model(tfar.PixelRNN, num_layers=2, hidden_units=6,
                                               first_kernel_size=3, **k),
}
# (channels, head, values, conditional): the default tier runs the first of each family.
CASES = [(3, "categorical", 4, True), (1, "bernoulli", 2, False),
         (1, "logistic_mixture", 8, True), (3, "logistic_mixture", 8, False)]


DEFAULT = (("gated_pixelcnn", CASES[0]), ("diagonal_bilstm", CASES[0]))


@pytest.mark.parametrize("family,case", [
    (f, c) if (f, c) in DEFAULT else pytest.param(f, c, marks=slow)
    for f in FAMILIES for c in CASES],
    ids=[f"{f}-C{c[0]}-{c[1]}" + ("-conditional" if c[3] else "")
         for f in FAMILIES for c in CASES])
def test_image_models_compiled_equal_uncompiled(family, case):
    channels, likelihood, num_values, conditional = case
    d = FAMILIES[family](channels=channels, likelihood=likelihood, num_values=num_values,
                         conditional=conditional)
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(
        d, conditional_input=checks.random_conditions(d, 4))


@pytest.mark.parametrize("channels,conditional", [pytest.param(3, True, marks=slow),
                                                 pytest.param(1, False, marks=slow)])
def test_pixelcnnpp_compiled_equals_uncompiled(channels, conditional):
    d = tfar.PixelCNNPlusPlus(image_shape=(4, 4, channels), num_values=8, num_resnet=1,
                              num_hierarchies=2, num_filters=4, num_mixtures=2,
                              conditional_shape=(2,) if conditional else None)
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, conditional_input=checks.random_conditions(d, 4))


@pytest.mark.parametrize("conditional", [True, pytest.param(False, marks=slow)])
def test_made_ensemble_compiled_equals_uncompiled(conditional):
    # Two mask sets: under XLA every mask set's sampler runs on every row (static shapes).
    d = tfar.MADE(event_shape=(3, 2), num_values=3, hidden_units=(8,), ordering="random",
                  num_masks=2, seed=1, conditional_shape=(2,) if conditional else None)
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, num_samples=6,
                                             conditional_input=checks.random_conditions(d, 6))


@slow
def test_nade_orderings_compiled_equal_uncompiled():
    d = tfar.NADE(event_shape=(6,), num_values=2, hidden_units=5, ordering="random",
                  num_orderings=2)
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, num_samples=6)


@pytest.mark.parametrize("channels,conditional", [pytest.param(3, True, marks=slow),
                                                 pytest.param(1, False, marks=slow)])
def test_multiscale_pixelcnn_compiled_equals_uncompiled(channels, conditional):
    d = tfar.MultiscalePixelCNN(image_shape=(4, 4, channels), num_values=4, base_size=2,
                                base_layers=2, base_filters=6, base_kernel_size=3,
                                upscale_blocks=1, upscale_filters=6,
                                conditional_shape=(2,) if conditional else None)
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, conditional_input=checks.random_conditions(d, 4))


@slow
def test_multiscale_pixelrnn_compiled_equals_uncompiled():
    d = tfar.MultiscalePixelRNN(image_shape=(4, 4, 1), num_values=2, base_size=2,
                                base_layers=1, base_hidden_units=4, num_layers=1,
                                hidden_units=4, first_kernel_size=3, context_layers=1,
                                context_filters=4, conditional_shape=(2,))
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, conditional_input=checks.random_conditions(d, 4))


def test_real_values_compiled_agree_to_float_rounding():
    # RNADE's Gaussians: Box–Muller's log, sin and cos are XLA's under XLA (`tfar.random`).
    d = tfar.RNADE(event_shape=(4,), hidden_units=5, num_mixtures=2)
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, num_samples=6, real_tolerance=1e-5)


@slow
def test_resampled_completion_compiles_its_particles():
    # K > 1: the particles' loop is compiled, the weighing and resampling are not.
    d = tfar.MADE(event_shape=(4,), num_values=2, hidden_units=(8,), ordering="random",
                  num_masks=2, seed=2)
    checks.randomize_weights(d)
    x = np.ones([3, 4], np.float32)
    observed = np.array([False, True, False, True])
    compiled = d.complete(x, observed, seed=(3, -4), num_particles=3, jit_compile=True)
    np.testing.assert_array_equal(
        compiled, d.complete(x, observed, seed=(3, -4), num_particles=3))


@slow
def test_a_compiled_loop_is_compiled_once_per_shape():
    d = tfar.PixelCNN(image_shape=(2, 2, 1), num_values=2, num_layers=1, num_filters=4,
                      first_kernel_size=3)
    for seed in [(1, 2), (-3, 4), (5, -6)]:
        d.sample(2, seed=seed, jit_compile=True)
    assert d._compiled_loop.experimental_get_tracing_count() == 1
    d.sample(3, seed=(1, 2), jit_compile=True)
    d.sample(3, seed=(1, 2), method="naive", jit_compile=True)
    assert d._compiled_loop.experimental_get_tracing_count() == 3


def test_a_spatial_condition_compiles():
    # The Gated PixelCNN's spatial map is read two rows at a time: a slice of static size
    # (a strided slice's dynamic size crashed XLA's compiler, killing the process).
    d = tfar.GatedPixelCNN(image_shape=(3, 4, 3), num_values=4, num_layers=3, num_filters=6,
                           first_kernel_size=3, spatial_conditional_shape=(1, 2, 2))
    checks.randomize_weights(d)
    c = np.random.default_rng(3).normal(size=(4, 1, 2, 2)).astype(np.float32)
    checks.assert_compiled_equals_uncompiled(d, conditional_input=c)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: tfar.PixelRNN(
        image_shape=(3, 3, 1), num_values=2, cell="row_lstm", num_layers=1, hidden_units=4,
        first_kernel_size=3, text_encoder=checks.caption_encoder()), id="caption"),
    pytest.param(lambda: tfar.MADE(
        event_shape=(4,), num_values=2, hidden_units=(8,),
        conditioning=tfar.conditioning.ClassLabel(3)), id="class_label"),
])
@slow
def test_captions_and_class_labels_compile(make):
    d = make()
    checks.randomize_weights(d)
    checks.assert_compiled_equals_uncompiled(d, conditional_input=checks.random_conditions(d, 4))
