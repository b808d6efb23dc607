"""Sampling speed of an exported model through TF Serving's loader, beside Python's.

For each model (untrained weights; timing only) it measures, side by side in one run, the
seconds to draw --batch_size samples with

  python              `d.sample(n, seed=…)` in a `tf.function` (the cached sampler);
  python compiled     the same with `jit_compile=True` (its loop compiled with XLA);
  TF1 loader          the exported `sample` signature (`tfar.export.export(d, dir)`),
                      run in a fresh process without tfar by
                      `tf.compat.v1.saved_model.loader.load` and `Session.run`, TF
                      Serving's path;
  TF1 loader compiled the same for `export(d, dir, jit_compile=True)` (TF Serving runs
                      it with `--xla_cpu_compilation_enabled=true`);

each after one warm-up call (which pays tracing, graph optimization and XLA compilation;
printed apart), then the median of --repeats calls. It also counts the images each path
draws unlike Python's uncompiled path from the same seed (0 but for a draw within float
rounding of a bin edge: docs/DESIGN.md, pitfalls).

  python benchmarks/export_sampling.py [--models gated,pixelcnn,pixelcnnpp] [--batch_size 16]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_list("models", ["gated", "pixelcnn", "made", "pixelcnnpp"], "Models to time.")
flags.DEFINE_integer("batch_size", 16, "Samples per call.")
flags.DEFINE_integer("repeats", 3, "Timed calls per path (the median is printed).")
flags.DEFINE_integer("size", None, "Override the images' height and width (smoke tests).")
flags.DEFINE_string("load", None, "Internal: EXPORT_DIR,NUM,SEED0,SEED1,REPEATS,OUT.npy: "
                    "time the TF1 loader and print JSON.")

SEED = (1, -2)


def build(name):
    """(description, distribution) with untrained weights."""
    import tfar
    size = FLAGS.size
    if name == "made":
        dims = (size or 28) ** 2
        return f"MADE 500, {dims} binary dims", tfar.MADE(
            event_shape=(dims,), num_values=2, hidden_units=(500,))
    if name == "pixelcnnpp":
        shape = (size or 32, size or 32, 3)
        return ("PixelCNN++ 1 level × 3 blocks × 32, 32×32×3, 256 values",
                tfar.PixelCNNPlusPlus(image_shape=shape, num_values=256, num_resnet=3,
                                      num_hierarchies=1, num_filters=32, num_mixtures=5,
                                      dropout=0.0))
    model = {"gated": tfar.GatedPixelCNN, "pixelcnn": tfar.PixelCNN}[name]
    shape = (size or 28, size or 28, 1)
    return (f"{model.__name__} 7 × 32, {shape[0]}×{shape[1]}×1 binary",
            model(image_shape=shape, num_values=2, likelihood="bernoulli", num_layers=7,
                  num_filters=32))


def timed(call, repeats):
    """(first call's seconds, median seconds of `repeats` more, last result)."""
    begin = time.perf_counter()
    result = call()
    first = time.perf_counter() - begin
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - begin)
    return first, statistics.median(times), result


def load_and_time(argument):
    """In a fresh process without tfar: the exported `sample` through the TF1 loader."""
    import numpy as np
    import tensorflow as tf
    export_dir, num, seed0, seed1, repeats, out = argument.split(",")
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(
            session, [tf.saved_model.SERVING], export_dir)
        signature = meta_graph.signature_def["sample"]
        feed = {signature.inputs["num_samples"].name: np.int32(num),
                signature.inputs["seed"].name: np.array([seed0, seed1], np.int32)}
        fetch = signature.outputs["samples"].name
        first, median, samples = timed(lambda: session.run(fetch, feed), int(repeats))
    np.save(out, samples)
    print(json.dumps({"first": first, "seconds": median}))


def through_loader(export_dir, work):
    import numpy as np
    out = os.path.join(work, "samples.npy")
    argument = ",".join(map(str, [export_dir, FLAGS.batch_size, *SEED, FLAGS.repeats, out]))
    result = subprocess.run([sys.executable, os.path.abspath(__file__), f"--load={argument}"],
                            capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if result.returncode != 0:
        raise RuntimeError(f"the TF1 loader failed on {export_dir}:\n{result.stderr[-3000:]}")
    timing = json.loads(result.stdout.strip().splitlines()[-1])
    return timing["first"], timing["seconds"], np.load(out)


def measure(name):
    import numpy as np
    import tensorflow as tf
    import tfar.export
    description, d = build(name)
    seed = tf.constant(SEED, tf.int32)
    rows = {}
    for label, jit in (("python", False), ("python compiled", True)):
        sample = tf.function(lambda jit=jit: d.sample(FLAGS.batch_size, seed=seed,
                                                      jit_compile=jit))
        first, seconds, samples = timed(lambda: sample().numpy(), FLAGS.repeats)
        rows[label] = (first, seconds, samples)
    with tempfile.TemporaryDirectory(prefix="tfar_export_sampling_") as work:
        for label, jit in (("TF1 loader", False), ("TF1 loader compiled", True)):
            export_dir = tfar.export.export(d, os.path.join(work, label.replace(" ", "_")),
                                            jit_compile=jit)
            rows[label] = through_loader(export_dir, work)
    reference = rows["python"][2]
    print(f"\n{description}: batch {FLAGS.batch_size}, seed {SEED}")
    print(f"{'path':22s} {'seconds':>9s} {'first call':>11s} {'vs python':>10s} "
          f"{'images unlike python':>21s}")
    results = {}
    for label, (first, seconds, samples) in rows.items():
        unlike = differing_images(samples, reference)
        print(f"{label:22s} {seconds:9.3f} {first:11.2f} "
              f"{rows['python'][1] / seconds:9.2f}x {unlike:>12d} of {len(reference):<5d}")
        results[label] = {"seconds": seconds, "first_call_seconds": first,
                          "images_unlike_python": unlike}
    return results


def differing_images(samples, reference):
    """How many of the samples differ from the reference's (same seed) in any value: a
    draw within float rounding of a bin edge can differ between paths whose params
    differ in the last bits (docs/DESIGN.md, pitfalls), and a raster model's later
    pixels follow it."""
    import numpy as np
    different = np.asarray(samples) != np.asarray(reference)
    return int(different.reshape(len(different), -1).any(axis=1).sum())


def main(argv):
    del argv
    if FLAGS.load:
        load_and_time(FLAGS.load)
        return
    results = {name: measure(name) for name in FLAGS.models}
    print("\n" + json.dumps(results))


if __name__ == "__main__":
    app.run(main)
