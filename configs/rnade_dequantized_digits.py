"""RNADE (Uria, Murray & Larochelle 2013), 100 hidden units, 10 Gaussians per conditional on
the embedded 8×8 digits dequantized, (k + u) / 17 in [0, 1) (1,437 train / 360 test
images)."""

from configs import default

STEPS = 4000  # the benchmark's budget; validation still rose at its end


def get_config():
    return default.on_real_values(default.get_config(), default.RNADE, "digits", STEPS)
