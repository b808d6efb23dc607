"""SIGTERM to one of two MultiWorkerMirrored workers: `train_main.py` in two subprocesses
(a TF_CONFIG cluster on 127.0.0.1), one of them sent SIGTERM. Both workers stop after the
same loop, the chief writes `ckpt-<step>`, both print "Interrupted by SIGTERM at step
<step>" and exit with 143, within a timeout (no worker left waiting in an all-reduce).

- During start-up (before the first loop; `train_main_hooks.py` holds the non-chief
  there): both stop after the first loop. Before the workers agreed on stopping after
  every loop (`tfar.training.interrupts.StopAgreement`), the signalled worker stopped
  alone and the other failed 45 s later in its next all-reduce, with no checkpoint.
- During the agreement itself (`train_main_hooks.py` signals the non-chief right after
  its third one) [slow]: both stop after the next loop, not the signalled one alone.
- During training, to the non-chief and to the chief (worker 0, which also hosts
  TensorFlow's coordination service) [slow]: rerun, both workers resume from the
  checkpoint and end with the final weights, optimizer state and test NLL of an
  uninterrupted two-worker run of the same config, bit for bit.

  python -m pytest -s tests/training/test_multi_worker_preemption.py           (15-30 s)
  python -m pytest -s -m slow tests/training/test_multi_worker_preemption.py   (2-3 min)
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

from test_train_main import HERE, ROOT, TINY, _free_ports, train_main

# One worker builds the module's fixture (pyproject: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("preemption")

STEPS = 300
FLAGS = ["--strategy=multi_worker_mirrored", f"--config.train.steps={STEPS}",
         "--config.train.steps_per_loop=10", "--config.train.checkpoint_every=50",
         "--config.train.log_every=50", "--config.export.enabled=False"]
TIMEOUT = 300  # seconds for a cluster to finish: more means a worker hangs


def start_workers(workdir, hooks=None):
    """Two workers of one cluster training in `workdir`; worker 0 is the chief. `hooks`:
    {worker index: environment of `train_main_hooks.py`, which then runs that worker}."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    for i in range(2):
        env = {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                     "index": i}})}
        if i not in (hooks or {}):
            workers.append(train_main(workdir, *FLAGS, env=env))
        else:
            workers.append(subprocess.Popen(
                [sys.executable, os.path.join(HERE, "train_main_hooks.py"),
                 f"--workdir={workdir}", *TINY, *FLAGS], cwd=ROOT, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, env={**os.environ, **env, **hooks[i]}))
    return workers


def finish_all(workers):
    """Each worker's (exit status, output); kills them all if one does not end in time."""
    deadline, results = time.time() + TIMEOUT, []
    try:
        for worker in workers:
            output, _ = worker.communicate(timeout=max(deadline - time.time(), 1))
            results.append((worker.returncode, output))
    except subprocess.TimeoutExpired:
        for worker in workers:
            worker.kill()
        outputs = [worker.communicate()[0] for worker in workers]
        pytest.fail("a worker hung; the last output of each:\n" + "\n=====\n".join(
            output[-2000:] for output in outputs))
    return results


def wait_until(workers, condition, began):
    while not condition():
        assert all(w.poll() is None for w in workers), "a worker ended too early"
        assert time.time() < began + TIMEOUT, "timed out"
        time.sleep(0.02)


def latest_step(workdir):
    path = tf.train.latest_checkpoint(str(workdir / "checkpoints"))
    return int(path.rsplit("-", 1)[1]) if path else 0


def weights(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(prefix)
            if name.endswith("VARIABLE_VALUE") and name.split("/")[0] in ("network", "optimizer")}


def check_stopped_together(results, workdir):
    """Both workers exited with 143 and name the same step, whose checkpoint the chief
    wrote and is the latest; returns (step, checkpoint prefix)."""
    steps, both = [], "\n=====\n".join(output[-3000:] for _, output in results)
    for code, output in results:
        assert code == 143, both  # 128 + SIGTERM, on the other worker too
        assert "Traceback" not in output, both
        lines = [line for line in output.splitlines()
                 if line.startswith("Interrupted by SIGTERM at step ")]
        assert len(lines) == 1, both
        steps.append(int(lines[0].split(" at step ")[1].split(";")[0]))
    step = steps[0]
    checkpoint = str(workdir / "checkpoints" / f"ckpt-{step}")
    assert steps == [step, step] and 0 < step < STEPS
    assert f"checkpoint saved to {checkpoint};" in results[0][1]  # the chief's line
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")) == checkpoint
    assert not (workdir / "metrics.json").exists()
    assert [name for name in os.listdir(workdir / "checkpoints")
            if name.startswith("scratch")] == []  # the non-chief's scratch copy is gone
    return step, checkpoint


def test_sigterm_to_one_worker_during_start_up_stops_both_after_the_first_loop(tmp_path):
    began = time.time()
    marker = tmp_path / "paused"
    workers = start_workers(tmp_path / "run", hooks={
        1: {"PAUSE_SECONDS": "3", "PAUSE_MARKER": str(marker)}})
    wait_until(workers, marker.exists, began)  # the non-chief is about to train
    workers[1].send_signal(signal.SIGTERM)
    step, _ = check_stopped_together(finish_all(workers), tmp_path / "run")
    assert step == 10  # the first loop: --config.train.steps_per_loop
    print(f"SIGTERM to worker 1 during start-up: both stopped at step {step}; "
          f"{time.time() - began:.0f} s")


@pytest.mark.slow  # one cluster of two TensorFlow processes: 10-30 s on 2 shared cores
def test_sigterm_during_the_agreement_stops_both_after_the_next_loop(tmp_path):
    # The non-chief's signal comes while the workers agree, after the third loop, that
    # none was signalled: it is the next agreement's. Before, the non-chief stopped at
    # once, alone, on its own flag, and the chief waited in the next loop's all-reduce.
    began = time.time()
    workers = start_workers(tmp_path, hooks={1: {"SIGTERM_AFTER_AGREEMENT": "3"}})
    step, _ = check_stopped_together(finish_all(workers), tmp_path)
    assert step == 40
    print(f"SIGTERM to worker 1 during the third agreement: both stopped at step {step}; "
          f"{time.time() - began:.0f} s")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """An uninterrupted two-worker run, started once for the tests below; a function
    that waits for it and returns its workdir."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    workers = start_workers(workdir)
    done = []

    def finished():
        if not done:
            for code, output in finish_all(workers):
                assert code == 0, output[-3000:]
            done.append(workdir)
        return done[0]

    yield finished
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()


@pytest.mark.slow  # a cluster of two TensorFlow processes interrupted and rerun beside an
# uninterrupted one: 1-3 min on 2 shared cores
@pytest.mark.parametrize("victim", [1, 0], ids=["non-chief", "chief"])
def test_sigterm_to_one_worker_stops_both_at_one_checkpoint_and_they_resume_exactly(
        tmp_path, uninterrupted, victim):
    began = time.time()
    workers = start_workers(tmp_path)
    wait_until(workers, lambda: latest_step(tmp_path) > 0, began)  # training is under way
    workers[victim].send_signal(signal.SIGTERM)
    step, checkpoint = check_stopped_together(finish_all(workers), tmp_path)

    rerun = finish_all(start_workers(tmp_path))
    for code, output in rerun:
        assert code == 0, output[-3000:]
        assert f"Resumed from checkpoint {checkpoint} at step {step}." in output
    whole = uninterrupted()
    a, b = (weights(str(workdir / "checkpoints" / f"ckpt-{STEPS}"))
            for workdir in (whole, tmp_path))
    assert a.keys() == b.keys() and any(k.startswith("network") for k in a)
    different = [k for k in a if not np.array_equal(a[k], b[k])]
    nll = [json.load(open(workdir / "metrics.json"))["test_nll_nats"]
           for workdir in (tmp_path, whole)]
    print(f"SIGTERM to worker {victim}: both stopped at step {step}, resumed to {STEPS}; "
          f"{len(a) - len(different)} of {len(a)} saved arrays equal to the uninterrupted "
          f"run's, test NLL {nll[0]!r} vs {nll[1]!r}; {time.time() - began:.0f} s")
    assert different == []  # bit for bit (the single-worker tests allow rtol 1e-5)
    assert nll[0] == nll[1]
