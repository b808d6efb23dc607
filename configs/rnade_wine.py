"""RNADE (Uria, Murray & Larochelle 2013), 100 hidden units, 10 Gaussians per conditional on
scikit-learn's wine: 13 chemical measurements of 178 wines (144 train, 17 validation, 17
test rows)."""

from configs import default

STEPS = 225  # where validation peaked in benchmarks/real_valued.py


def get_config():
    return default.on_real_values(default.get_config(), default.RNADE, "sklearn:wine", STEPS)
