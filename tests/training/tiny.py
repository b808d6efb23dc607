"""A tiny version of configs/default.py for tests: seconds, not minutes."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "configs"))
import default  # noqa: E402


def tiny_config(**train):
    """NADE with 8 hidden units on digits, 40 steps of batch 32, checkpoints every 20."""
    config = default.get_config()
    config.model.hidden_units = 8
    config.train.update(dict(batch_size=32, steps=40, steps_per_loop=10, log_every=10,
                             checkpoint_every=20, warmup_steps=5, learning_rate=1e-2))
    config.train.update(train)
    config.eval.num_samples = 8
    return config
