"""RNADE (Uria, Murray & Larochelle 2013), 100 hidden units, 10 Gaussians per conditional on
scikit-learn's breast cancer: 30 features of 569 tumours' cell nuclei (457 / 56 / 56
rows)."""

from configs import default

STEPS = 750  # where validation peaked in benchmarks/real_valued.py


def get_config():
    return default.on_real_values(default.get_config(), default.RNADE, "sklearn:breast_cancer", STEPS)
