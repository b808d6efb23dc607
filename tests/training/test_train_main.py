"""train_main.py as users run it, in subprocesses: the main job, resume after SIGKILL,
MirroredStrategy == default strategy, two MultiWorkerMirrored workers, bad flags."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
# Flags that shrink configs/default.py to seconds (as tiny.tiny_config does).
TINY = ["--config.model.hidden_units=8", "--config.train.batch_size=32",
        "--config.train.warmup_steps=5", "--config.train.learning_rate=0.01",
        "--config.eval.num_samples=8"]


def train_main(workdir, *flags, env=None, **kwargs):
    command = [sys.executable, os.path.join(ROOT, "train_main.py"), f"--workdir={workdir}",
               *TINY, *flags]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, **(env or {})}, **kwargs)


def finish(process, timeout=240):
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


@pytest.mark.slow  # two runs of train_main.py and a SIGKILL: about 30 s (the default suite
# kills and resumes in tests/reliability/test_kill_resume.py)
def test_sigkill_then_rerun_resumes_and_ends_like_an_uninterrupted_run(tmp_path):
    flags = ["--config.train.steps=1500", "--config.train.checkpoint_every=100",
             "--config.train.steps_per_loop=20", "--config.export.enabled=False"]
    whole = train_main(tmp_path / "whole", *flags)
    killed = train_main(tmp_path / "killed", *flags)
    checkpoints = str(tmp_path / "killed" / "checkpoints")
    deadline = time.time() + 180
    while tf.train.latest_checkpoint(checkpoints) is None and killed.poll() is None:
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "killed" / "metrics.json").exists()
    killed_at = int(tf.train.latest_checkpoint(checkpoints).rsplit("-", 1)[1])
    assert 0 < killed_at < 1500

    code, output = finish(train_main(tmp_path / "killed", *flags))
    assert code == 0, output[-3000:]
    assert f"Resumed from checkpoint {checkpoints}/ckpt-{killed_at} at step {killed_at}." in output
    code, whole_output = finish(whole)
    assert code == 0, whole_output[-3000:]
    resumed = json.load(open(tmp_path / "killed" / "metrics.json"))
    uninterrupted = json.load(open(tmp_path / "whole" / "metrics.json"))
    assert resumed["step"] == uninterrupted["step"] == 1500
    # The batch stream and the optimizer state are functions of the step, so the resumed
    # run ends with the uninterrupted run's weights (up to float reassociation).
    assert resumed["test_nll_nats"] == pytest.approx(uninterrupted["test_nll_nats"], rel=1e-4)


def test_main_job_writes_every_output(tmp_path):
    code, output = finish(train_main(tmp_path, "--config.train.steps=30",
                                     "--config.train.checkpoint_every=10"))
    assert code == 0, output[-3000:]
    assert "step 30: test NLL" in output
    names = set(os.listdir(tmp_path))
    assert {"metrics.json", "samples.png", "config.json", "checkpoints", "tensorboard",
            "export"} <= names
    assert os.listdir(tmp_path / "export") == ["30"]
    metrics = json.load(open(tmp_path / "metrics.json"))
    assert metrics["step"] == 30 and metrics["config"]["train"]["steps"] == 30


def test_unknown_config_key_and_bad_strategy_fail_clearly(tmp_path):
    code, output = finish(train_main(tmp_path, "--config.model.hiden_units=3"))
    assert code != 0 and "hiden_units" in output
    code, output = finish(train_main(tmp_path, "--strategy=mirorred"))
    assert code != 0 and "mirorred" in output and "multi_worker_mirrored" in output


def test_mirrored_over_two_cpus_matches_the_default_strategy(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(HERE, "strategies.py"), str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [l for l in result.stdout.splitlines() if l.startswith("RESULTS ")][0]
    results = json.loads(line[len("RESULTS "):])
    mirrored, default = results["mirrored"], results["default"]
    assert mirrored["num_replicas"] == 2 and default["num_replicas"] == 1
    assert mirrored["step"] == default["step"] == 40
    assert mirrored["train_loss"] == pytest.approx(default["train_loss"], rel=1e-3)
    assert mirrored["test_nll"] == pytest.approx(default["test_nll"], rel=1e-3)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow  # the default tier runs two workers in test_multi_worker_preemption.py
def test_two_multi_worker_mirrored_workers(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    workers = [train_main(tmp_path, "--strategy=multi_worker_mirrored",
                          "--config.train.steps=20", "--config.train.checkpoint_every=10",
                          env={"TF_CONFIG": json.dumps({"cluster": cluster,
                                                        "task": {"type": "worker", "index": i}})})
               for i in range(2)]
    outputs = [finish(w) for w in workers]
    for code, output in outputs:
        assert code == 0, output[-3000:]
        assert "2 replica(s)" in output
    metrics = json.load(open(tmp_path / "metrics.json"))
    assert metrics["step"] == 20 and metrics["num_replicas"] == 2
    assert sorted(os.listdir(tmp_path / "checkpoints")) == [
        "checkpoint", "ckpt-10.data-00000-of-00001", "ckpt-10.index",
        "ckpt-20.data-00000-of-00001", "ckpt-20.index"]  # the worker's scratch copies are gone
