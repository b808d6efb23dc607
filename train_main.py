"""Trains, evaluates, samples and exports a tfar model.

  python train_main.py                     # NADE on the embedded 8x8 digits (configs/default.py)
  python train_main.py --config=configs/made_mnist.py --config.data.source=idx:../shared/data/mnist
  python train_main.py --config=configs/made_mnist.py --strategy=mirrored   # all local GPUs
  python train_main.py --config=configs/made_mnist.py --print_config        # its fields

Any config field can be overridden with --config.<field>=<value> (e.g.
--config.train.steps=500); --print_config prints the resolved config and exits.

Rerunning the same command continues from the last checkpoint in --workdir. Ctrl-C
(SIGINT) or SIGTERM finishes the current loop of at most config.train.steps_per_loop
steps, saves a checkpoint and exits with status 130 or 143; a second signal stops at once.
Errors print one line (rerun with --verbosity=1 for the traceback) and exit with status 1
(2 for bad flags). TensorFlow's C++ log is limited to errors unless TF_CPP_MIN_LOG_LEVEL
is set.
"""

import os
import re
import sys
import tempfile

_QUIET = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

# Start-up banners TensorFlow prints whatever TF_CPP_MIN_LOG_LEVEL says (they come before
# absl::InitializeLog), and the cuInit error of every run on a machine without a GPU.
_BANNER = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} |"
                     r"To enable the following instructions|E\d{4} .*failed call to cuInit)")


def _import_tensorflow_quietly():
    """Imports tfar (and TensorFlow) and finds the devices with fd 2 captured, then
    replays what is not a known start-up banner (everything when the import fails, or
    when the user set TF_CPP_MIN_LOG_LEVEL)."""
    if not _QUIET:
        import tfar  # noqa: F401,PLC0415
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            import tensorflow as tf  # noqa: PLC0415

            import tfar  # noqa: F401,PLC0415  (sets the Keras backend)
            tf.config.list_physical_devices()
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            kept = [line for line in text.splitlines() if failed or not _BANNER.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


_import_tensorflow_quietly()

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from tfar.training import STRATEGIES, train_and_evaluate  # noqa: E402
from tfar.training.evaluation import metric_keys  # noqa: E402
from tfar.training.interrupts import Interrupted  # noqa: E402

_PROGRAM = "train_main.py"
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Directory for checkpoints, TensorBoard, metrics, samples and the export "
    "(default: runs/<config file name>).")
_STRATEGY = flags.DEFINE_enum("strategy", "default", STRATEGIES, "tf.distribute strategy.")
_TPU = flags.DEFINE_string("tpu", "", "TPU address, for --strategy=tpu.")
_RESTORE_FROM = flags.DEFINE_string(
    "restore_from", None, "Checkpoint prefix (e.g. runs/default/checkpoints/ckpt-2000) to "
    "start from instead of the latest one in --workdir.")
_PRINT_CONFIG = flags.DEFINE_bool(
    "print_config", False, "Print the resolved config (every field, with the overrides) and "
    "exit without training.")


def _one_line(error):
    """The informative part of an exception's message, on one line."""
    if len(error.args) == 1 and isinstance(error.args[0], KeyError):
        error = error.args[0]  # ml_collections' AttributeError(KeyError(...))
    text = str(error).strip()
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        text = error.args[0]  # str(KeyError) adds quotes and escapes the newlines
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("Traceback", "File \""))]
    text = " ".join(lines)
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)  # TensorFlow's op wrapper
    return text or type(error).__name__


def _fail(message, code):
    print(f"{_PROGRAM}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def _argument_naming(argv, word):
    """The command-line argument that mentions `word` (for a config field error)."""
    for argument in argv[1:]:
        if argument.startswith("--config") and word in argument:
            return argument.split("=", 1)[0]
    return None


def _verbose(argv):
    """Whether --verbosity / -v is at least 1 on the command line (before parsing)."""
    for i, argument in enumerate(argv):
        for name in ("--verbosity", "-v"):
            value = None
            if argument.startswith(name + "="):
                value = argument.split("=", 1)[1]
            elif argument == name and i + 1 < len(argv):
                value = argv[i + 1]
            if value is not None:
                try:
                    return int(value) >= 1
                except ValueError:
                    return False
    return False


def _parse_flags(argv):
    """absl's flag parsing, with one-line errors (the traceback with --verbosity=1)."""
    try:
        return flags.FLAGS(argv)
    except SystemExit as exit_:  # absl exits 1 after printing --help: that is no error
        if exit_.code == 1 and any(a.split("=")[0] in ("--help", "--helpshort", "--helpfull",
                                                       "-h", "-?") for a in argv[1:]):
            sys.exit(0)
        raise
    except Exception as error:  # noqa: BLE001
        _config_flag_error(error, argv)


def _config_flag_error(error, argv):
    """Exits with one line for an error of the --config flag or its overrides."""
    if _verbose(argv):
        raise error
    if isinstance(error, flags.Error):
        _fail(f"{_one_line(error)} (python {_PROGRAM} --help lists the flags)", 2)
    message = _one_line(error)
    if isinstance(error, (AttributeError, KeyError)):  # an unknown --config.<field>
        field = message.split()[0].strip("'\"") if message else ""
        argument = _argument_naming(argv, field) if field else None
        if argument:
            hint = message[len(field) + 2:].strip()
            message = f"{argument}: unknown config field {field!r}{'; ' + hint if hint else ''}"
        _fail(f"{message}; python {_PROGRAM} --config=<file> --print_config lists the fields.",
              2)
    match = re.search(r"No such file or directory: '([^']*)'", message)
    if match:
        message = f"--config: no such file {match.group(1)!r}"
    _fail(message, 2)


try:  # ml_collections reads --config and its overrides from sys.argv right here
    _CONFIG = config_flags.DEFINE_config_file(
        "config", os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                               "default.py"),
        "A configs/*.py file (default: configs/default.py, NADE on the 8x8 digits); override "
        "fields with --config.<field>=<value>; --print_config lists them.", lock_config=True)
except Exception as _error:  # noqa: BLE001
    _config_flag_error(_error, sys.argv)


class _NoLibraryInfo:
    """A logging filter: INFO records of TensorFlow and Keras (saver sharding, SavedModel
    renaming, assets, fingerprints) are dropped; tfar's own lines and warnings stay."""

    _LIBRARIES = tuple(os.sep + name + os.sep for name in ("tensorflow", "keras", "tf_keras"))

    def filter(self, record):
        import logging as std_logging  # noqa: PLC0415

        return record.levelno >= std_logging.WARNING or not any(
            library in record.pathname for library in self._LIBRARIES)


def _quiet_tensorflow():
    """TensorFlow's and Keras's Python INFO chatter only with --verbosity=1 or more."""
    if logging.get_verbosity() < logging.DEBUG:
        import tensorflow as tf  # noqa: PLC0415  (already imported by tfar)

        tf.get_logger().setLevel("WARNING")
        logging.get_absl_handler().addFilter(_NoLibraryInfo())


def main(argv):
    if len(argv) > 1:
        _fail(f"unexpected arguments {argv[1:]} (flags look like --name=value; python "
              f"{_PROGRAM} --help lists them)", 2)
    config_file = config_flags.get_config_filename(flags.FLAGS["config"])
    if not os.path.isfile(config_file):
        _fail(f"--config: no such file {config_file!r}", 2)
    config = _CONFIG.value
    if _PRINT_CONFIG.value:
        try:
            print(config, flush=True)
        except BrokenPipeError:  # e.g. piped into head
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    _quiet_tensorflow()
    workdir = _WORKDIR.value or os.path.join(
        "runs", os.path.splitext(os.path.basename(config_file))[0])
    logging.debug("Config %s, workdir %s", config_file, workdir)
    try:
        metrics = train_and_evaluate(config, workdir, strategy=_STRATEGY.value,
                                     tpu_address=_TPU.value, restore_from=_RESTORE_FROM.value,
                                     handle_signals=True)
    except Interrupted as interrupted:
        if sys.stdout.isatty():
            print(flush=True)  # end the progress bar's line
        print(interrupted, file=sys.stderr, flush=True)
        sys.exit(interrupted.exit_code)
    except Exception as error:  # noqa: BLE001  (one line; the traceback with --verbosity=1)
        if logging.get_verbosity() >= logging.DEBUG:
            raise
        _fail(f"{_one_line(error)} (rerun with --verbosity=1 for the traceback)", 1)
    metric = metrics["test_metric"]
    nats_key, bits_key = metric_keys(metric)
    print(f"step {metrics['step']}: test {'NLL' if metric == 'nll' else metric} "
          f"{metrics[nats_key]:.3f} nats/image, {metrics[bits_key]:.4f} bits/dim; results in "
          f"{workdir}", flush=True)


if __name__ == "__main__":
    app.run(main, flags_parser=_parse_flags)
