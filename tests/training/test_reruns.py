"""A rerun in a workdir that holds a run (issue 20): a changed config says which fields
changed, refuses the changes that cannot resume, and keeps every config it ran with; what
a save killed midway left is removed."""

import json
import os

import pytest

from tfar.training import run_configs
from tfar.training.trainer import train_and_evaluate
from tiny import tiny_config


def read(path):
    with open(path) as f:
        return json.load(f)


def test_a_changed_config_is_named_refused_or_kept(tmp_path, caplog):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_config(steps=20), workdir)
    before = sorted(os.listdir(workdir))

    # A model field cannot resume: one line naming it, nothing written.
    config = tiny_config(steps=40)
    config.model.hidden_units = 9
    with pytest.raises(ValueError, match=r"differs in model.hidden_units: 8 -> 9\. These "
                                         r"cannot resume"):
        train_and_evaluate(config, workdir)
    assert sorted(os.listdir(workdir)) == before
    assert read(os.path.join(workdir, "config.json"))["train"]["steps"] == 20

    # More steps resume: the change is logged, the earlier config kept.
    with caplog.at_level("WARNING"):
        metrics = train_and_evaluate(tiny_config(steps=40), workdir)
    assert metrics["restored_from"].endswith("ckpt-20") and metrics["step"] == 40
    assert "changed config: train.steps: 20 -> 40" in caplog.text
    assert read(os.path.join(workdir, "config.20.json"))["train"]["steps"] == 20
    assert read(os.path.join(workdir, "config.json"))["train"]["steps"] == 40


def test_changes_and_what_may_resume():
    saved = {"model": {"name": "nade", "shape": [2, 2]}, "data": {"test_split": "test"},
             "train": {"steps": 5}}
    new = {"model": {"name": "nade", "shape": (2, 2)}, "data": {"test_split": "test[:9]"},
           "train": {"steps": 7, "seed": 1}}
    assert run_configs.changes(saved, new) == [
        ("data.test_split", "test", "test[:9]"), ("train.seed", None, 1),
        ("train.steps", 5, 7)]
    assert all(run_configs.resumable(f) for f, _, _ in run_configs.changes(saved, new))
    assert not run_configs.resumable("model.name")
    assert not run_configs.resumable("data.binarize")


def test_a_save_killed_midway_leaves_nothing_after_the_next_run(tmp_path):
    """A kill during a checkpoint write leaves `ckpt-<n>_temp/` (TensorFlow's shards
    before they are moved); the next run removes it and resumes from the last checkpoint."""
    workdir = tmp_path / "run"
    train_and_evaluate(tiny_config(steps=20), str(workdir))
    stale = workdir / "checkpoints" / "ckpt-40_temp"
    stale.mkdir()
    (stale / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"half")
    metrics = train_and_evaluate(tiny_config(steps=40), str(workdir))
    assert metrics["restored_from"].endswith("ckpt-20")
    assert not [p for p in os.listdir(workdir / "checkpoints") if "_temp" in p]
