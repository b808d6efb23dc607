"""Data errors of `train_main.py` fail before training: a test split the source lacks,
labels outside [0, num_classes) and class conditioning on a split without labels each
give one line on stderr, no traceback, exit 1 and no workdir, in seconds (they used to
surface after training, or never).

  python -m pytest -s tests/reliability/test_data_errors.py
"""

import time

import numpy as np
import pytest

from test_user_errors import TINY, assert_one_line_error, run


@pytest.mark.parametrize("flags, words", [
    (["--config.data.test_split=validation"], ["digits has splits", "'validation'"]),
    (["--config.model.conditioning=class", "--config.data.num_classes=5"],
     ["digits train has labels 0…9", "outside [0, 5)"]),
    (["--config.model.conditioning=class", "--config.data.source=npz:{npz}"],
     ["has no class labels"]),
])
def test_data_error_gives_one_line_before_training(tmp_path, flags, words):
    npz = tmp_path / "unlabelled.npz"
    images = np.random.default_rng(0).integers(0, 256, (40, 4, 4), np.uint8)
    np.savez(npz, x_train=images, x_test=images[:8])
    workdir = tmp_path / "run"
    began = time.time()
    result = run(f"--workdir={workdir}", *TINY, *(f.format(npz=npz) for f in flags))
    seconds = time.time() - began
    assert_one_line_error(result, *words)
    assert not workdir.exists()
    print(f"{' '.join(flags[-1:])}: exit {result.returncode} after {seconds:.1f} s: "
          f"{result.stderr.strip()}")
    assert seconds < 60
