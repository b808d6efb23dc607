"""PixelRNN (Row LSTM, Diagonal BiLSTM): normalization, causality, sampling, config round
trip and `.keras` save/load."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.models.pixelrnn import PixelRNNNetwork

CELLS = ["row_lstm", "diagonal_bilstm"]
SMALL = dict(num_layers=1, hidden_units=6, first_kernel_size=3)
# (likelihood, num_values, image_shape)
HEADS = [("bernoulli", 2, (2, 2, 1)), ("categorical", 4, (2, 2, 1)),
         ("categorical", 2, (1, 2, 3)), ("logistic_mixture", 2, (1, 2, 3))]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("likelihood,num_values,shape", HEADS,
                         ids=[f"{h}-{v}values-{'x'.join(map(str, s))}" for h, v, s in HEADS])
@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
def test_normalized(cell, likelihood, num_values, shape, conditional):
    d = tfar.PixelRNN(image_shape=shape, num_values=num_values, cell=cell,
                      likelihood=likelihood, num_mixtures=2,
                      conditional_shape=(3,) if conditional else None, **SMALL)
    checks.randomize_weights(d)
    checks.assert_normalized(d, checks.condition_for(d))


def test_default_likelihood():
    assert tfar.PixelRNN((2, 2, 1), num_values=2, **SMALL).likelihood.name == "bernoulli"
    assert tfar.PixelRNN((2, 2, 1), num_values=3, **SMALL).likelihood.name == "categorical"


def diagonal_blind_spot(shape, first_kernel_size):
    """The (step, dim) pairs the paper's Diagonal BiLSTM PixelRNN (`full_past=False`)
    cannot see although dim is earlier.

    The BiLSTM layers see the whole past of their input, but their input starts as the
    mask-A convolution, whose features at a pixel exclude that pixel's own last sub-pixel
    (channel C − 1). The last sub-pixel of the last pixel of row r − 1, (r − 1, W − 1,
    C − 1), thus enters the residual stream only at row r's pixels c' >= W − 1 − k//2 (k
    = `first_kernel_size`), which pixels (r, c < W − 1 − k//2) of row r never read (they
    are later than them). Every other earlier dimension is seen.
    """
    height, width, channels = shape
    blind = set()
    for r in range(1, height):
        last = np.ravel_multi_index((r - 1, width - 1, channels - 1), shape)
        for c in range(width - 1 - first_kernel_size // 2):
            for j in range(channels):
                blind.add((int(np.ravel_multi_index((r, c, j), shape)), int(last)))
    return blind


def row_lstm_field(shape, first_kernel_size, num_layers):
    """[D, D] bool: which input sub-pixels each sub-pixel's params see in a Row LSTM
    PixelRNN (k = 3), by following the network's masks (channel ch = group ch).

    Input layer (mask A, k1 × k1): a(r, c, g) reads the pixels of the window before
    (r, c) (rows r − k1//2 … r − 1 at columns c ± k1//2, row r at c − k1//2 … c − 1), all
    channels, and x(r, c, ch < g). Each Row LSTM layer (§3.1) adds to the stream s:
    h(r, c, g) reads s(r, c − 1, all) and s(r, c, <= g) (input-to-state, mask B) and
    h(r − 1, c − 1 … c + 1, all) (state-to-state; the cell state follows the same unit
    of h(r − 1, c)); its 1×1 mask-B projection reads h(r, c, <= g). The output layers
    (1×1, mask B) read s(r, c, <= g). The result is the paper's triangle, widened by the
    input layer: the test asserts the gradients are non-zero exactly there.
    """
    height, width, channels = shape
    dims = height * width * channels
    index = np.arange(dims).reshape(shape)

    def upto(field):  # field[r, c, g] |= field[r, c, g' <= g]
        return np.logical_or.accumulate(field, axis=2)

    def whole_pixel(field):  # any group of the pixel
        return np.broadcast_to(field.any(axis=2, keepdims=True), field.shape)

    stream = np.zeros(shape + (dims,), bool)
    half = first_kernel_size // 2
    for r, c, g in np.ndindex(shape):
        for rr in range(max(r - half, 0), r + 1):
            for cc in range(max(c - half, 0), min(c + half, width - 1) + 1):
                if rr < r or cc < c:
                    stream[r, c, g, index[rr, cc]] = True
        stream[r, c, g, index[r, c, :g]] = True
    for _ in range(num_layers):
        inputs = upto(stream)
        inputs[:, 1:] |= whole_pixel(stream)[:, :-1]
        hidden = inputs.copy()
        for r in range(1, height):
            above = whole_pixel(hidden[r - 1:r])[0]                   # [W, C, D]
            for c in range(width):
                hidden[r, c] |= above[max(c - 1, 0):c + 2].any(axis=0)
        stream = stream | upto(hidden)
    return upto(stream).reshape(dims, dims)


@pytest.mark.parametrize("shape", [(6, 6, 1), (4, 5, 3)], ids=["6x6x1", "4x5x3"])
@pytest.mark.parametrize("cell,full_past", [("row_lstm", None), ("diagonal_bilstm", True),
                                            ("diagonal_bilstm", False)],
                         ids=["row_lstm", "diagonal_bilstm", "diagonal_bilstm-paper"])
def test_causal(cell, full_past, shape):
    """No gradient from a sub-pixel's own or later dims; the Diagonal BiLSTM sees every
    earlier one (with `full_past`; the paper's network misses exactly one dim per row);
    the Row LSTM exactly its triangle."""
    d = tfar.PixelRNN(image_shape=shape, num_values=4, cell=cell, num_layers=2,
                      hidden_units=6, first_kernel_size=3, full_past=full_past,
                      conditional_shape=(2,))
    checks.randomize_weights(d)
    jac = checks.assert_image_causal(d, no_blind_spot=cell == "diagonal_bilstm" and full_past)
    if cell == "row_lstm":
        np.testing.assert_array_equal(jac != 0, row_lstm_field(shape, 3, num_layers=2))
    elif full_past is False:
        blind = {(s, int(t)) for s in range(jac.shape[0]) for t in np.flatnonzero(jac[s, :s] == 0)}
        assert blind == diagonal_blind_spot(shape, 3)


@pytest.mark.parametrize("cell", CELLS)
def test_samples_match_log_prob(cell):
    d = tfar.PixelRNN(image_shape=(2, 2, 1), num_values=3, cell=cell, num_layers=1,
                      hidden_units=4, first_kernel_size=3)
    checks.train_a_few_steps(d, steps=20)
    checks.assert_samples_match(d, num_samples=20000)
    checks.assert_seeded(d)


def test_network_config_round_trip():
    d = tfar.PixelRNN(image_shape=(3, 3, 3), num_values=4, cell="row_lstm",
                      conditional_shape=(2,), **SMALL)
    config = d.network.get_config()
    assert config["cell"] == "row_lstm" and config["hidden_units"] == 6
    checks.assert_network_config_round_trip(d, PixelRNNNetwork)


@pytest.mark.parametrize("cell", CELLS)
def test_keras_save_and_load(tmp_path, cell):
    """A `.keras` file restores every weight, the LSTM and conditional ones included."""
    import keras
    options = dict(image_shape=(2, 2, 1), num_values=4, cell=cell, conditional_shape=(2,),
                   **SMALL)
    d = tfar.PixelRNN(**options)
    checks.randomize_weights(d)
    path = str(tmp_path / "network.keras")
    d.network.save(path)
    loaded = keras.models.load_model(path)
    assert len(loaded.weights) == len(d.network.weights)
    for a, b in zip(loaded.weights, d.network.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    twin = tfar.PixelRNN(network=loaded, **options)
    x = checks.all_configurations(d)
    c = checks.condition_for(d)
    np.testing.assert_array_equal(twin.log_prob(x, conditional_input=c).numpy(),
                                  d.log_prob(x, conditional_input=c).numpy())


def test_full_past_is_what_the_network_builds():
    """The distribution's parameters say what its network does: full_past defaults to
    True for the Diagonal BiLSTM and False for the Row LSTM, where True is an error
    (it was dropped silently)."""
    for cell, expected in (("diagonal_bilstm", True), ("row_lstm", False)):
        d = tfar.PixelRNN(image_shape=(2, 2, 1), cell=cell, **SMALL)
        assert d.parameters["full_past"] is expected
        assert d.network.full_past is expected
        assert d.network.get_config()["full_past"] is expected
    with pytest.raises(ValueError, match="Diagonal BiLSTM only"):
        tfar.PixelRNN(image_shape=(2, 2, 1), cell="row_lstm", full_past=True, **SMALL)
    assert not tfar.PixelRNN(image_shape=(2, 2, 1), cell="diagonal_bilstm", full_past=False,
                             **SMALL).network.full_past


def test_bad_construction():
    with pytest.raises(ValueError, match="cell must be one of"):
        tfar.PixelRNN(image_shape=(2, 2, 1), cell="grid_lstm", **SMALL)
    with pytest.raises(ValueError, match="multiple of"):
        tfar.PixelRNN(image_shape=(2, 2, 3), num_values=4, num_layers=1, hidden_units=4)
    with pytest.raises(ValueError, match="height, width, channels"):
        tfar.PixelRNN(image_shape=(16,), **SMALL)


@pytest.mark.parametrize("cell", CELLS)
def test_invalid_values_rejected_by_default(cell):
    d = tfar.PixelRNN(image_shape=(2, 2, 1), num_values=2, cell=cell, **SMALL)
    for value, message in [(2.0, "values >= 2"), (-1.0, "below 0"), (0.5, "non-integer")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            d.log_prob(np.full((1, 2, 2, 1), value, np.float32))
