"""Trains, evaluates, samples and exports a tfar model.

  python train_main.py                                        # MADE on the embedded digits
  python train_main.py --config=configs/made_mnist.py --config.data.source=idx:../shared/data/mnist
  python train_main.py --config=configs/made_mnist.py --strategy=mirrored   # all local GPUs

Rerunning the same command continues from the last checkpoint in --workdir.
"""

import os

from absl import app, flags, logging
from ml_collections import config_flags

import tfar  # noqa: F401  (sets the Keras backend)
from tfar.training import STRATEGIES, train_and_evaluate

_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "default.py"),
    "A configs/*.py file; override fields with --config.<field>=<value>.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Directory for checkpoints, TensorBoard, metrics, samples and the export "
    "(default: runs/<config file name>).")
_STRATEGY = flags.DEFINE_enum("strategy", "default", STRATEGIES, "tf.distribute strategy.")
_TPU = flags.DEFINE_string("tpu", "", "TPU address, for --strategy=tpu.")
_RESTORE_FROM = flags.DEFINE_string(
    "restore_from", None, "Checkpoint prefix (e.g. runs/default/checkpoints/ckpt-2000) to "
    "start from instead of the latest one in --workdir.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    config_file = config_flags.get_config_filename(flags.FLAGS["config"])
    workdir = _WORKDIR.value or os.path.join(
        "runs", os.path.splitext(os.path.basename(config_file))[0])
    logging.info("Config %s, workdir %s", config_file, workdir)
    metrics = train_and_evaluate(_CONFIG.value, workdir, strategy=_STRATEGY.value,
                                 tpu_address=_TPU.value, restore_from=_RESTORE_FROM.value)
    print(f"step {metrics['step']}: test NLL {metrics['test_nll_nats']:.3f} nats/image, "
          f"{metrics['test_bits_per_dim']:.4f} bits/dim; results in {workdir}")


if __name__ == "__main__":
    app.run(main)
