"""The command lines' shared handling: one-line errors, exit statuses, absl flag parsing,
the `--config` flag, quiet library logging, and `train_main.py`'s main.

    COMMAND = cli.Command("train_main.py")
    app.run(main, flags_parser=COMMAND.parse_flags)

An error prints one line, `<command>: error: <message>`, on stderr and exits with status
1, or 2 for bad flags; with --verbosity=1 (or more) the traceback is shown instead.
TensorFlow's start-up banners are filtered out when tfar is imported (`tfar/_startup.py`).
"""

import logging as std_logging
import os
import re
import sys

from absl import flags, logging
from ml_collections import config_flags

from tfar.training.interrupts import Interrupted
from tfar.training.trainer import train_and_evaluate

_HELP = ("--help", "--helpshort", "--helpfull", "-h", "-?")


def one_line(error):
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


def verbose(argv):
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


def _argument_naming(argv, word):
    """The command-line argument that mentions `word` (for a config field error)."""
    for argument in argv[1:]:
        if argument.startswith("--config") and word in argument:
            return argument.split("=", 1)[0]
    return None


class Command:
    """One of tfar's command lines, as its errors name it.

    Args:
      name: the name errors start with ("train_main.py", "tfar.export").
      invocation: how a user runs it, for the hints ("python train_main.py"; default
        "python <name>").
    """

    def __init__(self, name, invocation=None):
        self.name = name
        self.invocation = invocation or f"python {name}"

    def fail(self, message, code=1):
        """Prints `<name>: error: <message>` on stderr and exits with `code`."""
        print(f"{self.name}: error: {message}", file=sys.stderr, flush=True)
        sys.exit(code)

    def parse_flags(self, argv):
        """absl's flag parsing (`app.run`'s `flags_parser`), with one-line errors (the
        traceback with --verbosity=1); --help exits with status 0."""
        try:
            return flags.FLAGS(argv)
        except SystemExit as exit_:  # absl exits 1 after printing --help: that is no error
            if exit_.code == 1 and any(a.split("=")[0] in _HELP for a in argv[1:]):
                sys.exit(0)
            raise
        except Exception as error:  # noqa: BLE001
            self.flag_error(error, argv)

    def flag_error(self, error, argv):
        """Exits with status 2 and one line for an error of a flag, of the --config flag
        or of its overrides (re-raises it with --verbosity=1)."""
        if verbose(argv):
            raise error
        if isinstance(error, flags.Error):
            self.fail(f"{one_line(error)} ({self.invocation} --help lists the flags)", 2)
        message = one_line(error)
        if isinstance(error, (AttributeError, KeyError)):  # an unknown --config.<field>
            field = message.split()[0].strip("'\"") if message else ""
            argument = _argument_naming(argv, field) if field else None
            if argument:
                hint = message[len(field) + 2:].strip()
                message = (f"{argument}: unknown config field {field!r}"
                           f"{'; ' + hint if hint else ''}")
            self.fail(f"{message}; {self.invocation} --config=<file> --print_config lists the "
                      "fields.", 2)
        match = re.search(r"No such file or directory: '([^']*)'", message)
        if match:
            message = f"--config: no such file {match.group(1)!r}"
        self.fail(message, 2)

    def define_config_flag(self, default, help_string):
        """absl's --config flag (a config file, fields overridable with
        --config.<field>=<value>), locked; its errors are one line (`flag_error`)."""
        try:  # ml_collections reads --config and its overrides from sys.argv right here
            return config_flags.DEFINE_config_file("config", default, help_string,
                                                   lock_config=True)
        except Exception as error:  # noqa: BLE001
            self.flag_error(error, sys.argv)

    def check_no_arguments(self, argv):
        """Exits with status 2 when `main`'s argv holds more than the program."""
        if len(argv) > 1:
            self.fail(f"unexpected arguments {argv[1:]} (flags look like --name=value; "
                      f"{self.invocation} --help lists them)", 2)

    def call(self, function, *args, **kwargs):
        """`function(*args, **kwargs)`; an exception becomes one line and exit status 1,
        the traceback with --verbosity=1 or more."""
        try:
            return function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001
            if logging.get_verbosity() >= logging.DEBUG:
                raise
            self.fail(f"{one_line(error)} (rerun with --verbosity=1 for the traceback)", 1)


class _NoLibraryInfo:
    """A logging filter: INFO records of TensorFlow and Keras (saver sharding, SavedModel
    renaming, assets, fingerprints) are dropped; tfar's own lines and warnings stay."""

    _LIBRARIES = tuple(os.sep + name + os.sep for name in ("tensorflow", "keras", "tf_keras"))

    def filter(self, record):
        return record.levelno >= std_logging.WARNING or not any(
            library in record.pathname for library in self._LIBRARIES)


def quiet_tensorflow():
    """TensorFlow's and Keras's Python INFO chatter only with --verbosity=1 or more."""
    if logging.get_verbosity() < logging.DEBUG:
        import tensorflow as tf  # noqa: PLC0415  (already imported by tfar)

        tf.get_logger().setLevel("WARNING")
        logging.get_absl_handler().addFilter(_NoLibraryInfo())


def train(command, config_flag, workdir=None, strategy="default", tpu="", restore_from=None,
          print_config=False):
    """`train_main.py`'s main after the flags are parsed: prints the config (and returns)
    with `print_config`, else trains in `workdir` (default runs/<config file name>) and
    prints the test figure on one line; a signal exits with 128 + its number after the
    run's one line, an error with one line (`Command.call`)."""
    config_file = config_flags.get_config_filename(flags.FLAGS[config_flag.name])
    if not os.path.isfile(config_file):
        command.fail(f"--config: no such file {config_file!r}", 2)
    config = config_flag.value
    if print_config:
        try:
            print(config, flush=True)
        except BrokenPipeError:  # e.g. piped into head
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    quiet_tensorflow()
    workdir = workdir or os.path.join("runs", os.path.splitext(os.path.basename(config_file))[0])
    logging.debug("Config %s, workdir %s", config_file, workdir)

    def run():
        try:
            return train_and_evaluate(config, workdir, strategy=strategy, tpu_address=tpu,
                                      restore_from=restore_from, handle_signals=True)
        except Interrupted as interrupted:
            if sys.stdout.isatty():
                print(flush=True)  # end the progress bar's line
            print(interrupted, file=sys.stderr, flush=True)
            sys.exit(interrupted.exit_code)

    metrics = command.call(run)
    print(f"step {metrics['step']}: {metrics['test_line']}; results in {workdir}", flush=True)
