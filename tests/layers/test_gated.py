"""The Gated PixelCNN layer's pieces: the gate's channel groups, the down shift, causality
of one block on its own."""

import numpy as np
import tensorflow as tf

from tfar.layers.gated import GatedPixelCNNBlock, gate, shift_down


def test_gate_keeps_channel_groups():
    # Two groups of F/G = 2: pre-activations [f0 f1 g0 g1 | f2 f3 g2 g3].
    x = tf.constant(np.arange(8, dtype=np.float32)[None] / 8.0)
    y = gate(x, groups=2).numpy()[0]
    f, g = np.array([0, 1, 4, 5]) / 8.0, np.array([2, 3, 6, 7]) / 8.0
    np.testing.assert_allclose(y, np.tanh(f) / (1 + np.exp(-g)), rtol=1e-6)


def test_shift_down_moves_rows():
    x = tf.reshape(tf.range(6, dtype=tf.float32), [1, 3, 2, 1])
    np.testing.assert_array_equal(shift_down(x)[0, :, :, 0], [[0, 0], [0, 1], [2, 3]])


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
