"""A quiet start-up for tfar's commands (`train_main.py`, `python -m tfar.export`).

TensorFlow prints banners when it is imported, whatever TF_CPP_MIN_LOG_LEVEL says (they
come before absl::InitializeLog), and every run on a machine without a GPU logs a failed
cuInit. `tfar/__init__.py` imports everything inside `quiet()`, which, in a command only,
captures fd 2 while TensorFlow is imported and finds its devices, then replays what is
not a known banner: everything when the import fails, and everything when the user set
TF_CPP_MIN_LOG_LEVEL (otherwise it sets it to 2, so the C++ log shows errors only).

A process is a command when it runs `python -m tfar.<module>` or when its main script
sets `QUIET_START = True` before it imports tfar (as train_main.py does); anywhere else
(a library user, the tests) importing tfar changes nothing. Nothing here imports
TensorFlow: this module runs before it.
"""

import contextlib
import os
import re
import sys
import tempfile

# The start-up banners, and the cuInit error of every run on a machine without a GPU.
BANNER = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} |"
                    r"To enable the following instructions|E\d{4} .*failed call to cuInit)")


def is_command():
    """Whether this process is one of tfar's commands (see the module docstring)."""
    argv = getattr(sys, "orig_argv", [])
    for i, argument in enumerate(argv[1:-1], start=1):
        if argument == "-m":
            return argv[i + 1].startswith("tfar.")
    return bool(getattr(sys.modules.get("__main__"), "QUIET_START", False))


@contextlib.contextmanager
def quiet():
    """In a command whose user left TF_CPP_MIN_LOG_LEVEL unset, runs the body (tfar's
    imports) and lists the devices with fd 2 captured, then writes to stderr what is not
    a known banner (all of it when the body raised). Elsewhere it just runs the body."""
    if not is_command() or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # before TensorFlow is imported
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            yield
            import tensorflow as tf  # noqa: PLC0415  (imported by the body)

            tf.config.list_physical_devices()
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            kept = [line for line in text.splitlines() if failed or not BANNER.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)
