"""MADE MoG (MADE with a mixture-of-Gaussians head, the MAF paper's baseline), two layers of
100, 10 Gaussians on scikit-learn's wine: 13 chemical measurements of 178 wines (144
train, 17 validation, 17 test rows)."""

from configs import default

STEPS = 100  # where validation peaked in benchmarks/real_valued.py


def get_config():
    return default.on_real_values(default.get_config(), default.MADE_MOG, "sklearn:wine", STEPS)
