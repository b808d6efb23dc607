"""Kill/resume: `train_main.py` in a subprocess, killed at random points (SIGKILL during a
training step, during a checkpoint write, during the export; SIGTERM and SIGINT), rerun
each time in the same workdir until it finishes; the result must be the uninterrupted
run's (final checkpoint weights to rel 1e-5, test NLL to rel 1e-5), and no checkpoint
that was on disk before a kill may be lost or left unreadable.

  python -m pytest -s tests/reliability/test_kill_resume.py            # 3 kills, ~1 min
  python -m pytest -s -m slow tests/reliability/test_kill_resume.py    # 12 kills

Each prints "kills: N tried, N resumed and matched, 0 checkpoints lost".
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS, CHECKPOINT_EVERY = 1500, 100
FLAGS = ["--config.model.hidden_units=8", "--config.train.batch_size=32",
         "--config.train.warmup_steps=5", "--config.train.learning_rate=0.01",
         "--config.eval.num_samples=8", f"--config.train.steps={STEPS}",
         f"--config.train.checkpoint_every={CHECKPOINT_EVERY}",
         "--config.train.steps_per_loop=20", "--config.train.keep_checkpoints=3"]


def start(workdir):
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "train_main.py"),
                             f"--workdir={workdir}", *FLAGS], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def latest_step(workdir):
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return int(path.rsplit("-", 1)[1]) if path else 0


def weights(prefix):
    reader = tf.train.load_checkpoint(prefix)  # fails on a truncated or missing checkpoint
    return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(prefix)
            if "network" in name and name.endswith("VARIABLE_VALUE")}


def readable_checkpoints(workdir):
    """The steps of the checkpoints the state file lists that load completely."""
    directory = os.path.join(workdir, "checkpoints")
    state = tf.train.get_checkpoint_state(directory)
    steps = set()
    for path in (state.all_model_checkpoint_paths if state else []):
        try:
            weights(path)
            steps.add(int(path.rsplit("-", 1)[1]))
        except (tf.errors.OpError, ValueError):
            pass
    return steps


def exports_are_whole(workdir):
    """Every integer-named export version (what TF Serving loads) is complete."""
    export = os.path.join(workdir, "export")
    for name in (os.listdir(export) if os.path.isdir(export) else []):
        if name.isdigit():
            version = os.path.join(export, name)
            if not (os.path.exists(os.path.join(version, "saved_model.pb"))
                    and os.path.exists(os.path.join(version, "variables", "variables.index"))):
                return False
            tf.saved_model.load(version)
    return True


def wait_for(process, condition, timeout=120):
    """Polls `condition()` until it holds (True) or the process ends (False)."""
    deadline = time.time() + timeout
    while process.poll() is None:
        if condition():
            return True
        assert time.time() < deadline, "timed out"
        time.sleep(0.0005)
    return False


def _in_checkpoint_write(workdir):
    directory = os.path.join(workdir, "checkpoints")
    try:
        return any(name.endswith("_temp") for name in os.listdir(directory))
    except FileNotFoundError:
        return False


def _in_export(workdir):
    try:
        return any(name.startswith(".tmp-") for name in os.listdir(os.path.join(workdir,
                                                                                 "export")))
    except FileNotFoundError:
        return False


def kill_once(workdir, kind, rng):
    """Starts a run, interrupts it as `kind` says; returns (what was hit, output, code)."""
    process = start(workdir)
    begun = latest_step(workdir)
    hit = kind
    if kind == "export":
        if not wait_for(process, lambda: _in_export(workdir)):
            hit = "missed (the run ended)"
    elif kind == "checkpoint":
        if not wait_for(process, lambda: _in_checkpoint_write(workdir)):
            hit = "missed (the run ended)"
    else:  # a step, SIGTERM or SIGINT: some time after the first new checkpoint
        if not wait_for(process, lambda: latest_step(workdir) > begun):
            hit = "missed (the run ended)"
        else:
            time.sleep(rng.uniform(0.0, 0.3))
    signum = {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT}.get(kind, signal.SIGKILL)
    if process.poll() is None:
        on_disk = readable_checkpoints(workdir)
        process.send_signal(signum)
    else:
        on_disk = readable_checkpoints(workdir)
    output, _ = process.communicate(timeout=240)
    return hit, on_disk, output, process.returncode


def run_kills(tmp_path, kinds, seed=0):
    rng = random.Random(seed)
    reference = start(tmp_path / "whole")
    whole_output, _ = reference.communicate(timeout=600)
    assert reference.returncode == 0, whole_output[-3000:]
    workdir = tmp_path / "killed"
    tried, lost, report = 0, 0, []
    for kind in kinds:
        hit, on_disk, output, code = kill_once(workdir, kind, rng)
        tried += 1
        after = readable_checkpoints(workdir)
        # Lost: the newest checkpoint on disk before the kill is no longer loadable and
        # nothing newer replaced it (older ones rotate out by keep_checkpoints).
        newest_before, newest_after = max(on_disk | {0}), max(after | {0})
        lost += int(newest_after < newest_before)
        assert latest_step(workdir) == newest_after, "the state file names a broken checkpoint"
        assert exports_are_whole(workdir), f"half-written export after {kind}"
        if kind in ("sigterm", "sigint") and hit == kind:
            expected = 143 if kind == "sigterm" else 130
            assert code == expected, output[-3000:]
            assert "rerun the same command to resume" in output.splitlines()[-1], output[-3000:]
            assert "Traceback" not in output
        report.append(f"{kind}: {hit}, exit {code}, latest ckpt {latest_step(workdir)}")
    final = start(workdir)
    output, _ = final.communicate(timeout=600)
    assert final.returncode == 0, output[-3000:]
    resumed = json.load(open(workdir / "metrics.json"))
    whole = json.load(open(tmp_path / "whole" / "metrics.json"))
    a = weights(str(tmp_path / "whole" / "checkpoints" / f"ckpt-{STEPS}"))
    b = weights(str(workdir / "checkpoints" / f"ckpt-{STEPS}"))
    matched = (resumed["step"] == whole["step"] == STEPS and a.keys() == b.keys()
               and all(np.allclose(a[k], b[k], rtol=1e-5, atol=1e-6) for k in a)
               and resumed["test_nll_nats"] == pytest.approx(whole["test_nll_nats"], rel=1e-5))
    resumed_and_matched = tried if matched else 0
    summary = (f"kills: {tried} tried, {resumed_and_matched} resumed and matched, "
               f"{lost} checkpoints lost")
    print("\n".join(report))
    print(summary)
    return tried, resumed_and_matched, lost


@pytest.mark.slow
def test_a_kill_during_a_checkpoint_resumes_to_the_uninterrupted_result(tmp_path):
    """One kill, mid-checkpoint (the default tier kills a save midway in
    tests/training/test_reruns.py and resumes after a signal in test_user_errors.py)."""
    tried, matched, lost = run_kills(tmp_path, ["checkpoint"])
    assert (tried, matched, lost) == (1, 1, 0)


@pytest.mark.slow
def test_twelve_kills_resume_to_the_uninterrupted_result(tmp_path):
    kinds = ["step", "checkpoint", "sigterm", "step", "checkpoint", "sigint", "step",
             "checkpoint", "step", "checkpoint", "sigterm", "export"]
    tried, matched, lost = run_kills(tmp_path, kinds, seed=1)
    assert (tried, matched, lost) == (12, 12, 0)
