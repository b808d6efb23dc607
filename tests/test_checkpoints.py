"""Every model's network persists whole: a `tf.train.Checkpoint` of the network alone
(`tfar.layers.tracking`: Keras 3 lists are otherwise invisible to TF checkpoints),
restored after or before the twin's first call, and a `.keras` file, give back the same
log-probabilities."""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar

MODELS = {
    "MADE_blocks_conditional": lambda: tfar.MADE(
        event_shape=(6,), hidden_units=(12, 9), column_blocks=3, conditional_shape=(2,),
        direct_connections=True),
    "MADE_ensemble": lambda: tfar.MADE(event_shape=(5,), num_values=3, hidden_units=(8,),
                                       ordering="random", num_masks=2, seed=1),
    "FVSBN": lambda: tfar.FVSBN(event_shape=(5,)),
    "NADE": lambda: tfar.NADE(event_shape=(5,), hidden_units=4),
    "PixelCNN": lambda: tfar.PixelCNN(image_shape=(3, 3, 1), num_values=2, num_layers=2,
                                      num_filters=4),
    "GatedPixelCNN": lambda: tfar.GatedPixelCNN(image_shape=(3, 3, 1), num_values=2,
                                                num_layers=2, num_filters=4),
    "PixelRNN": lambda: tfar.PixelRNN(image_shape=(3, 3, 1), num_values=2, num_layers=2,
                                      hidden_units=4, first_kernel_size=3),
    "GatedPixelCNN_caption": lambda: tfar.GatedPixelCNN(
        image_shape=(3, 3, 1), num_values=2, num_layers=2, num_filters=4,
        text_encoder=checks.caption_encoder()),
    "MultiscalePixelCNN_conditional": lambda: tfar.MultiscalePixelCNN(
        image_shape=(4, 4, 1), num_values=2, base_size=2, base_layers=2, base_filters=4,
        base_kernel_size=3, upscale_blocks=1, upscale_filters=4, conditional_shape=(2,)),
    "MultiscalePixelRNN_caption": lambda: tfar.MultiscalePixelRNN(
        image_shape=(4, 4, 1), num_values=2, base_size=2, base_layers=1, base_hidden_units=3,
        num_layers=1, hidden_units=3, first_kernel_size=3, context_filters=3,
        text_encoder=checks.caption_encoder()),
    "RNADE_order_agnostic": lambda: tfar.RNADE(event_shape=(4,), hidden_units=5, num_mixtures=2,
                                               order_agnostic=True),
    "MADE_mixture_of_gaussians": lambda: tfar.MADE(event_shape=(4,), hidden_units=(6,),
                                                   likelihood="mixture_of_gaussians",
                                                   num_mixtures=2),
    "PixelCNNPlusPlus_conditional_weight_norm": lambda: tfar.PixelCNNPlusPlus(
        image_shape=(2, 2, 3), num_values=4, num_resnet=1, num_hierarchies=2, num_filters=4,
        num_mixtures=2, conditional_shape=(2,), weight_norm=True),
    "PixelCNN_class_embedding": lambda: tfar.PixelCNN(
        image_shape=(3, 3, 1), num_values=2, num_layers=2, num_filters=4,
        conditioning=tfar.conditioning.ClassLabel(4, embedding_dim=3)),
}


def saved_variables(path):
    """The network's variables in a checkpoint (a caption's vocabulary table, saved as
    its keys and values, is not a variable)."""
    return {n for n, _ in tf.train.list_variables(path)
            if "network/" in n and ".ATTRIBUTES/table-" not in n}


def network_inputs(d, x, c):
    """{"conditional_input": the network's features of c} (or {})."""
    if c is None:
        return {}
    c = np.broadcast_to(c, (len(x),) + c.shape)
    return {"conditional_input": d.network.encode_condition(tf.constant(c))}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_network_checkpoint_holds_every_variable(name, tmp_path):
    d = MODELS[name]()
    path = tf.train.Checkpoint(network=d.network).save(str(tmp_path / "ckpt"))
    # Keras' LSTM cells keep seed-generator states for a dropout the text encoder does
    # not use; checkpoints do not hold them (nothing to restore).
    weights = [v for v in d.network.variables if "seed_generator" not in v.path]
    assert len(saved_variables(path)) == len(weights)

    twin = MODELS[name]()
    x = checks.example_events(d)
    c = checks.condition_for(d)
    kwargs = {} if c is None else {"conditional_input": c}
    assert not np.allclose(twin.log_prob(x, **kwargs), d.log_prob(x, **kwargs))
    tf.train.Checkpoint(network=twin.network).restore(path).assert_consumed()
    np.testing.assert_array_equal(twin.log_prob(x, **kwargs).numpy(),
                                  d.log_prob(x, **kwargs).numpy())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_restore_before_build_fills_every_variable(name, tmp_path):
    """A checkpoint restored into a network rebuilt from its config, before its first
    call, reaches the variables that call creates (column blocks included)."""
    d = MODELS[name]()
    path = tf.train.Checkpoint(network=d.network).save(str(tmp_path / "ckpt"))
    network = type(d.network).from_config(d.network.get_config())
    status = tf.train.Checkpoint(network=network).restore(path)
    x = tf.constant(checks.example_events(d), tf.float32)
    c = checks.condition_for(d)
    kwargs = network_inputs(d, x, c)
    np.testing.assert_array_equal(network(x, **kwargs).numpy(), d.network(x, **kwargs).numpy())
    status.assert_consumed()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_file_holds_every_variable(name, tmp_path):
    import keras
    d = MODELS[name]()
    path = str(tmp_path / "network.keras")
    d.network.save(path)
    loaded = keras.models.load_model(path)
    assert len(loaded.weights) == len(d.network.weights)
    x = tf.constant(checks.example_events(d), tf.float32)
    c = checks.condition_for(d)
    kwargs = network_inputs(d, x, c)
    np.testing.assert_array_equal(loaded(x, **kwargs).numpy(), d.network(x, **kwargs).numpy())
    if c is not None:   # the loaded network's own encoder (a caption's vocabulary)
        np.testing.assert_array_equal(
            loaded(x, **network_inputs(loaded_twin(d, loaded), x, c)).numpy(),
            d.network(x, **kwargs).numpy())


def loaded_twin(d, network):
    """An object with `network`, for `network_inputs` of a loaded network."""
    class Twin:
        pass
    twin = Twin()
    twin.network = network
    return twin
