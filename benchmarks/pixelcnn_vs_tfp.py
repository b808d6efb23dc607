"""tfar Gated PixelCNN vs TFP's `tfd.PixelCNN`, side by side on 8-bit MNIST.

Both models: a discretized logistic mixture over 256 pixel values with the same number of
components (--num_mixtures), the same filters (--num_filters), Keras 3 Adam with the same
learning rate (decayed to 0 by a cosine over the run, --cosine), the same batches in the
same order, the same number of steps, the same seed, each train step a `tf.function`.
Training is timed in interleaved chunks (tfar, TFP, TFP, tfar, …: who goes first
alternates) so both see the same machine load.

  tfar   `tfar.GatedPixelCNN(likelihood="logistic_mixture")`: --num_layers gated blocks
         (the first a 7×7 mask-A block, the rest 3×3), vertical and horizontal stacks,
         skip connections summed into a 1×1 output network.
  TFP    `tfd.PixelCNN` (PixelCNN++, Salimans et al. 2017): gated resnet layers, each with
         two masked convolutions per stack, concat_elu, in a U-net of `num_hierarchies`
         levels with `num_resnet` layers per level; as shipped (weight normalization with
         data-dependent initialization on the first training batch), except
         dropout_p=0. Its masks are kernel *constraints*, which hold only after the
         optimizer has applied them; the script applies them once before training (Keras
         3 Adam re-applies them after every step), and checks both models' causality
         after training (the "autoregressive leak" line must read 0, up to rounding).

How sizes are matched: same F, same K, and the same number of gated layers. A TFP U-net
of H levels and R resnet layers per level has H·R gated resnet layers going down and
R + (H − 1)(R + 1) coming up, 2HR + H − 1 in all; the script picks the (H, R) whose
count is nearest --num_layers, preferring fewer levels (no down-sampling) on ties, so an
even L gets H = 1, R = L/2 exactly (--num_hierarchies / --num_resnet override it). Each
TFP layer is heavier than a tfar block (two full-width convolutions per stack, concat_elu
doubling their inputs), so TFP has several times the parameters at the same F and L:
the script prints both counts (and tfar's variables that get no gradient).

Measured: train images/s over the timed chunks; test NLL in bits/dim over the whole
2,000-image test split (nats / (784 · ln 2)); the seconds to draw --num_samples images
(tfar: `d.sample(n, seed=…)`, its default cached sampler, which computes each pixel's
receptive field only (`benchmarks/sampling.py` sets it beside the naive loop); TFP:
`dist.sample(n, seed=…)`, one network pass per pixel, plus one), each wrapped in a
`tf.function` that is traced first (`get_concrete_function`, timed apart) and then timed
over one call, so the sampling time excludes tracing (it does include the graph's
first-run optimization); then the tfar/TFP ratios.

Data: MNIST IDX files in --data_dir, values 0..255; the first 8,000 images of the MNIST
test set train, its last 2,000 test (the split of ../shared/data/README.md, the only
MNIST on these machines). With so little data and training, the bits/dim are not
comparable to the papers' figures (PixelCNN++ and Gated PixelCNN train on 60,000 images
for days); compare the two models side by side only.

  python benchmarks/pixelcnn_vs_tfp.py --data_dir ../shared/data/mnist \\
      [--steps 400 --batch_size 32 --num_filters 32 --num_layers 4 --num_mixtures 5]
"""

import json
import math
import time

from absl import app, flags

import tfar  # sets the Keras backend first
import tfar.data
from batches import shuffled_batches

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp


FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", "../shared/data/mnist", "Folder with t10k-images-idx3-ubyte(.gz).")
flags.DEFINE_integer("steps", 400, "Training steps per model.")
flags.DEFINE_integer("batch_size", 32, "Training batch size.")
flags.DEFINE_integer("num_filters", 32, "F, filters of both networks.")
flags.DEFINE_integer("num_layers", 4, "L, tfar's gated blocks; TFP gets the nearest count of "
                     "gated resnet layers (see the module docstring).")
flags.DEFINE_integer("num_mixtures", 5, "K, logistic mixture components of both.")
flags.DEFINE_integer("num_hierarchies", None, "Override TFP's num_hierarchies.")
flags.DEFINE_integer("num_resnet", None, "Override TFP's num_resnet.")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
flags.DEFINE_bool("cosine", True, "Decay the learning rate to 0 over --steps (cosine) for "
                  "both models, so the final weights are not at a random point of Adam's noise.")
flags.DEFINE_integer("chunk", 25, "Steps per timed chunk (chunks alternate between models).")
flags.DEFINE_integer("seed", 0, "Seed for weights, batch order and sampling.")
flags.DEFINE_bool("sample", True, "Time drawing --num_samples images from each model.")
flags.DEFINE_integer("num_samples", 16, "Images drawn by the sampling timing.")
flags.DEFINE_string("output", None, "Optional JSON file for the results.")

IMAGE_SHAPE = (28, 28, 1)
NUM_PIXELS = 28 * 28
TFAR, TFP = "tfar GatedPixelCNN", "TFP PixelCNN"


def load_mnist(data_dir):
    def split(name):
        images = tfar.data.load(f"idx:{data_dir}", name).batch(10000)
        return next(iter(images)).numpy()  # float32 [N, 28, 28, 1], values 0..255

    return split("test[:8000]"), split("test[8000:]")


def tfp_layout(num_layers):
    """(num_hierarchies, num_resnet) whose 2HR + H − 1 gated layers are nearest num_layers."""
    candidates = [(h, r) for h in range(1, 5) for r in range(1, num_layers + 1)]
    h, r = min(candidates, key=lambda hr: (abs(2 * hr[0] * hr[1] + hr[0] - 1 - num_layers), hr[0]))
    h = FLAGS.num_hierarchies or h
    r = FLAGS.num_resnet or r
    return h, r


def count(variables):
    return int(sum(np.prod(v.shape) for v in variables))


class Contender:
    """A model, its train step, test NLL and sampler, trained on the shared batch order."""

    def __init__(self, name, distribution, variables, loss_fn, nll_fn, pixel_params_fn):
        self.name, self.distribution, self.variables = name, distribution, variables
        self.nll_fn, self.pixel_params_fn = nll_fn, pixel_params_fn
        rate = (keras.optimizers.schedules.CosineDecay(FLAGS.learning_rate, FLAGS.steps)
                if FLAGS.cosine else FLAGS.learning_rate)
        self.optimizer = keras.optimizers.Adam(rate)
        self.optimizer.build(variables)
        self.seconds, self.steps_done = 0.0, 0
        self.first_loss = self.last_loss = float("nan")

        @tf.function
        def train_step(x):
            with tf.GradientTape() as tape:
                loss = loss_fn(x)
            self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        self.train_step = train_step

    def params_without_gradient(self, x):
        with tf.GradientTape() as tape:
            loss = self.loss_on(x)
        grads = tape.gradient(loss, self.variables)
        return count([v for v, g in zip(self.variables, grads) if g is None])

    def run(self, batches):
        begin = time.perf_counter()
        for x in batches:
            loss = self.train_step(x)
        self.last_loss = float(loss)  # waits for the last step
        self.seconds += time.perf_counter() - begin
        self.steps_done += len(batches)

    def test_bits_per_dim(self, test):
        nll_fn = tf.function(self.nll_fn)
        nats = np.concatenate([nll_fn(tf.constant(test[i:i + 250])).numpy()
                               for i in range(0, len(test), 250)])
        return float(np.mean(nats)) / (NUM_PIXELS * math.log(2.0))

    def autoregressive_leak(self, test):
        """Max |Δ params| at pixels ≤ p when every pixel ≥ p changes (0 for a causal model)."""
        rng = np.random.default_rng(FLAGS.seed)
        x = test[:2].reshape(2, NUM_PIXELS)
        leak = 0.0
        for p in (0, 29, 405, NUM_PIXELS - 1):
            y = x.copy()
            y[:, p:] = rng.integers(0, 256, y[:, p:].shape)
            before, after = (self.pixel_params_fn(tf.constant(z.reshape((2,) + IMAGE_SHAPE),
                                                              tf.float32)).numpy()
                             for z in (x, y))
            leak = max(leak, float(np.max(np.abs(before[:, :p + 1] - after[:, :p + 1]))))
        return leak

    def time_sampling(self):
        sample = tf.function(lambda: self.distribution.sample(FLAGS.num_samples, seed=FLAGS.seed))
        begin = time.perf_counter()
        sample.get_concrete_function()
        trace = time.perf_counter() - begin
        begin = time.perf_counter()
        images = sample().numpy()
        seconds = time.perf_counter() - begin
        return trace, seconds, images


def tfar_contender():
    d = tfar.GatedPixelCNN(image_shape=IMAGE_SHAPE, num_values=256,
                           likelihood="logistic_mixture", num_mixtures=FLAGS.num_mixtures,
                           num_layers=FLAGS.num_layers, num_filters=FLAGS.num_filters)

    def pixel_params(x):  # [B, 28, 28, 1] -> [B, 784, P]
        return d.network(tf.reshape(x, [-1, NUM_PIXELS]))[0]

    contender = Contender(TFAR, d, d.trainable_variables, d.training_loss,
                          lambda x: -d.log_prob(x), pixel_params)
    contender.loss_on = d.training_loss
    return contender


def tfp_contender(first_batch):
    num_hierarchies, num_resnet = tfp_layout(FLAGS.num_layers)
    dist = tfp.distributions.PixelCNN(
        image_shape=IMAGE_SHAPE, num_resnet=num_resnet, num_hierarchies=num_hierarchies,
        num_filters=FLAGS.num_filters, num_logistic_mix=FLAGS.num_mixtures, dropout_p=0.0,
        high=255, low=0)
    # The constructor builds the tf_keras network, so its variables exist already.
    variables = dist.network.trainable_variables
    if not variables:
        raise RuntimeError("TFP's PixelCNN has no trainable variables.")
    # Its causal masks are kernel constraints, applied by the optimizer after each update:
    # apply them once now so that the untrained network is causal too.
    for v in variables:
        if getattr(v, "constraint", None) is not None:
            v.assign(v.constraint(v))
    # Weight norm's data-dependent initialization runs on the first call with data.
    dist.log_prob(first_batch)

    def loss(x):
        return -tf.reduce_mean(dist.log_prob(x))

    def pixel_params(x):  # [B, 28, 28, 1] -> [B, 784, K·3]
        logits, locs, scales = dist.network(2.0 * x / 255.0 - 1.0, training=False)
        return tf.reshape(tf.concat([logits[..., None], locs, scales], axis=-1),
                          [tf.shape(x)[0], NUM_PIXELS, -1])

    contender = Contender(TFP, dist, variables, loss, lambda x: -dist.log_prob(x),
                          pixel_params)
    contender.loss_on = loss
    contender.layout = {"num_hierarchies": num_hierarchies, "num_resnet": num_resnet,
                        "gated_layers": 2 * num_hierarchies * num_resnet + num_hierarchies - 1}
    return contender


def train_interleaved(contenders, batches):
    """Trains all contenders on the same batches in alternating timed chunks."""
    for c in contenders:  # trace outside the timed chunks
        c.train_step.get_concrete_function(batches[0])
    for start in range(0, FLAGS.steps, FLAGS.chunk):
        chunk = batches[start:start + FLAGS.chunk]
        for c in (contenders if start // FLAGS.chunk % 2 == 0 else contenders[::-1]):
            c.run(chunk)  # who goes first alternates between chunks
        print(f"  step {start + len(chunk):5d}: " + ", ".join(
            f"{c.name} loss {c.last_loss / (NUM_PIXELS * math.log(2.0)):.3f} bits/dim"
            for c in contenders), flush=True)


def main(_):
    keras.utils.set_random_seed(FLAGS.seed)
    train, test = load_mnist(FLAGS.data_dir)
    batches = shuffled_batches(train, FLAGS.batch_size, FLAGS.steps, FLAGS.seed)

    contenders = [tfar_contender(), tfp_contender(batches[0])]
    layout = contenders[1].layout
    print(f"train {len(train)} / test {len(test)} 8-bit MNIST images; {FLAGS.steps} steps of "
          f"batch {FLAGS.batch_size}, Adam lr {FLAGS.learning_rate}"
          f"{' (cosine decay)' if FLAGS.cosine else ''}, seed {FLAGS.seed}, "
          f"chunks of {FLAGS.chunk}")
    print(f"F={FLAGS.num_filters} filters, K={FLAGS.num_mixtures} logistic components; "
          f"tfar num_layers={FLAGS.num_layers} gated blocks; TFP num_hierarchies="
          f"{layout['num_hierarchies']}, num_resnet={layout['num_resnet']} "
          f"({layout['gated_layers']} gated resnet layers), dropout_p=0")
    dead = {c.name: c.params_without_gradient(batches[0]) for c in contenders}
    for c in contenders:
        print(f"{c.name}: {count(c.variables):,} trainable parameters in {len(c.variables)} "
              f"variables ({dead[c.name]:,} get no gradient)", flush=True)
        c.first_loss = float(c.loss_on(batches[0]))
    train_interleaved(contenders, batches)

    results = {}
    for c in contenders:
        row = {"images_per_second": c.steps_done * FLAGS.batch_size / c.seconds,
               "train_seconds": c.seconds,
               "test_bits_per_dim": c.test_bits_per_dim(test),
               "params": count(c.variables),
               "params_without_gradient": dead[c.name],
               "first_loss_nats": c.first_loss,
               "last_loss_nats": c.last_loss,
               "autoregressive_leak": c.autoregressive_leak(test)}
        results[c.name] = row
    if FLAGS.sample:
        print(f"\nsampling {FLAGS.num_samples} images from each model …", flush=True)
        for c in contenders:
            trace, seconds, images = c.time_sampling()
            results[c.name].update(sample_trace_seconds=trace, sample_seconds=seconds,
                                   sample_mean_value=float(images.mean()),
                                   sample_finite=bool(np.all(np.isfinite(images))))

    mine, theirs = results[TFAR], results[TFP]
    header = f"\n{'model':20s} {'train images/s':>15s} {'test bits/dim':>14s} {'params':>10s}"
    print(header + (f" {'sample s':>9s} {'(trace s)':>9s}" if FLAGS.sample else ""))
    for name, row in results.items():
        line = (f"{name:20s} {row['images_per_second']:15.1f} {row['test_bits_per_dim']:14.4f} "
                f"{row['params']:10,d}")
        if FLAGS.sample:
            line += f" {row['sample_seconds']:9.2f} {row['sample_trace_seconds']:9.2f}"
        print(line)
    ratios = {"throughput_tfar_over_tfp": mine["images_per_second"] / theirs["images_per_second"],
              "bits_per_dim_tfar_over_tfp": mine["test_bits_per_dim"] / theirs["test_bits_per_dim"],
              "bits_per_dim_tfar_minus_tfp": (mine["test_bits_per_dim"]
                                              - theirs["test_bits_per_dim"]),
              "params_tfar_over_tfp": mine["params"] / theirs["params"]}
    if FLAGS.sample:
        ratios["sample_seconds_tfar_over_tfp"] = mine["sample_seconds"] / theirs["sample_seconds"]
    print(f"\ntfar/TFP throughput ratio:    {ratios['throughput_tfar_over_tfp']:.3f}")
    print(f"tfar/TFP test bits/dim ratio: {ratios['bits_per_dim_tfar_over_tfp']:.4f} "
          f"(tfar - TFP = {ratios['bits_per_dim_tfar_minus_tfp']:+.4f} bits/dim)")
    print(f"tfar/TFP parameter ratio:     {ratios['params_tfar_over_tfp']:.3f}")
    if FLAGS.sample:
        print(f"tfar/TFP sampling time ratio: {ratios['sample_seconds_tfar_over_tfp']:.3f} "
              f"({FLAGS.num_samples} images; after tracing)")
        print("sample mean pixel value: " + ", ".join(
            f"{name} {row['sample_mean_value']:.1f}" for name, row in results.items())
            + f" (test set {test.mean():.1f})")
    print("autoregressive leak (0 up to rounding for a causal model): " + ", ".join(
        f"{name} {row['autoregressive_leak']:.3g}" for name, row in results.items()))
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump({"flags": {k: FLAGS[k].value for k in
                                 ("steps", "batch_size", "num_filters", "num_layers",
                                  "num_mixtures", "learning_rate", "cosine", "chunk", "seed",
                                  "sample", "num_samples")},
                       "tfp_layout": layout, "results": results, "ratios": ratios}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
