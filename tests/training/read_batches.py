"""Run as a script: reads training batches the way the trainer does and saves what this
process's replicas were given.

  python tests/training/read_batches.py <out.npz> <tfds data_dir>

Under TF_CONFIG it is one worker of a MultiWorkerMirroredStrategy ("worker"); else it
reads with the default strategy ("one") and with a MirroredStrategy over two logical
CPUs ("mirrored"). It reads `tiny_tfds.SOURCE`, dynamically binarized, in global batches
of 32, held in memory and streamed (`max_in_memory_mb=0`): epoch 0 whole and epoch 1
from global batch 2 on (a resumed run). `<out.npz>` holds, for each
"<strategy>-<mode>_<read>", images [steps, rows, 8, 8, 1] and labels [steps, rows] (rows:
this process's share of each global batch, its replicas' rows side by side), and
steps_per_epoch.
"""

import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny import tiny_config  # noqa: E402
from tiny_tfds import SOURCE  # noqa: E402

from tfar.training import input_pipeline  # noqa: E402

BATCH_SIZE = 32
READS = {"0": (0, 0), "1": (1, 2)}  # name: (epoch, first global batch)


def main(out, data_dir):
    if "TF_CONFIG" not in os.environ:  # two logical CPUs for the MirroredStrategy
        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0], [
            tf.config.LogicalDeviceConfiguration()] * 2)
    strategies = ({"worker": tf.distribute.MultiWorkerMirroredStrategy()}
                  if "TF_CONFIG" in os.environ else
                  {"one": tf.distribute.get_strategy(),
                   "mirrored": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])})
    saved = {}
    for mode, max_in_memory_mb in (("memory", 1024), ("streamed", 0)):
        config = tiny_config(batch_size=BATCH_SIZE)
        config.data.update(dict(source=SOURCE, data_dir=data_dir, binarize="dynamic",
                                max_in_memory_mb=max_in_memory_mb, shuffle_buffer=64))
        batches = input_pipeline.TrainBatches(input_pipeline.with_splits(config.data),
                                              BATCH_SIZE, config.train.seed)
        saved["steps_per_epoch"] = batches.steps_per_epoch
        for strategy_name, strategy in strategies.items():
            for name, (epoch, skip) in READS.items():
                images, labels = [], []
                for x, y in batches.distribute(strategy, epoch, skip):
                    images.append(np.concatenate(strategy.experimental_local_results(x)))
                    labels.append(np.concatenate(strategy.experimental_local_results(y)))
                saved[f"{strategy_name}-{mode}_{name}_images"] = np.stack(images)
                saved[f"{strategy_name}-{mode}_{name}_labels"] = np.stack(labels)
    np.savez(out, **saved)


if __name__ == "__main__":
    main(*sys.argv[1:])
