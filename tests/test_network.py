"""The network contract (`tfar.network.AutoregressiveNetwork`): every model's network
declares what it models, the distribution checks it, and every variable exists after
`build()`."""

import numpy as np
import pytest

import tfar
from tfar.network import AutoregressiveNetwork

SMALL_IMAGE = dict(image_shape=(2, 3, 3), num_values=4, num_layers=2, num_filters=6,
                   first_kernel_size=3)
MODELS = {
    "FVSBN": lambda: tfar.FVSBN(event_shape=(5,), num_values=3),
    "NADE": lambda: tfar.NADE(event_shape=(5,), hidden_units=4, ordering="random",
                              num_orderings=2),
    "MADE": lambda: tfar.MADE(event_shape=(5,), hidden_units=(6,), ordering="random",
                              num_masks=3, conditional_shape=(2,)),
    "PixelCNN": lambda: tfar.PixelCNN(**SMALL_IMAGE),
    "GatedPixelCNN-mixture": lambda: tfar.GatedPixelCNN(likelihood="logistic_mixture",
                                                        num_mixtures=2, **SMALL_IMAGE),
    "PixelRNN": lambda: tfar.PixelRNN(image_shape=(2, 3, 3), num_values=4, num_layers=2,
                                      hidden_units=3, first_kernel_size=3),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_network_declares_what_the_distribution_models(name):
    d = MODELS[name]()
    network = d.network
    assert isinstance(network, AutoregressiveNetwork)
    declared = network.declared()
    assert declared["num_dims"] == int(np.prod(d.event_shape))
    assert declared["num_values"] == d.num_values
    assert declared["params_size"] == d.likelihood.params_size
    assert declared["num_units"] == d.schedule.num_units
    assert declared["num_components"] == d.num_components == d.schedule.num_components
    assert declared["num_units"] * d.likelihood.values_per_unit == declared["num_dims"]
    params = network(np.zeros((2, declared["num_dims"]), np.float32),
                     conditional_input=None if d.conditional_shape is None
                     else np.zeros((2,) + tuple(d.conditional_shape), np.float32))
    assert params.shape == (declared["num_components"], 2, declared["num_units"],
                            declared["params_size"])


def test_a_mismatch_names_each_attribute():
    d = tfar.GatedPixelCNN(**SMALL_IMAGE)
    with pytest.raises(ValueError, match=r"num_units=18 \(the distribution needs 6\)"):
        tfar.GatedPixelCNN(likelihood="logistic_mixture", network=d.network, **SMALL_IMAGE)
    with pytest.raises(ValueError, match="must be a tfar AutoregressiveNetwork"):
        tfar.GatedPixelCNN(network=object(), **SMALL_IMAGE)
