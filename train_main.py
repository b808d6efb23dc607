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

QUIET_START = True  # importing tfar leaves TensorFlow's start-up banners out (tfar/_startup.py)

import os  # noqa: E402

from absl import app, flags  # noqa: E402

from tfar.training import STRATEGIES, cli  # noqa: E402

COMMAND = cli.Command("train_main.py")
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
_CONFIG = COMMAND.define_config_flag(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "default.py"),
    "A configs/*.py file (default: configs/default.py, NADE on the 8x8 digits); override "
    "fields with --config.<field>=<value>; --print_config lists them.")


def main(argv):
    COMMAND.check_no_arguments(argv)
    cli.train(COMMAND, _CONFIG, workdir=_WORKDIR.value, strategy=_STRATEGY.value,
              tpu=_TPU.value, restore_from=_RESTORE_FROM.value, print_config=_PRINT_CONFIG.value)


if __name__ == "__main__":
    app.run(main, flags_parser=COMMAND.parse_flags)
