"""MADE MoG (MADE with a mixture-of-Gaussians head, the MAF paper's baseline), two layers of
100, 10 Gaussians on scikit-learn's diabetes: 9 baseline variables of 442 patients, sex
dropped (354 / 44 / 44 rows)."""

from configs import default

STEPS = 250  # where validation peaked in benchmarks/real_valued.py


def get_config():
    return default.on_real_values(default.get_config(), default.MADE_MOG, "sklearn:diabetes", STEPS)
