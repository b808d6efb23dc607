"""MADE MoG (MADE with a mixture-of-Gaussians head, the MAF paper's baseline), two layers of
100, 10 Gaussians on scikit-learn's breast cancer: 30 features of 569 tumours' cell nuclei
(457 / 56 / 56 rows)."""

from configs import default

STEPS = 975  # where validation peaked in benchmarks/real_valued.py


def get_config():
    return default.on_real_values(default.get_config(), default.MADE_MOG, "sklearn:breast_cancer", STEPS)
