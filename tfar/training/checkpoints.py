"""Checkpoints of a run: network, optimizer (step, moments, EMA) in `workdir/checkpoints`.

A thin layer over `tf.train.CheckpointManager` that restores the latest (or a chosen)
checkpoint with an error that names the file and lists the older ones when it cannot be
read, and that lets non-chief workers of a multi-worker run take part in saving (every
worker must call save) without writing into the chief's directory.
"""

import os

import tensorflow as tf


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be restored."""


class Checkpoints:
    """Saves every `save` call, keeps the last `max_to_keep`, restores on start.

    Args:
      directory: where the chief keeps checkpoints (`ckpt-<step>.index`, `.data-*`).
      checkpoint: the `tf.train.Checkpoint` of the run's objects.
      max_to_keep: how many to keep.
      chief: False on non-chief workers: they save to a scratch directory removed after
        each save.
      task: the task name of a non-chief worker (names the scratch directory).
      check_finite: () -> bool, whether every variable to be saved is finite; `save`
        refuses to write a checkpoint when it is False, so a NaN never becomes the
        "last good" checkpoint.
    """

    def __init__(self, directory, checkpoint, max_to_keep=3, chief=True, task="",
                 check_finite=None):
        self.directory = directory
        self.chief = chief
        self.checkpoint = checkpoint
        self._check_finite = check_finite
        target = directory if chief else os.path.join(directory, f"scratch_{task or 'worker'}")
        if chief:
            self.remove_unfinished()
        self.manager = tf.train.CheckpointManager(checkpoint, target, max_to_keep=max_to_keep)

    def remove_unfinished(self):
        """Removes what a save killed midway left: TensorFlow writes a checkpoint's shards
        into `<prefix>_temp*` and moves them to `<prefix>.data-*` at the end, so a
        `_temp` entry belongs to no checkpoint. Returns the paths removed."""
        stale = tf.io.gfile.glob(os.path.join(self.directory, "*_temp*"))
        for path in stale:
            if tf.io.gfile.isdir(path):
                tf.io.gfile.rmtree(path)
            else:
                tf.io.gfile.remove(path)
        return stale

    @property
    def latest(self):
        return self.manager.latest_checkpoint

    def restore(self, restore_from=None):
        """Restores `restore_from` (a checkpoint prefix) or else the latest checkpoint.

        Returns:
          The prefix restored, or None when there is nothing to restore.

        Raises:
          CheckpointError: the checkpoint is missing, truncated, corrupt or does not
            match the objects of this run (e.g. a different model config).
        """
        path = restore_from or tf.train.latest_checkpoint(self.directory)
        if not path:
            return None
        return restore(self.checkpoint, path, self.directory)

    def holds(self, path, name):
        """Whether checkpoint `path` holds the variable the checkpoint saves as `name`
        (a top-level attribute of the `tf.train.Checkpoint`)."""
        # The reader itself: `tf.train.list_variables` first asks whether `path` is a
        # directory, which some file systems (ram://) answer yes for any prefix.
        reader = tf.compat.v1.train.NewCheckpointReader(path)
        return any(key.split("/")[0] == name for key in reader.get_variable_to_shape_map())

    def save(self, step):
        """Writes checkpoint `ckpt-<step>`; returns its prefix (the chief's) or None.

        Raises:
          FloatingPointError: a variable to save is NaN or infinite (nothing written).
        """
        if self._check_finite is not None and not self._check_finite():
            raise FloatingPointError(
                f"The weights or optimizer state are not finite at step {step}; stopped "
                "without saving. " + (f"The last good checkpoint is {self.latest}"
                                      if self.latest else "No checkpoint was written yet") +
                ". Lower config.train.learning_rate or set config.train.grad_clip_norm and "
                "rerun (it resumes from the last checkpoint), or pass "
                "--restore_from=<an older one>.")
        path = self.manager.save(checkpoint_number=int(step))
        if not self.chief:
            _remove_tree(self.manager.directory)
            return None
        return path


def restore(checkpoint, path, directory, flag="--restore_from"):
    """Restores checkpoint prefix `path` (one of `directory`'s) into `checkpoint`, a
    `tf.train.Checkpoint`, and returns `path`; an error's hint names `flag`, the command's
    flag that picks another checkpoint.

    Raises:
      CheckpointError: the checkpoint is missing, truncated, corrupt or does not match
        the objects of `checkpoint` (e.g. a different model config).
    """
    if not tf.io.gfile.exists(path + ".index"):
        raise CheckpointError(f"No checkpoint at {path!r} (expected {path}.index). "
                              f"Checkpoints in {directory}: {available(directory)}.")
    try:
        checkpoint.restore(path).assert_existing_objects_matched()
    except (tf.errors.OpError, AssertionError, ValueError, IndexError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"Cannot restore checkpoint {path} (files {path}.index and "
            f"{path}.data-*): {type(error).__name__}: {detail}. It may be truncated, corrupt "
            f"or written by a different config. Checkpoints in {directory}: "
            f"{available(directory)}; rerun with {flag}=<one of them> to use an older "
            "one.") from error
    return path


def available(directory):
    """The checkpoint prefixes in `directory`, oldest first."""
    state = tf.train.get_checkpoint_state(directory)
    return list(state.all_model_checkpoint_paths) if state else []


def _remove_tree(directory):
    """Removes `directory` (any `tf.io.gfile` path), if it is there."""
    try:
        tf.io.gfile.rmtree(directory)
    except tf.errors.NotFoundError:
        pass
