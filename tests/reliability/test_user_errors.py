"""User errors of `train_main.py` (bad config field, missing config file, unknown strategy,
data source or model, unwritable or full workdir, stray arguments) give one line on
stderr, no traceback, a non-zero exit and create nothing; SIGINT/SIGTERM save a
checkpoint, print one line, exit 130/143, and a rerun resumes from that checkpoint."""

import os
import resource
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--config.model.hidden_units=8", "--config.train.batch_size=32",
        "--config.train.warmup_steps=5", "--config.train.learning_rate=0.01",
        "--config.eval.num_samples=8"]


# As a user runs it: conftest.py sets TF_CPP_MIN_LOG_LEVEL for the tests themselves.
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def command(*flags):
    return [sys.executable, os.path.join(ROOT, "train_main.py"), *flags]


def run(*flags, **kwargs):
    return subprocess.run(command(*flags), cwd=ROOT, capture_output=True, text=True,
                          timeout=240, env=ENV, **kwargs)


def assert_one_line_error(result, *words):
    assert result.returncode != 0, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("train_main.py: error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("flags, words", [
    (["--config.train.stepz=5"], ["stepz", "steps", "--print_config"]),
    (["--config=configs/no_such_config.py"], ["no such file", "no_such_config.py"]),
    (["--strategy=mirorred"], ["mirorred", "multi_worker_mirrored"]),
    (["--config.data.source=nosuch"], ["nosuch", "digits"]),
    (["--config.model.name=nosuch"], ["nosuch", "nade"]),
    (["--config.train.steps=abc"], ["abc"]),
    (["stray_argument"], ["stray_argument"]),
])
def test_bad_input_gives_one_line_and_creates_nothing(tmp_path, flags, words):
    workdir = tmp_path / "run"
    flags = [f for f in flags if f.startswith("--config=")] + [
        f for f in flags if not f.startswith("--config=")]  # --config before overrides
    result = run(*flags[:1], f"--workdir={workdir}", *TINY, *flags[1:])
    assert_one_line_error(result, *words)
    assert not workdir.exists()


def test_verbosity_1_shows_the_traceback(tmp_path):
    result = run(f"--workdir={tmp_path / 'run'}", "--config.model.name=nosuch", "--verbosity=1")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_unwritable_workdir(tmp_path):
    parent = tmp_path / "readonly"
    parent.mkdir()
    (parent / "file").write_text("x")
    result = run(f"--workdir={parent / 'file' / 'run'}", *TINY)  # under a file: unwritable
    assert_one_line_error(result, "not writable")
    assert sorted(os.listdir(parent)) == ["file"]


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # < a checkpoint


def test_full_disk_while_writing(tmp_path):
    """A file-size limit stands in for a full disk: the first big write fails."""
    result = run(f"--workdir={tmp_path / 'run'}", *TINY, "--config.train.steps=20",
                 preexec_fn=_limit_file_size)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("I1")]
    assert len(errors) == 1 and errors[0].startswith("train_main.py: error: "), result.stderr
    assert "File too large" in errors[0] and "function_node" not in errors[0]
    assert tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints")) is None


def test_help_names_nade_and_print_config_lists_fields():
    result = run("--help")
    assert result.returncode == 0
    assert "NADE" in result.stdout and "--print_config" in result.stdout
    assert "MADE on the embedded digits" not in result.stdout
    result = run("--print_config", "--config.train.steps=7")
    assert result.returncode == 0, result.stderr
    assert "steps: 7" in result.stdout and "name: nade" in result.stdout
    assert result.stderr.strip() == ""


def test_quiet_by_default(tmp_path):
    result = run(f"--workdir={tmp_path}", *TINY, "--config.train.steps=20",
                 "--config.train.checkpoint_every=10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("step 20: test NLL")
    for noise in ("cuInit", "oneDNN", "Sharding callback", "unsupported characters",
                  "Assets written", "fingerprint"):
        assert noise not in result.stderr, result.stderr


@pytest.mark.parametrize("signum, code", [
    (signal.SIGINT, 130), pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)])
def test_signal_saves_a_checkpoint_and_rerun_resumes(tmp_path, signum, code):
    flags = [f"--workdir={tmp_path}", *TINY, "--config.train.steps=100000",
             "--config.train.checkpoint_every=100000", "--config.train.steps_per_loop=20",
             "--config.train.log_every=100000", "--config.export.enabled=False"]
    process = subprocess.Popen(command(*flags), cwd=ROOT, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=ENV)
    deadline = time.time() + 120
    while not (tmp_path / "tensorboard").exists():  # written when training starts
        assert process.poll() is None and time.time() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    name = signal.Signals(signum).name
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"Interrupted by {name} at step ") and "rerun the same command" in last
    step = int(last.split(" at step ")[1].split(";")[0])
    checkpoint = str(tmp_path / "checkpoints" / f"ckpt-{step}")
    assert f"checkpoint saved to {checkpoint};" in last
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")) == checkpoint
    assert step > 0  # at the end of a loop (<= steps_per_loop steps, epoch-aligned)

    rerun = run(*flags[:2], *TINY, f"--config.train.steps={step + 20}",
                "--config.train.checkpoint_every=100000", "--config.train.steps_per_loop=20",
                "--config.export.enabled=False")
    assert rerun.returncode == 0, rerun.stderr
    assert f"Resumed from checkpoint {checkpoint} at step {step}." in rerun.stderr
    assert f"step {step + 20}: test NLL" in rerun.stdout
