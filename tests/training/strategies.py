"""Run as a script: trains one tiny config under MirroredStrategy over two logical CPU
devices and under the default strategy, and prints both metrics as JSON.

  python tests/training/strategies.py <workdir>

A separate process because logical devices must be configured before TensorFlow starts.
"""

import json
import os
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny import tiny_config  # noqa: E402

from tfar.training import train_and_evaluate  # noqa: E402


def main(workdir):
    results = {}
    for name, strategy in (("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
                           ("default", tf.distribute.get_strategy())):
        config = tiny_config()
        config.export.enabled = False
        metrics = train_and_evaluate(config, os.path.join(workdir, name), strategy=strategy)
        results[name] = {"train_loss": metrics["train_loss"], "test_nll": metrics["test_nll_nats"],
                         "num_replicas": metrics["num_replicas"], "step": metrics["step"]}
    print("RESULTS " + json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
