"""Weight normalization (`tfar.layers.weight_norm`): the kernel a layer uses is g·v/‖v‖
per output unit, equal to the plain Keras layer given that kernel; g starts at 1; the
variables (v, bias, g) survive `.keras` files and checkpoints; under mixed_float16 the norm
does not overflow where float16 would; the data-dependent initialization standardizes a
layer's outputs."""

import numpy as np
import pytest
import tensorflow as tf

import keras

from tfar.layers.weight_norm import (WeightNormConv2D, WeightNormConv2DTranspose, WeightNormDense,
                                     data_dependent_init)

CASES = {  # name: (weight-normalized layer, plain twin, input, kernel axes summed)
    "conv": (lambda: WeightNormConv2D(4, (2, 3)), lambda: keras.layers.Conv2D(4, (2, 3)),
             (2, 5, 6, 3), (0, 1, 2)),
    "transpose": (lambda: WeightNormConv2DTranspose(4, 2, strides=2),
                  lambda: keras.layers.Conv2DTranspose(4, 2, strides=2), (2, 3, 3, 5),
                  (0, 1, 3)),
    "dense": (lambda: WeightNormDense(4), lambda: keras.layers.Dense(4), (2, 7), (0,)),
}
G = np.array([0.5, -2.0, 1.0, 3.0], np.float32)


def built(case):
    make, make_plain, shape, axes = CASES[case]
    x = tf.random.stateless_normal(shape, seed=(1, 2))
    layer, plain = make(), make_plain()
    layer(x), plain(x)
    return layer, plain, x, axes


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_is_g_times_the_direction_of_v(case):
    layer, plain, x, axes = built(case)
    np.testing.assert_allclose(np.sqrt(np.sum(layer.kernel.numpy() ** 2, axis=axes)),
                               np.ones(4), rtol=1e-6)                     # g starts at 1
    layer.g.assign(G)
    layer._kernel.assign(3.0 * layer._kernel)                            # ‖v‖ does not matter
    v = layer._kernel.numpy()
    norm = np.sqrt(np.sum(v ** 2, axis=axes, keepdims=True))    # 1 but on the unit axis
    expected = v * G.reshape(norm.shape) / norm
    np.testing.assert_allclose(layer.kernel.numpy(), expected, rtol=1e-5, atol=1e-7)
    plain.kernel.assign(expected)
    plain.bias.assign(layer.bias)
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_keras_file_and_checkpoint_keep_v_bias_and_g(case, tmp_path):
    layer, _, x, _ = built(case)
    layer.g.assign(G)
    expected = layer(x).numpy()
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    model.save(str(tmp_path / "model.keras"))
    loaded = keras.models.load_model(str(tmp_path / "model.keras"))
    assert type(loaded.layers[0]) is type(layer)
    np.testing.assert_array_equal(loaded(x).numpy(), expected)
    path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / "ckpt"))
    twin = CASES[case][0]()
    twin(x)
    tf.train.Checkpoint(layer=twin).restore(path).assert_consumed()
    np.testing.assert_array_equal(twin(x).numpy(), expected)


def test_norm_in_float32_under_mixed_float16():
    """‖v‖² of 24 entries of 100 is 2.4e5, past float16's 65504: the kernel stays finite
    and equal to float32's within float16 rounding."""
    x = tf.random.stateless_normal([2, 5, 6, 3], seed=(1, 2))
    reference = WeightNormConv2D(4, (2, 3))
    reference(x)
    reference._kernel.assign(tf.fill(reference._kernel.shape, 100.0))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = WeightNormConv2D(4, (2, 3))
        layer(x)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    layer._kernel.assign(reference._kernel)
    y = layer(x)
    assert y.dtype == tf.float16 and layer.g.dtype == "float32"
    np.testing.assert_allclose(y.numpy(), reference(x).numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("case", list(CASES))
def test_data_dependent_init_standardizes_the_outputs(case):
    """§3: inside `data_dependent_init` a call sets g and the bias so that the outputs on
    its inputs have zero mean and unit variance per unit, and returns them; later calls
    give the same outputs through the new g and bias."""
    layer, _, x, _ = built(case)
    x = 3.0 * tf.random.stateless_normal((32,) + tuple(x.shape[1:]), seed=(5, 6)) + 1.0
    with data_dependent_init():
        initial = layer(x).numpy()
    after = layer(x).numpy()
    axes = tuple(range(after.ndim - 1))
    np.testing.assert_allclose(after.mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(after.std(axis=axes), 1.0, rtol=1e-4)
    np.testing.assert_allclose(initial, after, rtol=1e-5, atol=1e-5)
    assert not np.allclose(layer.g.numpy(), 1.0)


def test_data_dependent_init_without_bias_scales_only():
    layer = WeightNormDense(4, use_bias=False)
    x = tf.random.stateless_normal([64, 7], seed=(3, 4)) + 2.0
    with data_dependent_init():
        layer(x)
    y = layer(x).numpy()
    np.testing.assert_allclose(np.mean(y ** 2, axis=0) - np.mean(y, axis=0) ** 2, 1.0,
                               rtol=1e-4)
