"""MADE: normalization, causality, sampling, ensembles, config round trip."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.models.made import MADENetwork

CONDITION = np.array([0.5, -1.0, 2.0], np.float32)

# (id, constructor kwargs): every ordering option, num_masks > 1, 2 and 4 values,
# vector and image events, conditional and not, direct connections, deeper nets, kernels
# stored as column blocks.
OPTIONS = [
    ("l2r-vector-binary", dict(event_shape=(10,), hidden_units=(16,))),
    ("r2l-image-4values", dict(event_shape=(2, 2, 1), num_values=4, hidden_units=(12,),
                               ordering="right_to_left")),
    ("random-order", dict(event_shape=(6,), hidden_units=(8, 8), ordering="random", seed=3)),
    ("explicit-order-conditional", dict(event_shape=(2, 3), hidden_units=(10,),
                                        ordering=[3, 0, 5, 1, 4, 2], conditional_shape=(3,))),
    ("8masks-order-agnostic", dict(event_shape=(10,), hidden_units=(20, 20), ordering="random",
                                   num_masks=8, seed=1)),
    ("3masks-connectivity-4values-conditional", dict(
        event_shape=(4,), num_values=4, hidden_units=(12,), hidden_degrees="random",
        num_masks=3, seed=2, conditional_shape=(3,))),
    ("direct-no-hidden-categorical", dict(event_shape=(2, 2, 1), num_values=4, hidden_units=(),
                                          direct_connections=True)),
    ("binary-categorical-head", dict(event_shape=(5,), hidden_units=(8,), likelihood="categorical",
                                     direct_connections=True)),
    ("l2r-column-blocks-conditional", dict(event_shape=(10,), hidden_units=(16,), column_blocks=3,
                                           conditional_shape=(3,))),
    ("r2l-column-blocks-4values-direct", dict(
        event_shape=(2, 2, 1), num_values=4, hidden_units=(12, 9), ordering="right_to_left",
        column_blocks=2, direct_connections=True)),
    ("3masks-connectivity-column-blocks", dict(event_shape=(6,), hidden_units=(12,),
                                               hidden_degrees="random", num_masks=3, seed=4,
                                               column_blocks=3)),
]


def make(kwargs):
    return tfar.MADE(**kwargs)


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=[o[0] for o in OPTIONS])
def test_normalized(kwargs):
    d = make(kwargs)
    checks.assert_normalized(d, checks.condition_for(d))


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=[o[0] for o in OPTIONS])
def test_causal_from_construction(kwargs):
    d = make(kwargs)
    # MADE claims full connectivity with direct links, or with one hidden layer of evenly
    # spread degrees and H >= D - 1 (deeper ReLU stacks can be blind by their weights).
    hidden = kwargs["hidden_units"]
    connected = kwargs.get("direct_connections", False) or (
        kwargs.get("hidden_degrees", "equal") == "equal" and len(hidden) == 1
        and hidden[0] >= d.orderings.shape[1] - 1)
    jac = checks.network_jacobian(d)
    checks.assert_causal(jac, d.orderings, fully_connected=connected)
    for k in range(d.num_masks):  # the single-mask path used in training
        jac = checks.network_jacobian(d, mask_index=k)
        checks.assert_causal(jac, d.orderings[k:k + 1], fully_connected=connected)


@pytest.mark.parametrize("kwargs", [OPTIONS[2][1], OPTIONS[5][1]], ids=["single", "ensemble"])
def test_samples_match_log_prob(kwargs):
    d = make({**kwargs, "event_shape": (3,)} if kwargs.get("num_values", 2) == 2 else kwargs)
    c = checks.condition_for(d)
    checks.train_a_few_steps(d, conditional_input=c)
    checks.assert_samples_match(d, conditional_input=c)
    checks.assert_seeded(d, conditional_input=c)


def test_ensemble_is_log_mean_exp_of_masks():
    d = make(OPTIONS[4][1])
    x = checks.all_configurations(d)[:50]
    per_mask = np.stack([d.log_prob(x, mask_index=k).numpy() for k in range(d.num_masks)])
    expected = np.log(np.mean(np.exp(per_mask.astype(np.float64)), axis=0))
    np.testing.assert_allclose(d.log_prob(x).numpy(), expected, atol=1e-5)
    assert len({tuple(o) for o in d.orderings}) == d.num_masks  # order-agnostic: 8 orders


def test_training_loss_uses_one_mask_per_call():
    d = make(OPTIONS[4][1])
    x = checks.all_configurations(d)[:50]
    per_mask = {round(float(-np.mean(d.log_prob(x, mask_index=k))), 4) for k in range(d.num_masks)}
    losses = {round(float(d.training_loss(x, seed=(0, s))), 4) for s in range(20)}
    assert losses <= per_mask and len(losses) > 1


def test_network_config_round_trip_keeps_drawn_masks():
    d = make(OPTIONS[5][1])
    config = d.network.get_config()
    assert np.array(config["degrees"][0]).shape == (3, 4)  # the orderings drawn, not "random"
    clone = MADENetwork.from_config(config)
    clone(tf.zeros([1, 4]), conditional_input=tf.zeros([1, 3]))
    clone.set_weights(d.network.get_weights())
    wrapped = tfar.MADE(event_shape=(4,), num_values=4, conditional_shape=(3,), network=clone)
    x = checks.all_configurations(d)[:20]
    np.testing.assert_array_equal(wrapped.log_prob(x, conditional_input=CONDITION).numpy(),
                                  d.log_prob(x, conditional_input=CONDITION).numpy())
    np.testing.assert_array_equal(wrapped.orderings, d.orderings)


@pytest.mark.parametrize("index", [3, 8, 9], ids=[OPTIONS[i][0] for i in (3, 8, 9)])
def test_keras_save_and_load(tmp_path, index):
    d = make(OPTIONS[index][1])
    path = str(tmp_path / "made.keras")
    d.network.save(path)
    import keras
    loaded = keras.models.load_model(path)
    assert [layer.blocks for layer in loaded.hidden_layers] == [
        layer.blocks for layer in d.network.hidden_layers]
    x = checks.all_configurations(d)[:20]
    c = checks.condition_for(d)
    wrapped = tfar.MADE(event_shape=d.event_shape, num_values=d.num_values,
                        conditional_shape=d.conditional_shape, network=loaded)
    np.testing.assert_allclose(wrapped.log_prob(x, conditional_input=c).numpy(),
                               d.log_prob(x, conditional_input=c).numpy(), rtol=1e-6)


def test_variables_are_the_networks():
    d = make(OPTIONS[3][1])
    assert len(d.trainable_variables) == len(d.network.trainable_variables) > 0
    for mine, theirs in zip(d.trainable_variables, d.network.trainable_variables):
        assert mine is theirs.value
    assert len(d.variables) == len(d.network.variables)


def test_equal_masks_rejected():
    with pytest.raises(ValueError, match="every mask set is the same"):
        tfar.MADE(event_shape=(4,), num_masks=2)


def test_graph_holds_degrees_not_masks():
    """Masks are formed in the graph from the degrees: no constant of a graph (nor of the
    SavedModel made from it) grows like M · n_in · n_out."""
    d = tfar.MADE(event_shape=(30,), hidden_units=(40,), hidden_degrees="random", num_masks=4,
                  seed=0)
    graph = tf.function(d.log_prob).get_concrete_function(
        tf.TensorSpec([None, 30], tf.float32)).graph.as_graph_def()
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    sizes = [int(np.prod([dim.size for dim in n.attr["value"].tensor.tensor_shape.dim]))
             for n in nodes if n.op == "Const"]
    assert max(sizes) <= 4 * 40  # the [M, units] degrees; a mask would be 4 * 30 * 40


def test_configs_from_before_column_blocks_load_one_dense_kernel():
    d = tfar.MADE(event_shape=(300,), hidden_units=(200,))
    config = d.network.get_config()
    assert config["column_blocks"] == "auto" and d.network.hidden_layers[0].column_blocks > 1
    del config["column_blocks"]
    old = MADENetwork.from_config(config)
    assert [layer.column_blocks for layer in old.hidden_layers + [old.output_layer]] == [1, 1]
    assert tfar.MADE(event_shape=(300,), hidden_units=(200,),
                     column_blocks="2").network.hidden_layers[0].column_blocks == 2


@pytest.mark.parametrize("index", [4, 5], ids=[OPTIONS[i][0] for i in (4, 5)])
def test_sampling_runs_each_mask_set_on_its_own_rows(index):
    """Per-row mask sets (one pass in all) give the params that evaluating every set for
    every row and keeping one would give."""
    from tfar.autoregressive import AutoregressiveDistribution
    d = make(OPTIONS[index][1])
    x = tf.constant(checks.all_configurations(d)[:12], tf.float32)
    c = checks.condition_for(d)
    c = None if c is None else tf.constant(np.broadcast_to(c, (12,) + c.shape))
    components = tf.constant(np.random.default_rng(0).integers(0, d.num_masks, 12), tf.int32)
    np.testing.assert_allclose(
        d._params_of_components(x, c, components).numpy(),
        AutoregressiveDistribution._params_of_components(d, x, c, components).numpy(),
        rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("index", [4, 5, 10], ids=[OPTIONS[i][0] for i in (4, 5, 10)])
def test_mask_sets_in_parallel_give_the_sequential_log_prob(index):
    """The ensemble log-prob is the same whether its mask sets run one at a time (the
    memory-bound mode) or several at once (compiled: eagerly a map_fn runs them in turn)."""
    sequential = make({**OPTIONS[index][1], "parallel_mask_sets": 1})
    checks.randomize_weights(sequential, seed=index)
    x = checks.all_configurations(sequential)[:40]
    c = checks.condition_for(sequential)
    c = None if c is None else np.broadcast_to(c, (40,) + c.shape)
    expected = tf.function(sequential.log_prob)(x, conditional_input=c).numpy()
    assert sequential.network.mask_sets_at_once == 1
    for parallel_mask_sets in (2, "auto"):
        d = make({**OPTIONS[index][1], "parallel_mask_sets": parallel_mask_sets})
        d.network.set_weights(sequential.network.get_weights())
        assert d.network.mask_sets_at_once == (2 if parallel_mask_sets == 2 else d.num_masks)
        np.testing.assert_allclose(tf.function(d.log_prob)(x, conditional_input=c).numpy(),
                                   expected, rtol=1e-6, atol=1e-6)


def test_auto_parallel_mask_sets_keeps_the_largest_made_one_at_a_time():
    """"auto" bounds the masked kernels in flight: the paper's largest MADE (two layers of
    8,000 units, 32 masks; 0.6 GB of masks and masked kernels per set) runs one set at a
    time, a 500-unit one all 8 at once. Networks only, never built (no weights)."""
    from tfar.layers.masked import made_degrees
    largest = MADENetwork(784, 2, 1, made_degrees(784, (8000, 8000), "left_to_right", "random",
                                                  32, seed=0))
    assert largest.mask_sets_at_once == 1
    small = MADENetwork(784, 2, 1, made_degrees(784, (500,), "random", "equal", 8, seed=0))
    assert small.mask_sets_at_once == 8
    assert MADENetwork.from_config(small.get_config()).mask_sets_at_once == 8
    degrees = made_degrees(6, (12,), "random", "equal", 3, seed=0)
    assert MADENetwork(6, 2, 1, degrees, parallel_mask_sets="2").mask_sets_at_once == 2
    assert MADENetwork(6, 2, 1, degrees, parallel_mask_sets=10).mask_sets_at_once == 3
    for bad in (0, "many", None):
        with pytest.raises(ValueError, match="parallel_mask_sets must be"):
            MADENetwork(6, 2, 1, degrees, parallel_mask_sets=bad)
