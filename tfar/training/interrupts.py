"""SIGINT and SIGTERM during training: finish the current loop, save a checkpoint, stop.

`StopSignals` (a context manager, installed by `train_and_evaluate(handle_signals=True)`,
which `train_main.py` passes) turns the first SIGINT (Ctrl-C) or SIGTERM (what a cluster
sends before preemption) into a request that the training loop checks between its
`tf.function` calls: a signal that arrives while a loop of up to `steps_per_loop` steps
runs is seen when that loop returns (Python runs signal handlers between bytecodes, not
inside a TensorFlow call). The trainer then writes `ckpt-<step>` and raises `Interrupted`;
`train_main.py` prints one line and exits with 128 + the signal number (130, 143).
A second signal stops at once with the default action (the checkpoints and exports are
atomic, so that loses only the steps since the last checkpoint).

Under MultiWorkerMirroredStrategy with a cluster, SIGTERM goes through TensorFlow's
`tf.distribute.experimental.PreemptionCheckpointHandler`, which agrees on a step with the
other workers (through the coordination service) so that all of them save the same
checkpoint; SIGINT is forwarded to it as SIGTERM.
"""

import os
import shutil
import signal
import sys
import tempfile
import threading

import tensorflow as tf

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """Training stopped on a signal after saving a checkpoint.

    Attributes:
      signum: the signal number (`exit_code` = 128 + signum).
      step: the step of the saved checkpoint.
      checkpoint: its prefix (None on non-chief workers).
    """

    def __init__(self, signum, step, checkpoint, finished=False):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        name = signal.Signals(signum).name
        where = (f"after training (step {step}), before the evaluation, samples or export were "
                 "all written" if finished else f"at step {step}")
        saved = f"; checkpoint saved to {checkpoint}" if checkpoint else ""
        super().__init__(f"Interrupted by {name} {where}{saved}; rerun the same command to "
                         "resume.")

    @property
    def exit_code(self):
        return 128 + self.signum


class StopSignals:
    """Records the first SIGINT/SIGTERM; a second one gets the default action.

    Only installs handlers in the main thread (elsewhere `signal.signal` is not allowed);
    restores the previous handlers on exit.
    """

    def __init__(self, enabled=True):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.received = None
        self.forward_sigint_to_sigterm = False
        self._previous = {}

    def __enter__(self):
        if self.enabled:
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
        return False

    def _handle(self, signum, frame):
        del frame
        if self.forward_sigint_to_sigterm and signum == signal.SIGINT:
            os.kill(os.getpid(), signal.SIGTERM)  # PreemptionCheckpointHandler watches it
            return
        if self.received is not None:  # a second signal: stop now
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received = signum
        print(f"{signal.Signals(signum).name} received: finishing the current steps and "
              "saving a checkpoint (send it again to stop at once).", file=sys.stderr,
              flush=True)


class PreemptionWatcher:
    """`tf.distribute.experimental.PreemptionCheckpointHandler` for a multi-worker run.

    `check(step)` after each loop: when any worker got SIGTERM, all workers save
    `ckpt-<step>` at the same loop (through `save(step)`) and raise `Interrupted`.
    The handler's own checkpoint (its run counter) lives in a scratch directory, so every
    worker starts counting loops from 0, whatever checkpoint the run resumed from.
    """

    def __init__(self, strategy, save):
        self._save = save
        self._step = None
        self._saved = None
        self._scratch = tempfile.mkdtemp(prefix="tfar_preemption_")
        config = tf.distribute.experimental.TerminationConfig(
            exit_fn=self._exit, save_fn=self._save_now)
        self.handler = tf.distribute.experimental.PreemptionCheckpointHandler(
            strategy.cluster_resolver, tf.train.Checkpoint(),
            os.path.join(self._scratch, "checkpoints"), termination_config=config)

    def _save_now(self):
        self._saved = self._save(self._step)

    def _exit(self):
        raise Interrupted(signal.SIGTERM, self._step, self._saved)

    def check(self, step):
        self._step = step
        self.handler.save_checkpoint_if_preempted()

    def close(self):
        shutil.rmtree(self._scratch, ignore_errors=True)


def is_multi_worker(strategy):
    """Whether `strategy` spans a cluster of several workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return bool(isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and resolver
                and resolver.cluster_spec().jobs)
