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

Under MultiWorkerMirroredStrategy with a cluster, a signal usually reaches one worker
only, and a worker that stopped alone would leave the others waiting in the next loop's
all-reduce (until TensorFlow's heartbeat check aborts them, with no checkpoint written).
So after every loop each worker tells the others whether it received a signal, in one
all-reduce of two integers (`StopAgreement`): all of them see the same answer after the
same loop, all save `ckpt-<step>` (the chief writes it) and raise `Interrupted`, and
`train_main.py` exits with 143 (130 if the only signal anywhere was SIGINT) on every
worker. This holds for a signal received at any time once `train_and_evaluate` has
created the strategy (before, the signal's default action ends the process), including
while the model is built or the checkpoint restored, and on any platform. (TensorFlow's
`tf.distribute.experimental.PreemptionCheckpointHandler`, used before, agreed on a step
too, but only for a signal received after it was created, and on Google Cloud it does
not watch SIGTERM at all: there a signal stopped one worker alone.) After training, the
workers no longer communicate: a signal then stops each worker on its own, as without a
cluster.
"""

import os
import signal
import sys
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
        if self.received is not None:  # a second signal: stop now
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received = signum
        print(f"{signal.Signals(signum).name} received: finishing the current steps and "
              "saving a checkpoint (send it again to stop at once).", file=sys.stderr,
              flush=True)


class StopAgreement:
    """Whether any worker of a multi-worker run received a signal, the same answer on all.

    `__call__(received)`, called by every worker after the same loop with its own
    `StopSignals.received`, returns the signal to stop on (None to go on): SIGTERM if any
    worker received SIGTERM, else SIGINT if any received SIGINT. One all-reduce of a
    two-integer vector per call, a collective like the loop's own gradient all-reduces, so
    every worker must call it, in the same order relative to them.
    """

    def __init__(self, strategy):
        @tf.function
        def count(local):
            def replica_fn():  # the identity places the value on the replica's device
                return tf.distribute.get_replica_context().all_reduce("SUM", tf.identity(local))
            return strategy.experimental_local_results(strategy.run(replica_fn))[0]

        self._count = count

    def __call__(self, received):
        local = [int(received == signal.SIGINT), int(received == signal.SIGTERM)]
        sigint, sigterm = self._count(tf.constant(local, tf.int32)).numpy()
        if sigterm:
            return signal.SIGTERM
        return signal.SIGINT if sigint else None


def is_multi_worker(strategy):
    """Whether `strategy` spans a cluster of several workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return bool(isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and resolver
                and resolver.cluster_spec().jobs)
