"""Multiscale sampling time against the Gated PixelCNN's samplers, side by side in one run.

For each size (32×32×3 and 64×64×3 by default; 256 values, the logistic mixture, untrained
weights) it draws --batch_size images with

  multiscale   `tfar.MultiscalePixelCNN(base_size=4)`, its default sampler: the 4×4 base by
               a Gated PixelCNN of --num_layers × --num_filters (its cached sampler), then
               3 group steps per doubling by upscaling ResNets of --upscale_blocks ×
               --num_filters: 16 + 3·log2(H/4) sequential network evaluations;
  gated cached `tfar.GatedPixelCNN` of the same --num_layers × --num_filters, its cached
               sampler: H·W steps, one pixel of every layer each;
  gated naive  the same model's naive loop: H·W full network passes. Timing it whole would
               take hours at 64×64, so its time is one measured full pass (batch n, after
               a warm-up) × H·W, printed as extrapolated;

each in its own process (a `tf.function` traced and called once first, then timed over
one call), with its peak resident memory during the timed call (Linux VmHWM), as
`benchmarks/sampling.py` measures. It prints the seconds, the ratios and the memory.

  python benchmarks/multiscale.py [--sizes 32,64] [--batch_size 16]
"""

import json
import os
import subprocess
import sys
import time

from absl import app, flags

from memory import memory_kib

FLAGS = flags.FLAGS
flags.DEFINE_list("sizes", ["32", "64"], "Image heights and widths (multiples of 4·2^L).")
flags.DEFINE_integer("batch_size", 16, "Images per sample call.")
flags.DEFINE_integer("num_layers", 8, "Gated layers of the Gated PixelCNN and of the base.")
flags.DEFINE_integer("num_filters", 32, "Filters of every network.")
flags.DEFINE_integer("upscale_blocks", 4, "Residual blocks of each upscaling network.")
flags.DEFINE_integer("base_size", 4, "The multiscale model's base image size.")
flags.DEFINE_integer("num_mixtures", 5, "Logistic mixture components.")
flags.DEFINE_list("contenders", ["multiscale", "gated:cached", "gated:naive"],
                  "What to time.")
flags.DEFINE_string("one", None, "Internal: measure one contender (JSON) and print JSON.")

LABELS = {"multiscale": "tfar MultiscalePixelCNN", "gated:cached": "tfar GatedPixelCNN cached",
          "gated:naive": "tfar GatedPixelCNN naive (extrapolated)"}


def build(spec):
    """(distribution, zero-argument timed function, number of sequential steps)."""
    import tensorflow as tf
    import tfar
    size, n, seed = spec["size"], spec["batch_size"], tf.constant([1, 2], tf.int32)
    common = dict(image_shape=(size, size, 3), num_values=256, likelihood="logistic_mixture",
                  num_mixtures=spec["num_mixtures"])
    if spec["contender"] == "multiscale":
        d = tfar.MultiscalePixelCNN(base_size=spec["base_size"], base_layers=spec["num_layers"],
                                    base_filters=spec["num_filters"],
                                    upscale_blocks=spec["upscale_blocks"],
                                    upscale_filters=spec["num_filters"], **common)
        return d, lambda: d.sample(n, seed=seed), d.schedule.num_steps
    d = tfar.GatedPixelCNN(num_layers=spec["num_layers"], num_filters=spec["num_filters"],
                           **common)
    if spec["contender"] == "gated:cached":
        return d, lambda: d.sample(n, seed=seed, method="cached"), d.schedule.num_steps
    x = tf.zeros([n, size * size * 3])
    return d, lambda: d.network(x), d.schedule.num_steps      # one pass of the naive loop


def measure_one(spec):
    import tensorflow as tf
    d, fn, steps = build(spec)
    compiled = tf.function(fn)
    compiled()                                                     # trace and warm up
    rss_before = memory_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                   # resets VmHWM to the current RSS
    begin = time.perf_counter()
    compiled()
    seconds = time.perf_counter() - begin
    if spec["contender"] == "gated:naive":
        seconds *= steps                                       # one full pass per step
    return dict(spec, seconds=seconds, steps=steps, peak_rss_mb=memory_kib("VmHWM") / 1024,
                rss_before_mb=rss_before / 1024,
                parameters=sum(int(v.shape.num_elements()) for v in d.trainable_variables))


def run_one(spec):
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), f"--one={json.dumps(spec)}"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if result.returncode != 0:
        raise RuntimeError(f"{spec} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    if FLAGS.one:
        print(json.dumps(measure_one(json.loads(FLAGS.one))))
        return
    for size in (int(s) for s in FLAGS.sizes):
        rows = {}
        for contender in FLAGS.contenders:
            spec = dict(contender=contender, size=size, batch_size=FLAGS.batch_size,
                        num_layers=FLAGS.num_layers, num_filters=FLAGS.num_filters,
                        upscale_blocks=FLAGS.upscale_blocks, base_size=FLAGS.base_size,
                        num_mixtures=FLAGS.num_mixtures)
            rows[contender] = run_one(spec)
            print(f"  measured {LABELS[contender]} at {size}x{size}x3: "
                  f"{rows[contender]['seconds']:.2f} s", flush=True)
        print(f"\n{size}x{size}x3, 256 values, batch {FLAGS.batch_size}, "
              f"{FLAGS.num_layers} gated layers × {FLAGS.num_filters} filters, "
              f"upscalers {FLAGS.upscale_blocks} blocks")
        print(f"{'sampler':42s} {'steps':>6s} {'seconds':>10s} {'peak RSS MB':>12s} "
              f"{'parameters':>11s}")
        for contender, row in rows.items():
            print(f"{LABELS[contender]:42s} {row['steps']:6d} {row['seconds']:10.2f} "
                  f"{row['peak_rss_mb']:12.0f} {row['parameters']:11d}")
        if "multiscale" in rows:
            for other in ("gated:cached", "gated:naive"):
                if other in rows:
                    print(f"speed-up of multiscale over {LABELS[other]}: "
                          f"{rows[other]['seconds'] / rows['multiscale']['seconds']:.1f}x")


if __name__ == "__main__":
    app.run(main)
