"""NADE log_prob in one pass: its time beside one MADE forward pass of the same size.

NADE's D conditionals share one cumulative sum over tied weights (Larochelle & Murray
2011, §3), so log_prob costs O(D·H) per image with no loop over D — like one pass of a
MADE with one hidden layer of H units. Both run as compiled `tf.function`s on the same
batch; the script prints the median of --repeats timings and their ratio, and the number
of While ops in each graph (0: no loop over D).

  python benchmarks/nade_log_prob.py [--num_dims 784 --hidden_units 500 --batch_size 100]
"""

import time

from absl import app, flags

import tfar

import numpy as np
import tensorflow as tf

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_dims", 784, "D.")
flags.DEFINE_integer("hidden_units", 500, "H.")
flags.DEFINE_integer("batch_size", 100, "Images per log_prob call.")
flags.DEFINE_integer("repeats", 50, "Timed calls per model.")


def median_seconds(fn, x, repeats):
    fn(x).numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - begin)
    return float(np.median(times))


def main(_):
    shape = (FLAGS.num_dims,)
    x = tf.constant(np.random.default_rng(0).integers(0, 2, (FLAGS.batch_size,) + shape),
                    tf.float32)
    models = {"NADE log_prob": tfar.NADE(event_shape=shape, hidden_units=FLAGS.hidden_units),
              "MADE log_prob": tfar.MADE(event_shape=shape, hidden_units=(FLAGS.hidden_units,))}
    seconds = {}
    for name, d in models.items():
        fn = tf.function(d.log_prob)
        graph = fn.get_concrete_function(x).graph
        loops = sum(op.type in ("While", "StatelessWhile") for op in graph.get_operations())
        seconds[name] = median_seconds(fn, x, FLAGS.repeats)
        print(f"{name}: D={FLAGS.num_dims}, H={FLAGS.hidden_units}, batch {FLAGS.batch_size}: "
              f"{seconds[name] * 1e3:.2f} ms (median of {FLAGS.repeats}), "
              f"{len(graph.get_operations())} graph ops, {loops} while loops")
    print(f"NADE / MADE time ratio: {seconds['NADE log_prob'] / seconds['MADE log_prob']:.2f}")


if __name__ == "__main__":
    app.run(main)
