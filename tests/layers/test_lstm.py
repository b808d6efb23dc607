"""PixelRNN's recurrent layers: skew/unskew, causality (with the exact receptive fields),
non-square maps, `tf.function` with an unknown batch size, config round trips, and the
Diagonal BiLSTM's one scan over both directions (equal to two scans, same variables)."""

import numpy as np
import pytest
import tensorflow as tf

from tfar.layers import DiagonalBiLSTM, DiagonalLSTM, MaskedConv2D, RowLSTM, skew, unskew

SHAPES = [(6, 6, 1), (4, 5, 3)]  # (H, W, C); C channels = C channel groups of one channel


@pytest.mark.parametrize("height,width", [(1, 1), (3, 3), (2, 5), (5, 2), (4, 7)])
def test_skew_and_unskew_are_exact_inverses(height, width):
    x = np.random.default_rng(height * 10 + width).normal(size=(2, height, width, 3))
    x = x.astype(np.float32)
    y = skew(x).numpy()
    assert y.shape == (2, height, width + height - 1, 3)  # 2W − 1 for a square map
    for r in range(height):  # row r shifted right by r, zeros elsewhere
        np.testing.assert_array_equal(y[:, r, r:r + width], x[:, r])
        assert np.all(y[:, r, :r] == 0) and np.all(y[:, r, r + width:] == 0)
    np.testing.assert_array_equal(unskew(y).numpy(), x)


def test_skew_and_unskew_with_unknown_shapes():
    spec = tf.TensorSpec([None, None, None, 2], tf.float32)
    round_trip = tf.function(lambda x: unskew(skew(x)), input_signature=[spec])
    x = tf.random.stateless_normal([3, 4, 6, 2], seed=(1, 2))
    np.testing.assert_array_equal(round_trip(x).numpy(), x.numpy())


def _randomized(layers, seed):
    rng = np.random.default_rng(seed)
    for layer in layers:
        for variable in layer.variables:
            variable.assign(rng.normal(scale=0.5, size=variable.shape).astype(np.float32))


def _stack(cls, channels, units, first_kernel, seed=0):
    """A mask-A first layer then the LSTM layer, every variable N(0, 0.5²)."""
    first = MaskedConv2D(units, first_kernel, "A", groups=channels)
    layer = cls(units, groups=channels)
    first.build((None, None, None, channels))
    layer.build((None, None, None, units))
    _randomized([first, layer], seed)
    return lambda x: layer(first(x))


def _jacobian(fn, height, width, channels, seed=0):
    """J[r, c, g, r', c', ch] = |∂ Σ(outputs of group g at (r, c)) / ∂ x[r', c', ch]|."""
    x = tf.constant(np.random.default_rng(seed).normal(size=(1, height, width, channels)),
                    tf.float32)

    @tf.function
    def jacobian(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)[0]                                            # [H, W, units]
            per_group = tf.reduce_sum(tf.reshape(y, [height, width, channels, -1]), -1)
        return tape.jacobian(per_group, x)                         # [H, W, G, 1, H, W, C]

    return np.abs(jacobian(x).numpy()[:, :, :, 0])


def _past(height, width, channels, r, c, g):
    """[H, W, C]: the inputs before sub-pixel g of pixel (r, c) in raster order."""
    past = np.zeros((height, width, channels), bool)
    past[:r] = True
    past[r, :c] = True
    past[r, c, :g] = True
    return past


def _row_lstm_field(height, width, channels, r, c, g):
    """[H, W, C]: what output group g at (r, c) sees through the (1, 3) mask-A layer a
    and a RowLSTM with k = 3 (channel ch is group ch).

    a(r, c, j) reads x(r, c − 1, all) and x(r, c, ch < j). h(r, c, g) reads a(r, c − 1, all)
    and a(r, c, j <= g) (mask B), and h(r − 1, c − 1 … c + 1), so by recursion
    a(r − d, c − d − 1 … c + d, all groups) for every d >= 1 (each row up, the
    state-to-state kernel widens the triangle by one column each way; the input-to-state
    kernel adds one more on the left). In x:
      row r:      columns c − 2, c − 1 (all channels); pixel (r, c) itself: channels < g;
      row r − d:  columns c − d − 2 … R − 1 (all channels) with R = min(c + d, W − 1), the
                  rightmost a; and x(r − d, R, ch < G − 1), which only a(r − d, R)'s
                  groups after ch read (nothing for G = 1).
    Clipped to the image: a 3-wide triangle that stops at the image's edges.
    """
    field = np.zeros((height, width, channels), bool)
    field[r, max(c - 2, 0):c] = True
    field[r, c, :g] = True
    for d in range(1, r + 1):
        right = min(c + d, width - 1)
        field[r - d, max(c - d - 2, 0):right] = True
        field[r - d, right, :channels - 1] = True
    return field


@pytest.mark.parametrize("height,width,channels", SHAPES)
@pytest.mark.parametrize("cls", [RowLSTM, DiagonalBiLSTM])
def test_causal_with_the_papers_receptive_field(cls, height, width, channels):
    # RowLSTM: a (1, 3) first layer, so that the field stays a clean triangle.
    # Diagonal BiLSTM: a (3, 2W − 1) first layer. After mask A (and mask B above it) a
    # feature at pixel q never carries q's last channel group: only features at LATER
    # pixels do. The first pixel of row r follows the last of row r − 1, so it can see that
    # pixel only through its own first-layer features, whose kernel must then reach W − 1
    # columns to the right in the row above. No narrower first layer (the paper's 7×7
    # included, on images wider than 4) lets any stack see the whole past; the layer adds
    # all the rest (`test_diagonal_bilstm_alone_sees_exactly_the_past`).
    first_kernel = (1, 3) if cls is RowLSTM else (3, 2 * width - 1)
    jac = _jacobian(_stack(cls, channels, 2 * channels, first_kernel, seed=height),
                    height, width, channels)
    for r in range(height):
        for c in range(width):
            for g in range(channels):
                seen = jac[r, c, g] != 0
                past = _past(height, width, channels, r, c, g)
                assert not np.any(seen & ~past), (  # later pixels, same-or-later groups: 0
                    f"({r}, {c}) group {g} sees the future at {np.argwhere(seen & ~past)}")
                if cls is DiagonalBiLSTM:  # the whole past: every earlier sub-pixel
                    assert np.all(seen[past]), (
                        f"({r}, {c}) group {g} is blind to {np.argwhere(past & ~seen)}")
                else:  # exactly the triangle
                    expected = _row_lstm_field(height, width, channels, r, c, g)
                    np.testing.assert_array_equal(seen, expected, err_msg=f"({r}, {c}) {g}")


@pytest.mark.parametrize("height,width,groups", [(4, 4, 1), (3, 5, 3)])
def test_diagonal_bilstm_alone_sees_exactly_the_past(height, width, groups):
    """The layer on its own (its input-to-state convolutions have mask B): group g at
    (r, c) sees exactly every earlier pixel and its own pixel's groups <= g."""
    layer = DiagonalBiLSTM(2 * groups, groups=groups)
    layer.build((None, None, None, groups))
    _randomized([layer], 4)
    jac = _jacobian(layer, height, width, groups)
    for r in range(height):
        for c in range(width):
            for g in range(groups):
                expected = _past(height, width, groups, r, c, g + 1)
                np.testing.assert_array_equal(jac[r, c, g] != 0, expected,
                                              err_msg=f"({r}, {c}) group {g}")


@pytest.mark.parametrize("height,width,channels", SHAPES)
def test_diagonal_bilstm_with_the_image_term_sees_the_whole_past(height, width, channels):
    """After the paper's 7×7 mask-A first layer (which hides x(r − 1, W − 1) from row r's
    first pixels), a DiagonalBiLSTM whose right-to-left stream also reads the image
    (`image_channels`) sees exactly the whole past."""
    units = 2 * channels
    first = MaskedConv2D(units, 7, "A", groups=channels)
    layer = DiagonalBiLSTM(units, groups=channels, image_channels=channels)
    first.build((None, None, None, channels))
    layer.build((None, None, None, units))
    _randomized([first, layer], height)
    jac = _jacobian(lambda x: layer(first(x), x), height, width, channels)
    for r in range(height):
        for c in range(width):
            for g in range(channels):
                np.testing.assert_array_equal(jac[r, c, g] != 0,
                                              _past(height, width, channels, r, c, g),
                                              err_msg=f"({r}, {c}) group {g}")
    with pytest.raises(ValueError, match="image_channels"):
        layer(first(tf.zeros([1, height, width, channels])))


def test_diagonal_lstm_sees_the_quadrant_above_and_left():
    """On its own (no first layer, one group, mask B): pixel (r, c) sees exactly the inputs
    at r' <= r, c' <= c: the 2×1 state-to-state kernel reads rows r − 1 and r, never r + 1."""
    height, width = 4, 5
    layer = DiagonalLSTM(2)
    layer.build((None, None, None, 1))
    _randomized([layer], 3)
    jac = _jacobian(layer, height, width, 1)[:, :, 0, :, :, 0]
    for r in range(height):
        for c in range(width):
            expected = np.zeros((height, width), bool)
            expected[:r + 1, :c + 1] = True
            np.testing.assert_array_equal(jac[r, c] != 0, expected, err_msg=f"({r}, {c})")


LAYERS = [(RowLSTM, {"kernel_size": 3}), (RowLSTM, {"kernel_size": 5, "groups": 3}),
          (DiagonalLSTM, {"groups": 3}), (DiagonalBiLSTM, {})]


@pytest.mark.parametrize("cls,kwargs", LAYERS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_function_with_unknown_batch_and_config_round_trip(cls, kwargs):
    height, width, channels = 3, 5, 6  # non-square
    layer = cls(6, **kwargs)
    x = tf.random.stateless_normal([2, height, width, channels], seed=(5, 6))
    eager = layer(x).numpy()
    assert eager.shape == (2, height, width, 6)
    graph = tf.function(layer, input_signature=[
        tf.TensorSpec([None, height, width, channels], tf.float32)])
    np.testing.assert_allclose(graph(x).numpy(), eager, rtol=1e-5, atol=1e-6)
    assert graph(x[:1]).shape == (1, height, width, 6)

    clone = cls.from_config(layer.get_config())
    clone.build((None, height, width, channels))
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), eager, rtol=1e-6, atol=1e-6)


def test_rows_and_columns_taller_than_wide():
    for cls in (RowLSTM, DiagonalLSTM, DiagonalBiLSTM):
        assert cls(3)(tf.zeros([1, 6, 2, 2])).shape == (1, 6, 2, 3)


@pytest.mark.parametrize("cls", [RowLSTM, DiagonalLSTM, DiagonalBiLSTM])
def test_units_must_split_into_groups(cls):
    with pytest.raises(ValueError, match="multiple"):
        cls(4, groups=3)


@pytest.mark.parametrize("cls", [RowLSTM, DiagonalBiLSTM])
def test_computes_in_the_compute_dtype(cls):
    x = tf.random.stateless_normal([2, 3, 4, 3], seed=(7, 8))
    layer = cls(3, groups=3)
    reference = layer(x).numpy()
    mixed = cls(3, groups=3, dtype="mixed_float16")
    mixed.build((None, 3, 4, 3))
    mixed.set_weights(layer.get_weights())
    y = mixed(x)
    assert y.dtype == tf.float16 and mixed.variables[0].dtype == "float32"
    np.testing.assert_allclose(y.numpy(), reference, atol=1e-2)


@pytest.mark.parametrize("height,width,groups,image", [(4, 5, 1, False), (5, 3, 3, True),
                                                      (1, 4, 1, True), (3, 1, 3, False)])
def test_diagonal_bilstm_one_scan_equals_two_scans(height, width, groups, image):
    """The two directions in one scan over stacked states (the default) compute what two
    scans one after the other (`stacked_scan = False`, each `DiagonalLSTM.call`) compute:
    outputs and gradients, the image term included, under `tf.function` with an unknown
    batch size."""
    channels = 2 * groups
    layer = DiagonalBiLSTM(2 * groups, groups=groups, image_channels=groups if image else None)
    layer.build((None, None, None, channels))
    _randomized([layer], height * 10 + width)
    x = tf.random.stateless_normal([3, height, width, channels], seed=(1, 2))
    image_input = tf.random.stateless_normal([3, height, width, groups], seed=(3, 4))
    args = (x, image_input) if image else (x,)
    spec = [tf.TensorSpec([None, height, width, a.shape[-1]]) for a in args]

    def outputs_and_gradients(stacked):
        layer.stacked_scan = stacked

        @tf.function(input_signature=spec)
        def run(*inputs):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                y = layer(*inputs)
                loss = tf.reduce_sum(tf.sin(y))
            return y, tape.gradient(loss, layer.trainable_variables + list(inputs))

        return run(*args)

    try:
        stacked, stacked_grads = outputs_and_gradients(True)
        separate, separate_grads = outputs_and_gradients(False)
    finally:
        layer.stacked_scan = True
    assert stacked.shape == (3, height, width, 2 * groups)
    np.testing.assert_allclose(stacked.numpy(), separate.numpy(), rtol=1e-6, atol=1e-6)
    for a, b in zip(stacked_grads, separate_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_diagonal_bilstm_keeps_its_variable_layout():
    """Each direction's weights stay in its own `DiagonalLSTM`, under the names they had
    when the directions ran as two scans, so `.keras` files and checkpoints written then
    load."""
    layer = DiagonalBiLSTM(6, groups=3, image_channels=3, name="lstm_0")
    layer.build((None, None, None, 12))
    assert [(v.path, tuple(v.shape)) for v in layer.weights] == [
        ("lstm_0/left_to_right/state_kernel", (2, 1, 6, 24)),
        ("lstm_0/left_to_right/input_to_state/kernel", (1, 1, 12, 24)),
        ("lstm_0/left_to_right/input_to_state/bias", (24,)),
        ("lstm_0/right_to_left/state_kernel", (2, 1, 6, 24)),
        ("lstm_0/right_to_left/input_to_state/kernel", (1, 1, 12, 24)),
        ("lstm_0/right_to_left/input_to_state/bias", (24,)),
        ("lstm_0/image_to_state/kernel", (3, 24))]
    assert "stacked_scan" not in layer.get_config()
