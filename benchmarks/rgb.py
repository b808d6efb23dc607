"""Natural colour photographs: tfar PixelCNN++, tfar Gated PixelCNN and TFP's PixelCNN at
equal parameter counts, side by side.

Data: `photos:<--size>` (RGB patches of scikit-image's photographs, 8-bit; train and test
from different photographs: `tfar.data.photos`), offline.

Contenders, every one with the discretized logistic mixture over 256 values (--num_mixtures
components, R→G→B coupling), dropout 0:
  TFP PixelCNN        `tfd.PixelCNN(num_resnet=--num_resnet, num_hierarchies=
                      --num_hierarchies, num_filters=--num_filters)` as shipped (masked
                      convolutions as kernel constraints, weight normalization); its
                      free parameter count is the target.
  tfar PixelCNN++     `tfar.PixelCNNPlusPlus` with the same num_resnet and num_hierarchies,
                      its num_filters the one whose free parameter count is nearest the
                      target, weight-normalized (--weight_norm) like TFP's, with the
                      data-dependent initialization on the first batch (TFP's too).
  tfar GatedPixelCNN  `tfar.GatedPixelCNN(likelihood="logistic_mixture")`, --gated_layers
                      blocks, its num_filters likewise.
Free parameters are the trainable entries training can change: TFP's PixelCNN++ runs its
shifted convolutions as 3×3 (and 4×4 strided) kernels whose masked entries a constraint
holds at zero (at 32 filters 628,292 stored entries, 354,706 free: the same count as
tfar's PixelCNN++ of 32 filters, which is the same network), and a masked convolution
of tfar's counts its unmasked entries. Both counts and the ratio of free counts to the
target are printed (the goal: within 10%).

Training: the same batches in the same order (tfar's training stream of the train split,
`TrainBatches`), Keras 3 Adam with a cosine decay to 0 over --steps, the same seed; timed
in alternating chunks of --chunk steps (the order rotates each chunk) so every model sees
the same machine load. Figures: train images/s, the last chunk's train loss and the test
split's bits/dim, and the seconds to draw --num_samples images with each sampler a model
has (TFP's naive loop; tfar's naive and cached), traced first and timed over one call.

With --profile_steps N, after everything else, each model trains N more steps under the
TF profiler and the script prints its op types by total self time (xprof's
framework_op_stats; `pip install xprof`): where a step's time goes beside the
convolutions' arithmetic (pads and slices, layout transposes, casts).

  python benchmarks/rgb.py                         # photos:16, 600 steps
  python benchmarks/rgb.py --steps=100 --num_samples=0 --profile_steps=20
  python benchmarks/rgb.py --data_init=false       # no data-dependent initialization
"""

import glob
import json
import math
import tempfile
import time

from absl import app, flags

import tfar  # sets the Keras backend first
import tfar.data
from tfar.training import input_pipeline
from batches import data_config

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

FLAGS = flags.FLAGS
flags.DEFINE_integer("size", 16, "Patch size (photos:<size>).")
flags.DEFINE_integer("steps", 600, "Training steps per model.")
flags.DEFINE_integer("batch_size", 16, "Training batch size.")
flags.DEFINE_integer("num_resnet", 1, "TFP's and PixelCNN++'s blocks per resolution.")
flags.DEFINE_integer("num_hierarchies", 2, "TFP's and PixelCNN++'s resolutions.")
flags.DEFINE_integer("num_filters", 32, "TFP's filters (its parameter count is the target).")
flags.DEFINE_integer("gated_layers", 6, "The Gated PixelCNN's blocks.")
flags.DEFINE_integer("num_mixtures", 5, "Logistic mixture components of every model.")
flags.DEFINE_bool("weight_norm", True, "tfar PixelCNN++ with weight normalization (as TFP's).")
flags.DEFINE_bool("data_init", True, "Weight normalization's data-dependent initialization "
                  "on the first batch, for TFP's PixelCNN and tfar's PixelCNN++.")
flags.DEFINE_float("learning_rate", 1e-3, "Adam's initial learning rate.")
flags.DEFINE_integer("chunk", 50, "Steps per timed chunk.")
flags.DEFINE_integer("num_samples", 4, "Images drawn by the sampling timings (0: none).")
flags.DEFINE_integer("test_images", 500, "Test patches scored (the first ones).")
flags.DEFINE_integer("seed", 0, "Seed of weights and batches.")
flags.DEFINE_string("output", None, "Optional JSON file for the results.")
flags.DEFINE_integer("profile_steps", 0, "Profile this many more training steps of each "
                     "model and print its op types by self time (needs xprof).")
flags.DEFINE_integer("profile_top", 12, "Op types printed per profiled model.")


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


def free(variables, network):
    """The entries of `variables` that training can change: a constrained variable's
    (TFP's masks) and a masked kernel's (a layer of `network` with a NumPy `mask` of the
    kernel's shape) nonzero mask entries, every entry of the others."""
    masks = {}
    for layer in network._flatten_layers():
        mask = getattr(layer, "mask", None)
        if isinstance(mask, np.ndarray):
            masks.update({id(w): mask for w in layer.trainable_weights
                          if tuple(w.shape) == mask.shape})
    total = 0
    for v in variables:
        if getattr(v, "constraint", None) is not None:
            total += int(np.count_nonzero(v.constraint(tf.ones_like(v))))
        else:
            total += int(np.count_nonzero(masks[id(v)]) if id(v) in masks
                         else np.prod(v.shape))
    return total


def tfar_model(kind, num_filters):
    shape = (FLAGS.size, FLAGS.size, 3)
    keras.utils.set_random_seed(FLAGS.seed)
    if kind == "pixelcnnpp":
        return tfar.PixelCNNPlusPlus(image_shape=shape, num_values=256,
                                     num_resnet=FLAGS.num_resnet,
                                     num_hierarchies=FLAGS.num_hierarchies,
                                     num_filters=num_filters, num_mixtures=FLAGS.num_mixtures,
                                     dropout=0.0, weight_norm=FLAGS.weight_norm)
    return tfar.GatedPixelCNN(image_shape=shape, num_values=256, likelihood="logistic_mixture",
                              num_mixtures=FLAGS.num_mixtures, num_layers=FLAGS.gated_layers,
                              num_filters=num_filters)


def matched(kind, target):
    """The tfar model of `kind` whose free parameter count is nearest `target`
    (num_filters searched in 2 … 256)."""
    def size(f):
        d = tfar_model(kind, f)
        return free(d.trainable_variables, d.network)
    low, high = 2, 256
    while high - low > 1:  # the count grows with the filters
        middle = (low + high) // 2
        low, high = (middle, high) if size(middle) <= target else (low, middle)
    best = min((low, high), key=lambda f: abs(size(f) - target))
    return tfar_model(kind, best), best


def tfp_model(first_batch):
    keras.utils.set_random_seed(FLAGS.seed)
    dist = tfp.distributions.PixelCNN(
        image_shape=(FLAGS.size, FLAGS.size, 3), num_resnet=FLAGS.num_resnet,
        num_hierarchies=FLAGS.num_hierarchies, num_filters=FLAGS.num_filters,
        num_logistic_mix=FLAGS.num_mixtures, dropout_p=0.0, high=255, low=0,
        use_data_init=FLAGS.data_init)
    for v in dist.network.trainable_variables:  # its masks are kernel constraints
        if getattr(v, "constraint", None) is not None:
            v.assign(v.constraint(v))
    dist.log_prob(first_batch)  # builds it (and runs its data-dependent initialization)
    return dist


class Contender:
    def __init__(self, name, distribution, variables, filters, samplers):
        self.name, self.distribution, self.variables = name, distribution, variables
        self.filters, self.samplers = filters, samplers
        self.free = free(variables, distribution.network)
        self.optimizer = keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(FLAGS.learning_rate, FLAGS.steps))
        self.optimizer.build(variables)
        self.seconds, self.steps_done, self.losses = 0.0, 0, []

        @tf.function
        def train_step(x):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(distribution.log_prob(x))
            self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        self.train_step = train_step

    def op_profile(self, chunk):
        """{op type: (self-time share, occurrences per step)} of len(chunk) training steps
        under the TF profiler (xprof's framework_op_stats, host ops, idle time left out)."""
        from xprof.convert import raw_to_tool_data
        self.train_step(chunk[0]).numpy()
        logdir = tempfile.mkdtemp()
        tf.profiler.experimental.start(logdir)
        for x in chunk:
            loss = self.train_step(x)
        loss.numpy()
        tf.profiler.experimental.stop()
        data, _ = raw_to_tool_data.xspace_to_tool_data(
            glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True), "framework_op_stats", {})
        table = json.loads(data)[0]
        names = [c["id"] for c in table["cols"]]
        totals = {}
        for row in table["rows"]:
            cells = dict(zip(names, (cell["v"] for cell in row["c"])))
            if cells["type"] == "IDLE":
                continue
            seconds, calls = totals.get(cells["type"], (0.0, 0))
            totals[cells["type"]] = (seconds + cells["total_self_time"],
                                     calls + cells["occurrences"])
        whole = sum(seconds for seconds, _ in totals.values())
        return {op: (seconds / whole, calls / len(chunk), seconds / len(chunk) / 1e3)
                for op, (seconds, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0])}

    def run(self, chunk):
        began = time.perf_counter()
        losses = [self.train_step(x) for x in chunk]
        self.losses = [float(loss) for loss in losses]  # waits for the last step
        self.seconds += time.perf_counter() - began
        self.steps_done += len(chunk)

    def bits_per_dim(self, test):
        log_prob = tf.function(self.distribution.log_prob)
        nats = -np.concatenate([log_prob(tf.constant(test[i:i + 100])).numpy()
                                for i in range(0, len(test), 100)])
        return float(nats.mean() / (test[0].size * math.log(2)))

    def sampling_seconds(self):
        timings = {}
        for method in self.samplers:
            kwargs = {} if method is None else {"method": method}

            @tf.function
            def sample(kwargs=kwargs):  # an int seed: TFP's sampler takes no pair
                return self.distribution.sample(FLAGS.num_samples, seed=FLAGS.seed + 1,
                                                **kwargs)

            sample.get_concrete_function()
            began = time.perf_counter()
            sample().numpy()
            timings[method or "naive"] = time.perf_counter() - began
        return timings


def main(argv):
    del argv
    config = data_config(f"photos:{FLAGS.size}")
    batches = input_pipeline.TrainBatches(config, FLAGS.batch_size, FLAGS.seed)
    stream = tf.data.Dataset.range(10_000).flat_map(batches.epoch)
    chunk_list = [x for x, _ in stream.take(FLAGS.steps)]
    test = tfar.data.read(config.source, "test").images[:FLAGS.test_images].astype(np.float32)
    dist = tfp_model(chunk_list[0])
    target = free(dist.network.trainable_variables, dist.network)
    plusplus, plusplus_filters = matched("pixelcnnpp", target)
    if FLAGS.data_init:  # as TFP's, and the trainer's, on the first batch
        plusplus.initialize_from_data(chunk_list[0])
    gated, gated_filters = matched("gated", target)
    contenders = [
        Contender("TFP PixelCNN", dist, dist.network.trainable_variables, FLAGS.num_filters,
                  [None]),
        Contender("tfar PixelCNN++", plusplus, plusplus.network.trainable_variables,
                  plusplus_filters, ["naive", "cached"]),
        Contender("tfar GatedPixelCNN", gated, gated.network.trainable_variables,
                  gated_filters, ["naive", "cached"])]
    print(f"photos:{FLAGS.size}: {batches.steps_per_epoch * FLAGS.batch_size} train patches "
          f"per epoch, {len(test)} test; {FLAGS.steps} steps of batch {FLAGS.batch_size}")
    for c in contenders:
        print(f"  {c.name:20s} num_filters {c.filters:4d}: {c.free:,} free parameters "
              f"({c.free / target:.3f} of TFP's), {count(c.variables):,} stored", flush=True)
    for c in contenders:  # traced outside the timed chunks
        c.train_step.get_concrete_function(chunk_list[0])
    for k, start in enumerate(range(0, FLAGS.steps, FLAGS.chunk)):
        chunk = chunk_list[start:start + FLAGS.chunk]
        for c in contenders[k % 3:] + contenders[:k % 3]:
            c.run(chunk)
        print(f"  step {start + len(chunk)}: " + ", ".join(
            f"{c.name} {np.mean(c.losses) / (test[0].size * math.log(2)):.3f}"
            for c in contenders) + " bits/dim (train)", flush=True)
    results = {}
    for c in contenders:
        results[c.name] = {
            "num_filters": c.filters, "free_parameters": c.free,
            "stored_parameters": count(c.variables), "free_parameters_over_tfp": c.free / target,
            "train_images_per_second": c.steps_done * FLAGS.batch_size / c.seconds,
            "train_bits_per_dim": float(np.mean(c.losses) / (test[0].size * math.log(2))),
            "test_bits_per_dim": c.bits_per_dim(test),
            "sampling_seconds": c.sampling_seconds() if FLAGS.num_samples else {}}
    reference = results["TFP PixelCNN"]
    print(f"\n{'model':20s} {'free':>9s} {'images/s':>9s} {'vs TFP':>7s} {'train b/d':>9s} "
          f"{'test b/d':>9s}  sampling s ({FLAGS.num_samples} images)")
    for name, row in results.items():
        print(f"{name:20s} {row['free_parameters']:9,d} {row['train_images_per_second']:9.1f} "
              f"{row['train_images_per_second'] / reference['train_images_per_second']:7.2f} "
              f"{row['train_bits_per_dim']:9.4f} {row['test_bits_per_dim']:9.4f}  " + ", ".join(
                  f"{m} {s:.2f}" for m, s in row["sampling_seconds"].items()))
    if FLAGS.profile_steps:
        for c in contenders:
            profile = c.op_profile(chunk_list[:FLAGS.profile_steps])
            results[c.name]["op_profile"] = profile
            step_ms = sum(ms for _, _, ms in profile.values())
            print(f"\n{c.name}: op self time per step {step_ms:.1f} ms (the profiler's "
                  "own overhead included)")
            for op, (share, calls, ms) in list(profile.items())[:FLAGS.profile_top]:
                print(f"  {op:32s} {100 * share:5.1f}%  {ms:7.2f} ms  {calls:6.0f} per step")
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump({"flags": {k: FLAGS[k].value for k in (
                "size", "steps", "batch_size", "num_resnet", "num_hierarchies", "num_filters",
                "gated_layers", "num_mixtures", "weight_norm", "data_init", "learning_rate",
                "chunk", "seed")},
                "results": results}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
