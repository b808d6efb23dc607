"""MaskedDense and the MADE degree/mask construction."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tfar.layers.masked import (MaskedConv2D, MaskedDense, auto_column_blocks, input_order,
                                kernel_blocks, made_degrees, mask_from_degrees)


def test_docstring_example_masks():
    hidden = mask_from_degrees([1, 2, 3], [1, 2, 1, 2], strict=False)
    output = mask_from_degrees([1, 2, 1, 2], [1, 2, 3], strict=True)
    np.testing.assert_array_equal(hidden, [[1, 1, 1, 1], [0, 1, 0, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(output, [[0, 1, 1], [0, 0, 1], [0, 1, 1], [0, 0, 1]])


@pytest.mark.parametrize("ordering", ["left_to_right", "right_to_left", "random", [2, 0, 3, 1]])
@pytest.mark.parametrize("hidden_degrees", ["equal", "random"])
def test_degrees_make_an_autoregressive_product(ordering, hidden_degrees):
    """The product of the layer masks connects input j to output d only if j precedes d."""
    num_masks = 1 if ordering != "random" and hidden_degrees == "equal" else 3
    degrees = made_degrees(4, (7, 5), ordering, hidden_degrees, num_masks, seed=0)
    for m in range(num_masks):
        path = np.eye(4)
        for below, above in zip(degrees[:-1], degrees[1:]):
            path = path @ mask_from_degrees(below[m], above[m], strict=False)
        path = path @ mask_from_degrees(degrees[-1][m], degrees[0][m], strict=True)
        rank = degrees[0][m]
        allowed = rank[:, None] < rank[None, :]
        assert np.all(path[~allowed] == 0)
        if isinstance(ordering, list):
            np.testing.assert_array_equal(np.argsort(rank), ordering)


def test_mask_applied_in_call_not_in_weights():
    layer = MaskedDense(3, [[1, 2, 3]], [[1, 2, 3]], strict=True)
    layer.build((None, 3))
    layer.kernel.assign(np.ones((3, 3), np.float32))  # write into masked positions
    out = layer(tf.constant([[1.0, 10.0, 100.0]]))
    np.testing.assert_allclose(out.numpy(), [[0.0, 1.0, 11.0]])


def test_ensemble_and_single_mask_paths_agree():
    degrees = made_degrees(4, (6,), "random", num_masks=3, seed=1)
    layer = MaskedDense(6, degrees[0], degrees[1])
    x = tf.random.normal([5, 4])
    every = layer(x)
    assert every.shape == (3, 5, 6)
    for m in range(3):
        np.testing.assert_allclose(layer(x, mask_index=m).numpy(), every[m].numpy(), rtol=1e-6)


def test_config_round_trip_keeps_degrees():
    degrees = made_degrees(5, (4,), "random", "random", num_masks=2, seed=3)
    layer = MaskedDense(4, degrees[0], degrees[1], activation="relu", name="h")
    layer.build((None, 5))
    clone = MaskedDense.from_config(layer.get_config())
    np.testing.assert_array_equal(clone.mask, layer.mask)
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)).units == 4


def staircase_layer_degrees(ordering, num_masks=1, hidden_degrees="equal"):
    return made_degrees(12, (20,), ordering, hidden_degrees, num_masks, seed=5)


@pytest.mark.parametrize("ordering,num_masks,hidden_degrees", [
    ("left_to_right", 1, "equal"), ("right_to_left", 1, "random"),
    ("left_to_right", 3, "random")])
def test_kernel_blocks_hold_every_connection_and_skip_the_zero_corner(
        ordering, num_masks, hidden_degrees):
    degrees = staircase_layer_degrees(ordering, num_masks, hidden_degrees)
    for layer in ((degrees[0], degrees[1], False), (degrees[1], degrees[0], True)):
        mask = mask_from_degrees(*layer)
        blocks = kernel_blocks(*layer, 4)
        assert [b for _, b, _, _ in blocks][-1] == mask.shape[-1]
        covered = np.zeros(mask.shape[1:], bool)
        for a, b, lo, hi in blocks:
            covered[lo:hi, a:b] = True
            assert mask[:, lo, a:b].any() and mask[:, hi - 1, a:b].any()  # tight ranges
        assert not mask[:, ~covered].any()                   # no connection left out
        if num_masks == 1:
            assert covered.mean() < 0.75                     # the zero corner is skipped


@pytest.mark.parametrize("ordering,num_masks,hidden_degrees", [
    ("left_to_right", 1, "equal"), ("right_to_left", 1, "equal"), ("random", 1, "equal"),
    ("left_to_right", 3, "random")])
def test_column_blocks_compute_what_one_dense_kernel_does(ordering, num_masks, hidden_degrees):
    degrees = staircase_layer_degrees(ordering, num_masks, hidden_degrees)
    dense = MaskedDense(20, degrees[0], degrees[1], activation="relu")
    blocked = MaskedDense(20, degrees[0], degrees[1], activation="relu", column_blocks=3)
    dense.build((None, 12))
    blocked.build((None, 12))
    kernel = np.random.default_rng(0).normal(size=(12, 20)).astype(np.float32)
    dense.kernel.assign(kernel)
    for (a, b, lo, hi), variable in zip(blocked.blocks, blocked.kernels):
        variable.assign(kernel[lo:hi, a:b])
    x = tf.random.normal([5, 12], seed=1)
    np.testing.assert_allclose(blocked(x).numpy(), dense(x).numpy(), rtol=1e-5, atol=1e-5)
    for m in range(num_masks):
        np.testing.assert_allclose(blocked(x, mask_index=m).numpy(),
                                   dense(x, mask_index=m).numpy(), rtol=1e-5, atol=1e-5)
    masked = blocked.dense_kernel().numpy() * blocked.mask
    np.testing.assert_allclose(masked, kernel * blocked.mask)


def test_column_blocks_store_fewer_weights_and_apply_the_mask_in_call():
    degrees = staircase_layer_degrees("left_to_right")
    layer = MaskedDense(12, degrees[1], degrees[0], strict=True, column_blocks=4)
    layer.build((None, 20))
    assert sum(int(np.prod(k.shape)) for k in layer.kernels) < 0.75 * 20 * 12
    for variable in layer.kernels:  # write into masked positions
        variable.assign(np.ones(variable.shape, np.float32))
    x = np.random.default_rng(2).normal(size=(3, 20)).astype(np.float32)
    np.testing.assert_allclose(layer(x).numpy(), x @ layer.mask[0], rtol=1e-5, atol=1e-5)


def test_column_blocks_build_inside_a_tf_function_and_in_keras_fit():
    degrees = staircase_layer_degrees("left_to_right")
    layer = MaskedDense(20, degrees[0], degrees[1], column_blocks=3)
    assert tf.function(layer)(tf.ones([2, 12])).shape == (2, 20)  # built while tracing
    model = keras.Sequential([MaskedDense(20, degrees[0], degrees[1], column_blocks=3)])
    model.compile("adam", "mse")
    history = model.fit(tf.ones([4, 12]), tf.ones([4, 20]), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_auto_column_blocks_cut_staircases_only():
    h = 400
    for ordering, expect_blocks in (("left_to_right", True), ("random", False)):
        degrees = made_degrees(300, (h,), ordering, seed=0)
        assert (auto_column_blocks(degrees[0], degrees[1], False) > 1) == expect_blocks
        layer = MaskedDense(h, degrees[0], degrees[1], column_blocks="auto")
        assert layer.column_blocks == auto_column_blocks(degrees[0], degrees[1], False)
        assert MaskedDense.from_config(layer.get_config()).blocks == layer.blocks


def test_bad_arguments():
    with pytest.raises(ValueError, match="permutation of range"):
        input_order(3, [0, 0, 1])
    with pytest.raises(ValueError, match="ordering must be one of"):
        input_order(3, "zigzag")
    with pytest.raises(ValueError, match="hidden_degrees must be one of"):
        made_degrees(3, (4,), hidden_degrees="wide")
    with pytest.raises(ValueError, match="output_degrees must have shape"):
        MaskedDense(3, [[1, 2]], [[1, 2]])
    with pytest.raises(ValueError, match=r"column_blocks must be in \[1, 2\]"):
        MaskedDense(2, [[1, 2]], [[1, 2]], column_blocks=3)
    with pytest.raises(ValueError, match="an int or 'auto'; got 'many'"):
        MaskedDense(2, [[1, 2]], [[1, 2]], column_blocks="many")
    layer = MaskedDense(2, [[1, 2]], [[1, 2]])
    with pytest.raises(ValueError, match="inputs have 3 features"):
        layer(tf.zeros([1, 3]))


# ---------------------------------------------------------------- MaskedConv2D


def test_conv_mask_centre_follows_rgb_groups():
    from tfar.layers.masked import conv_mask
    a = conv_mask((3, 3), 3, 6, "A", groups=3)   # out groups: R R G G B B
    b = conv_mask((3, 3), 3, 6, "B", groups=3)
    np.testing.assert_array_equal(a[1, 1], [[0, 0, 1, 1, 1, 1],    # in R -> out G, B
                                            [0, 0, 0, 0, 1, 1],    # in G -> out B
                                            [0, 0, 0, 0, 0, 0]])   # in B -> nothing
    np.testing.assert_array_equal(b[1, 1], [[1, 1, 1, 1, 1, 1],
                                            [0, 0, 1, 1, 1, 1],
                                            [0, 0, 0, 0, 1, 1]])
    for mask in (a, b):  # rows above all seen, left of the centre seen, the rest not
        assert np.all(mask[0] == 1) and np.all(mask[1, 0] == 1)
        assert np.all(mask[1, 2] == 0) and np.all(mask[2] == 0)
    one_group = conv_mask((1, 5), 4, 4, "A")
    assert np.all(one_group[0, :2] == 1) and np.all(one_group[0, 2:] == 0)


def test_masked_conv_applies_the_mask_in_call_and_round_trips():
    layer = MaskedConv2D(6, 3, mask_type="A", groups=3, kernel_initializer="ones")
    x = tf.random.stateless_normal([2, 4, 4, 3], seed=(1, 2))
    y = layer(x)
    expected = tf.nn.conv2d(x, layer.kernel * layer.mask, 1, "SAME") + layer.bias
    np.testing.assert_allclose(y, expected, atol=1e-5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        red = tf.reduce_sum(layer(x)[:, 1, 1, :2])   # pixel (1, 1), the R outputs
    grad = tape.gradient(red, x).numpy()
    assert np.all(grad[:, 1, 1] == 0) and np.all(grad[:, 1, 2:] == 0) and np.all(grad[:, 2:] == 0)
    clone = MaskedConv2D.from_config(layer.get_config())
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x), y, atol=1e-6)


def test_masked_conv_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2D(4, 2)
    with pytest.raises(ValueError, match="'A' or 'B'"):
        MaskedConv2D(4, 3, mask_type="C")
    with pytest.raises(ValueError, match="multiple of the 3 channel groups"):
        MaskedConv2D(4, 3, groups=3)


@pytest.mark.parametrize("kernel_size", [(3, 3), (7, 7), (1, 5), (1, 1)],
                         ids=["3x3", "7x7", "1x5", "1x1"])
@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_conv_at_one_pixel_equals_the_full_convolution(mask_type, groups, kernel_size):
    """`call_at_pixel` on the zero-padded window of every pixel (borders included) gives the
    layer's output there; the hidden entries right of the pixel are ignored."""
    layer = MaskedConv2D(6, kernel_size, mask_type=mask_type, groups=groups,
                         bias_initializer="random_normal")
    x = tf.random.stateless_normal([2, 5, 6, 6], seed=(3, 4))
    full = layer(x).numpy()
    (kh, kw), (rows, cols) = kernel_size, layer.window_shape
    assert (rows, cols) == (kh // 2 + 1, kw)
    padded = np.pad(x.numpy(), [(0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
    noise = np.random.default_rng(0).normal(size=(2, kw // 2, 6)).astype(np.float32) * 100
    for r in range(5):
        for c in range(6):
            window = padded[:, r:r + rows, c:c + cols].copy()
            window[:, -1, kw // 2 + 1:] = noise              # right of the pixel: masked
            np.testing.assert_allclose(layer.call_at_pixel(tf.constant(window)).numpy(),
                                       full[:, r, c], atol=1e-5, err_msg=f"pixel {(r, c)}")
