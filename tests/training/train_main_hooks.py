"""Run as a script: `train_main.py` with hooks that let a test signal a worker at a chosen
point, set by environment variables:

  PAUSE_SECONDS, PAUSE_MARKER   pause that long after the model is built and the checkpoint
                                restored, just before training, having created the file
                                PAUSE_MARKER (a signal while the run starts up, as a
                                cluster's preemption notice may come);
  SIGTERM_AFTER_AGREEMENT=N     send this process SIGTERM right after the workers' N-th
                                agreement on stopping (`interrupts.StopAgreement`), as if
                                it had arrived during that all-reduce.

  python tests/training/train_main_hooks.py <train_main.py flags>
"""

import os
import runpy
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.argv[0] = os.path.join(ROOT, "train_main.py")
sys.path.insert(0, ROOT)

from tfar.training import interrupts, trainer  # noqa: E402

if "PAUSE_SECONDS" in os.environ:
    _train = trainer._train

    def _paused_train(*args, **kwargs):
        open(os.environ["PAUSE_MARKER"], "w").close()
        time.sleep(float(os.environ["PAUSE_SECONDS"]))
        return _train(*args, **kwargs)

    trainer._train = _paused_train

if "SIGTERM_AFTER_AGREEMENT" in os.environ:
    _agree, _calls = interrupts.StopAgreement.__call__, []

    def _agree_then_signal(self, received):
        agreed = _agree(self, received)
        _calls.append(agreed)
        if len(_calls) == int(os.environ["SIGTERM_AFTER_AGREEMENT"]):
            os.kill(os.getpid(), signal.SIGTERM)  # its handler runs before this returns
        return agreed

    interrupts.StopAgreement.__call__ = _agree_then_signal

runpy.run_path(sys.argv[0], run_name="__main__")
