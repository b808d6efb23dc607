"""The paper's largest MADE (two hidden layers of 8,000 units, 32 mask sets; 86.64 nats)
on one machine: build time, one training loss, the ensemble log-prob, peak memory.

Beside the measured peak it prints what the masks alone would take stored as constants
([M, n_in, n_out] float32 per layer), the layout `MaskedDense` avoids by comparing
degrees in the graph and running an ensemble's mask sets a few at a time
(`parallel_mask_sets`: "auto" runs this model's one at a time; the log-prob runs compiled,
as a `tf.function`, where mask sets can run in parallel).

  python benchmarks/made_large.py [--hidden_units 8000 --num_masks 32 --batch_size 10
                                   --parallel_mask_sets auto]
"""

import resource
import time

from absl import app, flags

import tfar  # sets the Keras backend first

import numpy as np
import tensorflow as tf

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_dims", 784, "D, the number of binary dimensions.")
flags.DEFINE_integer("hidden_units", 8000, "Units of each of the two hidden layers.")
flags.DEFINE_integer("num_masks", 32, "Connectivity-agnostic mask sets (random hidden degrees).")
flags.DEFINE_integer("batch_size", 10, "Images in the training loss and the ensemble log-prob.")
flags.DEFINE_string("parallel_mask_sets", "auto", "Mask sets the ensemble log-prob runs at once: "
                    "'auto' or an int.")


def timed(fn):
    begin = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - begin


def main(_):
    d_, h, m = FLAGS.num_dims, FLAGS.hidden_units, FLAGS.num_masks
    d, build_s = timed(lambda: tfar.MADE(event_shape=(d_,), hidden_units=(h, h),
                                         hidden_degrees="random", num_masks=m, seed=0,
                                         parallel_mask_sets=FLAGS.parallel_mask_sets))
    x = tf.constant((np.random.default_rng(0).random((FLAGS.batch_size, d_)) < 0.3)
                    .astype(np.float32))
    loss, loss_s = timed(lambda: float(d.training_loss(x, seed=(0, 1))))
    log_prob_fn = tf.function(d.log_prob)
    _, first_s = timed(lambda: log_prob_fn(x).numpy())  # traces
    log_prob, log_prob_s = timed(lambda: log_prob_fn(x).numpy())
    weights = sum(int(np.prod(v.shape)) for v in d.trainable_variables)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss: KiB
    masks_gb = 4 * m * (d_ * h + h * h + h * d_) / 2**30
    print(f"MADE D={d_}, hidden ({h}, {h}), {m} masks: {weights:,} weights")
    print(f"build {build_s:.1f} s; training loss {loss:.2f} in {loss_s:.1f} s; ensemble "
          f"log_prob of {FLAGS.batch_size} images (mean {np.mean(log_prob):.2f}, "
          f"mask sets at a time: {d.network.mask_sets_at_once}) in {log_prob_s:.1f} s "
          f"(compiled; the first call, tracing included: {first_s:.1f} s)")
    print(f"peak resident memory {peak_gb:.2f} GB; the masks as float32 constants: "
          f"{masks_gb:.2f} GB (ratio {masks_gb / peak_gb:.1f})")


if __name__ == "__main__":
    app.run(main)
