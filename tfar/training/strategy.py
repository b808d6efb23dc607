"""`get_strategy(name)`: the `tf.distribute` strategy a training run uses.

  "default"                one device, `tf.distribute.get_strategy()`.
  "mirrored"               every local GPU (or the CPU), synchronous all-reduce.
  "multi_worker_mirrored"  several machines; each reads its role from the TF_CONFIG
                           environment variable (cluster + task), as TensorFlow documents.
  "tpu"                    a Cloud TPU reached through `tpu_address`.

Model and optimizer variables must be created inside `strategy.scope()`; the trainer
does that.
"""

import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored", "tpu")


def get_strategy(name="default", tpu_address=""):
    """The strategy called `name` (one of `STRATEGIES`)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker_mirrored":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("strategy 'multi_worker_mirrored' needs the TF_CONFIG environment "
                             "variable (cluster and task of this worker); it is not set.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {name!r}; expected one of {STRATEGIES}.")


def is_chief(strategy):
    """Whether this process writes the run's files (all but non-chief workers do)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    cluster = resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster)


def task_name(strategy):
    """This process's task, e.g. "worker_1" ("" outside multi-worker runs)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return ""
    return f"{resolver.task_type}_{resolver.task_id}"
