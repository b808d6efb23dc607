"""`tfar.metrics.mmd2` at MNIST scale: time and peak memory of the blocked kernel sums.

Two sets of --num_samples vectors of --num_dims values in [0, 1] (uniform noise, and the
same shifted by --shift), the unbiased MMD² with the default six bandwidths, in blocks of
--block_size rows. The whole kernel matrices would hold 3 · N² · 6 float64 values
(10,000 × 784: 14.4 GB); the blocks hold block_size² · 6 at a time. Prints the value,
the seconds, and the process's peak resident memory before and after the call
(`resource.getrusage`).

  python benchmarks/mmd.py                      # 10,000 × 784 against 10,000 × 784
"""

import resource
import time

from absl import app, flags

import tfar  # sets the Keras backend first
from tfar import metrics

import numpy as np

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_samples", 10_000, "N, samples per side.")
flags.DEFINE_integer("num_dims", 784, "D, values per sample.")
flags.DEFINE_integer("block_size", 1000, "Rows per block.")
flags.DEFINE_float("shift", 0.01, "Added to every value of the second set.")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def main(argv):
    del argv
    rng = np.random.default_rng(0)
    x = rng.random((FLAGS.num_samples, FLAGS.num_dims), np.float32)
    y = rng.random((FLAGS.num_samples, FLAGS.num_dims), np.float32) + FLAGS.shift
    before = peak_mb()
    began = time.perf_counter()
    value = metrics.mmd2(x, y, block_size=FLAGS.block_size)
    seconds = time.perf_counter() - began
    after = peak_mb()
    whole = 3 * FLAGS.num_samples**2 * len(metrics.BANDWIDTHS) * 8 / 2**30
    print(f"mmd2 of {FLAGS.num_samples} x {FLAGS.num_dims} against the same: {value:.6g} in "
          f"{seconds:.1f} s, blocks of {FLAGS.block_size}")
    print(f"peak resident memory: {before:.0f} MB before, {after:.0f} MB after "
          f"(+{after - before:.0f} MB; whole kernel matrices: {whole:.1f} GB)")


if __name__ == "__main__":
    app.run(main)
