"""RNADE (Uria, Murray & Larochelle 2013), 100 hidden units, 10 Gaussians per conditional on
scikit-learn's diabetes: 9 baseline variables of 442 patients, sex dropped (354 / 44 / 44
rows)."""

from configs import default

STEPS = 2275  # where validation peaked in benchmarks/real_valued.py


def get_config():
    return default.on_real_values(default.get_config(), default.RNADE, "sklearn:diabetes", STEPS)
