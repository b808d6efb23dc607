"""The trainer's own step counter (skipped steps under mixed_float16, exact resume), the
finite check before every checkpoint, and workdirs on a non-local file system."""

import os

import numpy as np
import pytest
import tensorflow as tf

import tfar
from tfar.training import train_and_evaluate
from tiny import tiny_config

NADE_TRAINING_TERMS = tfar.NADE.training_terms


@tf.custom_gradient
def _gradient_times(loss, factor):
    """loss, whose gradient is multiplied by `factor` (inf or NaN forces a bad step)."""
    def grad(upstream):
        return upstream * factor, tf.zeros_like(factor)
    return tf.identity(loss), grad


def _force_gradient(monkeypatch, at_step, factor, seen):
    """NADE's training objective with a gradient × `factor` at trainer step `at_step`,
    recording each step's (step, seed) in `seen` as the trainer passes them."""
    def training_terms(self, x, conditional_input=None, seed=None, step=None):
        terms = dict(NADE_TRAINING_TERMS(self, x, conditional_input, seed, step))
        tf.py_function(lambda s, sd: seen.append((int(s), tuple(int(v) for v in sd.numpy()))),
                       [step, seed], [])
        bad = tf.equal(tf.cast(step, tf.int64), at_step)
        terms["loss"] = _gradient_times(terms["loss"], tf.where(bad, factor, 1.0))
        return terms

    monkeypatch.setattr(tfar.NADE, "training_terms", training_terms)


def _config(**train):
    config = tiny_config(schedule="constant", steps_per_loop=4, log_every=4,
                         checkpoint_every=4, **train)
    config.model.order_agnostic = True   # a seeded objective: one random order per example
    config.export.enabled = False
    return config


def _weights(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(prefix)
            if name.startswith("network/")}


def test_a_skipped_step_and_a_resume_give_the_uninterrupted_run(tmp_path, monkeypatch):
    """Under mixed_float16 a forced non-finite gradient at step 5 makes the
    LossScaleOptimizer skip that update. The trainer still counts the step: step s gets
    seed (seed, s), ckpt-8 is step 8, and a run stopped at step 8 and resumed ends with
    the weights, seeds and skip count of the uninterrupted run."""
    whole, parts = [], []
    _force_gradient(monkeypatch, 5, np.inf, whole)
    uninterrupted = train_and_evaluate(_config(steps=12, mixed_precision="mixed_float16"),
                                       str(tmp_path / "whole"))
    _force_gradient(monkeypatch, 5, np.inf, parts)
    workdir = str(tmp_path / "resumed")
    first = train_and_evaluate(_config(steps=8, mixed_precision="mixed_float16"), workdir)
    resumed = train_and_evaluate(_config(steps=12, mixed_precision="mixed_float16"), workdir)

    assert whole == [(s, (0, s)) for s in range(12)]          # every step once, its own seed
    assert parts == whole
    assert uninterrupted["skipped_steps"] >= 1 and resumed["skipped_steps"] == (
        uninterrupted["skipped_steps"])
    assert first["step"] == 8 and resumed["step"] == 12
    assert resumed["restored_from"].endswith("ckpt-8")
    checkpoint = os.path.join(workdir, "checkpoints", "ckpt-8")
    reader = tf.train.load_checkpoint(checkpoint)
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 8
    skipped = int(reader.get_tensor("skipped_steps/.ATTRIBUTES/VARIABLE_VALUE"))
    assert skipped == first["skipped_steps"] >= 1
    # The LossScaleOptimizer's inner optimizer counts the applied updates only.
    iterations = reader.get_tensor("optimizer/inner_optimizer/_iterations/.ATTRIBUTES/"
                                   "VARIABLE_VALUE")
    assert int(iterations) == 8 - skipped
    a = _weights(os.path.join(str(tmp_path / "whole"), "checkpoints", "ckpt-12"))
    b = _weights(os.path.join(workdir, "checkpoints", "ckpt-12"))
    assert a.keys() == b.keys() and a
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert resumed["test_nll_nats"] == uninterrupted["test_nll_nats"]


def test_nan_weights_at_the_end_of_a_loop_never_become_a_checkpoint(tmp_path, monkeypatch):
    """A NaN gradient at step 3, the last step of a loop, poisons the weights after the
    last loss the loop checks; the save of ckpt-4 refuses them and ckpt-0 … none exist."""
    seen = []
    _force_gradient(monkeypatch, 3, np.nan, seen)
    workdir = str(tmp_path)
    with pytest.raises(FloatingPointError, match="not finite at step 4; stopped without saving"):
        train_and_evaluate(_config(steps=12), workdir)
    directory = os.path.join(workdir, "checkpoints")
    assert not tf.io.gfile.exists(directory) or not tf.io.gfile.glob(
        os.path.join(directory, "ckpt-*"))
    assert not os.path.exists(os.path.join(workdir, "metrics.json"))


def test_a_non_local_workdir_holds_every_output(tmp_path, monkeypatch):
    """A run in ram:// (a non-local file system TensorFlow ships) writes its config,
    checkpoints, TensorBoard events, PNGs, metrics and a loadable export there, and
    nothing on the local disk."""
    monkeypatch.chdir(tmp_path)
    workdir = "ram://tfar-tests/run"
    config = tiny_config(steps=20, checkpoint_every=10)
    metrics = train_and_evaluate(config, workdir)
    listing = {name.rstrip("/") for name in tf.io.gfile.listdir(workdir)}
    assert {"config.json", "metrics.json", "samples.png", "checkpoints", "tensorboard",
            "export"} <= listing
    assert tf.io.gfile.glob(workdir + "/checkpoints/ckpt-20.index")
    assert tf.io.gfile.glob(workdir + "/tensorboard/events.out.tfevents*")
    assert metrics["export"] == workdir + "/export/20"
    assert tf.io.gfile.exists(metrics["export"] + "/saved_model.pb")
    loaded = tf.saved_model.load(metrics["export"])
    x = np.zeros((2, 8, 8, 1), np.float32)
    assert loaded.signatures["log_prob"](images=tf.constant(x))["log_prob"].shape == (2,)
    assert os.listdir(tmp_path) == []              # no local "ram:" folder
    # Rerunning the finished run restores from ram:// and does not export again.
    again = train_and_evaluate(config, workdir)
    assert again["restored_from"].endswith("ckpt-20")
    assert again["test_nll_nats"] == pytest.approx(metrics["test_nll_nats"], rel=1e-6)
