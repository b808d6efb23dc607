"""`python -m tfar.export` as users run it, in fresh processes, on one tiny `train_main.py`
run with an EMA (40 steps, checkpoints at 20 and 40): a finished run's export again, an
interrupted run's latest checkpoint, an older checkpoint, the raw weights, and the
errors (one line, exit status 1, nothing written)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

# One worker builds the module's fixture (pyproject: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("export_command")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As a user runs it: conftest.py sets TF_CPP_MIN_LOG_LEVEL for the tests themselves.
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
TINY = ["--config.model.hidden_units=8", "--config.train.batch_size=32",
        "--config.train.warmup_steps=5", "--config.train.learning_rate=0.01",
        "--config.eval.num_samples=8", "--config.train.steps=40",
        "--config.train.checkpoint_every=20", "--config.train.steps_per_loop=10",
        "--config.train.ema_decay=0.9"]
IMAGES = np.random.default_rng(0).integers(0, 17, (16, 8, 8, 1)).astype(np.float32)


def run(command, *flags):
    return subprocess.run([sys.executable, *command, *flags], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=ENV)


def export(*flags):
    return run(["-m", "tfar.export"], *flags)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run: checkpoints/ckpt-{20,40}, export/40 (the EMA weights)."""
    workdir = tmp_path_factory.mktemp("run")
    result = run([os.path.join(ROOT, "train_main.py")], f"--workdir={workdir}", *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def log_prob(version_dir):
    signature = tf.saved_model.load(str(version_dir)).signatures["log_prob"]
    return signature(images=tf.constant(IMAGES))["log_prob"].numpy()


def interrupted_copy(trained, target):
    """The run as a kill before its export leaves it: checkpoints, no export, no metrics."""
    shutil.copytree(trained, target, ignore=shutil.ignore_patterns("export", "metrics.json"))
    return target


def test_a_finished_run_exports_what_the_run_exported(trained, tmp_path):
    result = export(f"--workdir={trained}", f"--export_dir={tmp_path / 'models'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Exported {tmp_path / 'models' / '40'}"
    assert result.stderr.strip() == ""
    np.testing.assert_allclose(log_prob(tmp_path / "models" / "40"),
                               log_prob(trained / "export" / "40"), rtol=0, atol=1e-6)


def test_an_interrupted_run_exports_its_latest_checkpoint(trained, tmp_path):
    workdir = interrupted_copy(trained, tmp_path / "run")
    result = export(f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr
    assert os.listdir(workdir / "export") == ["40"]
    np.testing.assert_allclose(log_prob(workdir / "export" / "40"),
                               log_prob(trained / "export" / "40"), rtol=0, atol=1e-6)


@pytest.mark.slow
def test_an_older_checkpoint_and_the_raw_weights(trained, tmp_path):
    models = tmp_path / "models"
    older = export(f"--workdir={trained}", "--checkpoint=20", f"--export_dir={models}")
    raw = export(f"--workdir={trained}", "--noema", f"--export_dir={models}", "--version=7")
    assert older.returncode == 0 and raw.returncode == 0, older.stderr + raw.stderr
    assert sorted(os.listdir(models)) == ["20", "7"]
    latest = log_prob(trained / "export" / "40")
    for version in ("20", "7"):
        assert np.abs(log_prob(models / version) - latest).max() > 1e-3, version


def _files(*roots):
    """Every path below `roots` with its size and modification time."""
    return {(path, os.path.getsize(path), os.path.getmtime(path))
            for root in roots for path, _, _ in os.walk(root)}


@pytest.mark.parametrize("case, words", [
    ("no workdir", ["nosuch", "no such directory"]),
    pytest.param("no config", ["config.json"], marks=pytest.mark.slow),
    ("no checkpoint", ["ckpt-7", "ckpt-20, ckpt-40"]),
    pytest.param("existing version", ["export/40", "exists already"], marks=pytest.mark.slow),
    pytest.param("ema without one", ["ema_decay", "--ema"], marks=pytest.mark.slow),
])
def test_an_error_prints_one_line_and_writes_nothing(trained, tmp_path, case, words):
    flags = {"no workdir": [f"--workdir={tmp_path / 'nosuch'}"],
             "no config": [f"--workdir={tmp_path}"],
             "no checkpoint": [f"--workdir={trained}", "--checkpoint=7"],
             "existing version": [f"--workdir={trained}"],
             "ema without one": [f"--workdir={tmp_path / 'run'}", "--ema"]}[case]
    if case == "ema without one":  # a run trained without an EMA
        config_path = interrupted_copy(trained, tmp_path / "run") / "config.json"
        config = json.loads(config_path.read_text())
        config["train"]["ema_decay"] = 0.0
        config_path.write_text(json.dumps(config))
    before = _files(trained, tmp_path)
    result = export(*flags)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfar.export: error: "), result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert _files(trained, tmp_path) == before


@pytest.mark.slow
def test_jit_compile_writes_compiled_sampling_with_the_same_samples(trained, tmp_path):
    result = export(f"--workdir={trained}", f"--export_dir={tmp_path / 'models'}",
                    "--jit_compile")
    assert result.returncode == 0, result.stderr
    seed = tf.constant([3, -4])

    def samples(version_dir):
        sample = tf.saved_model.load(str(version_dir)).signatures["sample"]
        return sample(num_samples=tf.constant(6), seed=seed)["samples"].numpy()

    np.testing.assert_array_equal(samples(tmp_path / "models" / "40"),
                                  samples(trained / "export" / "40"))
