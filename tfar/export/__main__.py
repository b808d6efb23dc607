"""Exports a finished or interrupted `train_main.py` run as a TF Serving SavedModel version.

  python -m tfar.export --workdir=runs/default                   # latest -> export/<step>/
  python -m tfar.export --workdir=runs/default --checkpoint=2000 --noema \\
      --export_dir=models/digits --version=7
  python -m tfar.export --workdir=runs/default --jit_compile    # XLA-compiled sampling

The model is built from the run's saved config and restored from the checkpoint (default:
the latest; --checkpoint=N is ckpt-N), with the EMA of the weights when the run keeps one
(--noema: the raw weights), and written by the end-of-run export's code to
<export_dir>/<version>/ (default: <workdir>/export/<step>/), its `sample` and `complete`
compiled with XLA with --jit_compile (TF Serving runs those with
--xla_cpu_compilation_enabled=true on CPU); a version is never
overwritten. Errors print one line (rerun with --verbosity=1 for the traceback) and exit
with status 1 (2 for bad flags); nothing is written then.
"""

from absl import app, flags

from tfar.export.from_run import export_run
from tfar.training import cli

COMMAND = cli.Command("tfar.export", "python -m tfar.export")
_WORKDIR = flags.DEFINE_string("workdir", None, "The train_main.py run's --workdir.",
                               required=True)
_CHECKPOINT = flags.DEFINE_integer(
    "checkpoint", None, "The step of the checkpoint to export (ckpt-<step>); default: the "
    "latest.")
_EXPORT_DIR = flags.DEFINE_string(
    "export_dir", None, "Where the versions go (default: <workdir>/export).")
_VERSION = flags.DEFINE_integer(
    "version", None, "The version to write (default: the checkpoint's step).")
_EMA = flags.DEFINE_bool(
    "ema", None, "Export the EMA of the weights (--ema) or the raw weights (--noema); "
    "default: the EMA when the run keeps one (config.train.ema_decay > 0).")
_JIT_COMPILE = flags.DEFINE_bool(
    "jit_compile", False, "Compile the sample and complete signatures' sampling loops with "
    "XLA (the same samples, 2-5x faster; TF Serving on CPU needs "
    "--xla_cpu_compilation_enabled=true).")


def main(argv):
    COMMAND.check_no_arguments(argv)
    cli.quiet_tensorflow()
    path = COMMAND.call(export_run, _WORKDIR.value, checkpoint=_CHECKPOINT.value,
                        export_dir=_EXPORT_DIR.value, version=_VERSION.value, ema=_EMA.value,
                        jit_compile=_JIT_COMPILE.value)
    print(f"Exported {path}", flush=True)


if __name__ == "__main__":
    app.run(main, flags_parser=COMMAND.parse_flags)
