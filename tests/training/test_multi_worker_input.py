"""Two MultiWorkerMirrored workers read disjoint halves of each global batch of a one-worker
run, in the documented order (tfar/training/input_pipeline.py), from a tfds dataset of
4 record files, held in memory and streamed, from an epoch's start and mid-epoch; so do
the two replicas of a MirroredStrategy on one machine. (Before, TensorFlow's AUTO shard
policy gave each worker whole record files: other batches, and 4 steps of an epoch of 9.)"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tiny_tfds
from test_train_main import _free_ports
from read_batches import BATCH_SIZE, READS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def read_batches(out, data_dir, env=None):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "read_batches.py"), str(out),
                             str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})


@pytest.mark.slow  # the default tier runs two workers in test_multi_worker_preemption.py
def test_two_workers_read_disjoint_halves_of_each_global_batch(tmp_path):
    data_dir = tmp_path / "tfds"
    tiny_tfds.prepare(data_dir)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    processes = {"one": read_batches(tmp_path / "one.npz", data_dir)}
    for i in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": i}}
        processes[i] = read_batches(tmp_path / f"{i}.npz", data_dir,
                                    env={"TF_CONFIG": json.dumps(tf_config)})
    for name, process in processes.items():
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 0, f"{name}: {output[-3000:]}"
    one = np.load(tmp_path / "one.npz")
    workers = [np.load(tmp_path / f"{i}.npz") for i in range(2)]
    steps = tiny_tfds.SIZES["train"] // BATCH_SIZE
    assert one["steps_per_epoch"] == workers[0]["steps_per_epoch"] == workers[1]["steps_per_epoch"]
    assert one["steps_per_epoch"] == steps
    half = BATCH_SIZE // 2
    for mode in ("memory", "streamed"):
        for name, (epoch, skip) in READS.items():
            key = f"{mode}_{name}"
            labels = one[f"one-{key}_labels"]  # each label is its example's index in the split
            assert labels.shape == (steps - skip, BATCH_SIZE)
            assert len(np.unique(labels)) == labels.size, f"{key}: an example twice"
            for w, worker in enumerate(workers):
                rows = slice(w * half, (w + 1) * half)
                for kind in ("labels", "images"):
                    np.testing.assert_array_equal(worker[f"worker-{key}_{kind}"],
                                                  one[f"one-{key}_{kind}"][:, rows],
                                                  err_msg=f"{key}, worker {w}")
            for kind in ("labels", "images"):  # two local replicas: the same rows in order
                np.testing.assert_array_equal(one[f"mirrored-{key}_{kind}"],
                                              one[f"one-{key}_{kind}"], err_msg=key)
        steps_read = [len(one[f"one-{mode}_{name}_labels"]) for name in READS]
        print(f"{mode}: one worker read {steps_read} global batches of {BATCH_SIZE}; each of "
              f"2 workers read its half ({half} rows) of every one, equal to the one-worker "
              "rows, and so did the 2 replicas of a MirroredStrategy")
