"""MADE on the embedded 8×8 digits: an order-agnostic ensemble of 8 mask sets (MADE §4.2)."""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.model = ml_collections.ConfigDict(dict(
        name="made", conditioning="", hidden_units=(500,), ordering="random",
        hidden_degrees="random", num_masks=8))
    return config
