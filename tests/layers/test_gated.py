"""The Gated PixelCNN layer's pieces: the gate's channel groups, the down shift, causality
of one block on its own, and its row and pixel methods (fast sampling) against its call."""

import numpy as np
import pytest
import tensorflow as tf

from tfar.layers.gated import GatedPixelCNNBlock, gate
from tfar.layers.shifted import down_shift


def test_gate_keeps_channel_groups():
    # Two groups of F/G = 2: pre-activations [f0 f1 g0 g1 | f2 f3 g2 g3].
    x = tf.constant(np.arange(8, dtype=np.float32)[None] / 8.0)
    y = gate(x, groups=2).numpy()[0]
    f, g = np.array([0, 1, 4, 5]) / 8.0, np.array([2, 3, 6, 7]) / 8.0
    np.testing.assert_allclose(y, np.tanh(f) / (1 + np.exp(-g)), rtol=1e-6)


def test_down_shift_moves_rows():
    x = tf.reshape(tf.range(6, dtype=tf.float32), [1, 3, 2, 1])
    np.testing.assert_array_equal(down_shift(x)[0, :, :, 0], [[0, 0], [0, 1], [2, 3]])


def test_one_first_block_sees_only_earlier_pixels():
    block = GatedPixelCNNBlock(4, kernel_size=3, first=True)
    x = tf.random.stateless_normal([1, 4, 4, 1], seed=(3, 4))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        _, _, skip = block(x, x)
        per_pixel = [[tf.reduce_sum(skip[:, r, c]) for c in range(4)] for r in range(4)]

    def grad(r, c):
        return tape.gradient(per_pixel[r][c], x,
                             unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()[0, ..., 0]

    for r in range(4):
        for c in range(4):
            assert np.all(grad(r, c).reshape(-1)[r * 4 + c:] == 0), (r, c)  # itself, later: 0
    # pixel (1, 1) sees the row above within the 3-wide window (shifted vertical stack)
    grad = grad(1, 1)
    assert np.all(grad[0, 0:3] != 0) and grad[1, 0] != 0


def _randomized(block, seed):
    rng = np.random.default_rng(seed)
    for variable in block.variables:
        variable.assign(rng.normal(scale=0.5, size=variable.shape).astype(np.float32))
    return block


INCREMENTAL = [  # (kernel_size, groups, first, last, condition)
    (5, 3, True, False, None), (3, 3, False, False, "vector"), (3, 3, False, True, "spatial"),
    (3, 1, True, False, "spatial"), (5, 1, False, False, None), (3, 1, False, True, "vector"),
    (1, 3, False, False, "vector")]


@pytest.mark.parametrize("kernel_size,groups,first,last,condition", INCREMENTAL,
                         ids=["-".join(map(str, case)) for case in INCREMENTAL])
def test_row_and_pixel_methods_equal_the_block(kernel_size, groups, first, last, condition):
    """`vertical_row` gives row r of v' and the term row r + 1 adds; `horizontal_pixel`
    then gives h' and the skip output at each pixel, as the full `call` does."""
    filters, batch, height, width = 6, 2, 4, 5
    n_in = groups if first else filters
    block = GatedPixelCNNBlock(filters, kernel_size, groups=groups, first=first, last=last,
                               conditional_size=3 if condition == "vector" else None,
                               spatial_features=4 if condition == "spatial" else None)
    v = tf.random.stateless_normal([batch, height, width, n_in], seed=(1, 2))
    h = v if first else tf.random.stateless_normal([batch, height, width, n_in], seed=(3, 4))
    vector = tf.random.stateless_normal([batch, 3], seed=(5, 6)) if condition == "vector" else None
    spatial = (tf.random.stateless_normal([batch, height, width, 4], seed=(7, 8))
               if condition == "spatial" else None)
    block(v, h, condition=vector, spatial_condition=spatial)  # builds
    _randomized(block, seed=kernel_size + groups)
    v_out, h_out, skip = block(v, h, condition=vector, spatial_condition=spatial)

    half = kernel_size // 2
    v_bias, h_bias = block.condition_biases(vector, spatial)
    if vector is not None:
        v_bias, h_bias = v_bias[:, None, None], h_bias[:, None, None]
    v_bias, h_bias = (tf.broadcast_to(bias, [batch, height, width, 2 * filters])
                      for bias in (v_bias, h_bias))
    padded_v = tf.pad(v, [[0, 0], [half, 0], [0, 0], [0, 0]])
    padded_h = tf.pad(h, [[0, 0], [0, 0], [half, 0], [0, 0]])
    weights = block.pixel_weights()
    above = block.above_first_row(batch, width)
    for r in range(height):
        for c in range(width):
            h_pixel, skip_pixel = block.horizontal_pixel(
                padded_h[:, r, c:c + half + 1], above[:, c] + h_bias[:, r, c],
                weights if c % 2 else None)
            np.testing.assert_allclose(h_pixel, h_out[:, r, c], atol=1e-5, err_msg=(r, c))
            np.testing.assert_allclose(skip_pixel, skip[:, r, c], atol=1e-5, err_msg=(r, c))
        v_row, above = block.vertical_row(padded_v[:, r:r + half + 1], v_bias[:, r])
        np.testing.assert_allclose(v_row, v_out[:, r], atol=1e-5, err_msg=r)


def test_condition_biases_without_a_condition():
    assert GatedPixelCNNBlock(4).condition_biases() == (0.0, 0.0)
