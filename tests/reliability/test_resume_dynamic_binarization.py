"""Dynamic binarization survives a resume: `train_main.py` on a tiny NADE on the digits
binarized afresh each epoch, stopped by SIGTERM and rerun, ends with the uninterrupted
run's weights (rtol 1e-5) and test NLL (rel 1e-5). A loop never crosses an epoch's end
and holds a whole epoch here, so the run stops at the end of an epoch (the first, unless
the signal comes late) and the rerun draws every later epoch in a new process: before
binarization was a function of (seed, epoch, example), a new process restarted at the
first epoch's draw.

  python -m pytest -s tests/reliability/test_resume_dynamic_binarization.py   (~25 s)
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from test_kill_resume import weights

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS, STEPS_PER_EPOCH = 300, 1437 // 32  # digits train split, batch 32
FLAGS = ["--config.model.hidden_units=8", "--config.train.batch_size=32",
         "--config.train.warmup_steps=5", "--config.train.learning_rate=0.01",
         "--config.eval.num_samples=8", "--config.data.binarize=dynamic",
         f"--config.train.steps={STEPS}", "--config.train.steps_per_loop=100",
         "--config.train.checkpoint_every=100", "--config.train.log_every=100",
         "--config.export.enabled=False"]


def start(workdir):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "train_main.py"),
                             f"--workdir={workdir}", *FLAGS], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_sigterm_and_resume_with_dynamic_binarization_ends_like_an_uninterrupted_run(tmp_path):
    whole, stopped = start(tmp_path / "whole"), start(tmp_path / "stopped")
    deadline = time.time() + 120
    while not (tmp_path / "stopped" / "tensorboard").exists():  # training has started
        assert stopped.poll() is None and time.time() < deadline
        time.sleep(0.02)
    stopped.send_signal(signal.SIGTERM)  # it finishes the current loop and saves
    output, _ = stopped.communicate(timeout=120)
    assert stopped.returncode == 143, output[-3000:]
    stopped_at = int(tf.train.latest_checkpoint(str(tmp_path / "stopped" / "checkpoints"))
                     .rsplit("-", 1)[1])
    assert STEPS_PER_EPOCH <= stopped_at < STEPS  # the rerun starts after the first epoch
    rerun = start(tmp_path / "stopped")
    for process in (rerun, whole):
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 0, output[-3000:]
    results = {name: json.load(open(tmp_path / name / "metrics.json"))
               for name in ("whole", "stopped")}
    assert results["stopped"]["restored_from"].endswith(f"ckpt-{stopped_at}")
    a, b = (weights(str(tmp_path / name / "checkpoints" / f"ckpt-{STEPS}"))
            for name in ("whole", "stopped"))
    assert a.keys() == b.keys() and a
    worst = max(float(np.max(np.abs(a[k] - b[k]) / (np.abs(a[k]) + 1e-6))) for k in a)
    nll = {name: result["test_nll_nats"] for name, result in results.items()}
    print(f"stopped at step {stopped_at}, resumed to {STEPS}: test NLL {nll['stopped']:.5f} "
          f"vs {nll['whole']:.5f} uninterrupted; largest relative weight difference {worst:.1e}")
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert nll["stopped"] == pytest.approx(nll["whole"], rel=1e-5)
