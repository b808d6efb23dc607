"""tfar MADE vs TFP's `tfb.AutoregressiveNetwork`, side by side on binarized MNIST.

Both models: one MADE, left-to-right order, the same hidden units, ReLU, a Bernoulli
head, Keras 3 Adam with the same learning rate, the same batches in the same order, the
same number of steps, each train step a `tf.function`. Training is timed in interleaved
chunks (tfar, TFP, tfar, TFP, …) so both see the same machine load;
who goes first alternates. Test NLL is the mean
over the whole test split, in nats per image.

Data: MNIST IDX files in --data_dir; the first 8,000 images train, the last 2,000 test,
binarized with x > 127 (the split of ../shared/data/README.md; not comparable with the
papers' 50,000-image binarized MNIST).

  python benchmarks/made_vs_tfp.py --data_dir ../shared/data/mnist [--num_masks 8]
"""

import json
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
flags.DEFINE_integer("hidden_units", 500, "Hidden units of the one hidden layer.")
flags.DEFINE_integer("batch_size", 100, "Training batch size.")
flags.DEFINE_integer("steps", 3000, "Training steps per model.")
flags.DEFINE_integer("chunk", 50, "Steps per timed chunk (chunks alternate between models).")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
flags.DEFINE_integer("seed", 0, "Seed for weights, batch order and mask draws.")
flags.DEFINE_integer("num_masks", 1, "If > 1, also train a tfar MADE with this many "
                     "connectivity-agnostic mask sets and report its ensemble NLL.")
flags.DEFINE_string("column_blocks", "auto", "tfar MADE's column_blocks: 'auto' or an int "
                    "(1: one dense masked kernel per layer, as TFP stores it).")
flags.DEFINE_string("output", None, "Optional JSON file for the results.")


def load_binarized_mnist(data_dir):
    def split(name):
        images = tfar.data.load(f"idx:{data_dir}", name, binarize="fixed").batch(10000)
        return next(iter(images)).numpy().reshape(-1, 784)

    return split("test[:8000]"), split("test[8000:]")


class Contender:
    """A model, its train step and its test NLL, trained on the shared batch order."""

    def __init__(self, name, variables, loss_fn, nll_fn):
        self.name, self.variables, self.nll_fn = name, variables, nll_fn
        self.optimizer = keras.optimizers.Adam(FLAGS.learning_rate)
        self.optimizer.build(variables)
        self.seconds, self.steps_done, self.last_loss = 0.0, 0, float("nan")

        @tf.function
        def train_step(x, step):
            with tf.GradientTape() as tape:
                loss = loss_fn(x, step)
            self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        self.train_step = train_step

    def run(self, batches, start):
        begin = time.perf_counter()
        for i, x in enumerate(batches):
            loss = self.train_step(x, tf.constant(start + i))
        self.last_loss = float(loss)  # waits for the last step
        self.seconds += time.perf_counter() - begin
        self.steps_done += len(batches)

    def test_nll(self, test):
        nll_fn = tf.function(self.nll_fn)
        return float(np.mean(np.concatenate([nll_fn(tf.constant(test[i:i + 500])).numpy()
                                             for i in range(0, len(test), 500)])))


def tfar_contender(name, num_masks):
    d = tfar.MADE(event_shape=(784,), num_values=2, hidden_units=(FLAGS.hidden_units,),
                  hidden_degrees="random" if num_masks > 1 else "equal",
                  num_masks=num_masks, seed=FLAGS.seed,
                  column_blocks=FLAGS.column_blocks)
    contender = Contender(name, d.trainable_variables,
                          lambda x, step: d.training_loss(x, seed=tf.stack([FLAGS.seed, step])),
                          lambda x: -d.log_prob(x))
    contender.distribution = d
    return contender


def tfp_contender():
    made = tfp.bijectors.AutoregressiveNetwork(
        params=1, event_shape=[784], hidden_units=[FLAGS.hidden_units], activation="relu")
    made.build((None, 784))

    def nll(x):
        logits = made(x)[..., 0]
        return -tfp.distributions.Independent(tfp.distributions.Bernoulli(logits=logits), 1).log_prob(x)

    return Contender("TFP AutoregressiveNetwork", made.trainable_variables,
                     lambda x, step: tf.reduce_mean(nll(x)), nll)


def train_interleaved(contenders, batches):
    """Trains all contenders on the same batches in alternating timed chunks."""
    for c in contenders:  # trace outside the timed chunks
        c.train_step.get_concrete_function(batches[0], tf.constant(0))
    for start in range(0, FLAGS.steps, FLAGS.chunk):
        chunk = batches[start:start + FLAGS.chunk]
        for c in (contenders if start // FLAGS.chunk % 2 == 0 else contenders[::-1]):
            c.run(chunk, start)  # who goes first alternates between chunks
        print(f"  step {start + len(chunk):5d}: " + ", ".join(
            f"{c.name} loss {c.last_loss:.2f}" for c in contenders), flush=True)


def main(_):
    keras.utils.set_random_seed(FLAGS.seed)
    train, test = load_binarized_mnist(FLAGS.data_dir)
    batches = shuffled_batches(train, FLAGS.batch_size, FLAGS.steps, FLAGS.seed)

    contenders = [tfar_contender("tfar MADE", 1), tfp_contender()]
    print(f"train {len(train)} / test {len(test)} binarized MNIST images; "
          f"{FLAGS.steps} steps of batch {FLAGS.batch_size}", flush=True)
    train_interleaved(contenders, batches)
    if FLAGS.num_masks > 1:  # trained after the timed pair, so it does not disturb their ratio
        ensemble = tfar_contender(f"tfar MADE, {FLAGS.num_masks} masks", FLAGS.num_masks)
        train_interleaved([ensemble], batches)
        contenders.append(ensemble)

    results = {}
    for c in contenders:
        row = {"images_per_second": c.steps_done * FLAGS.batch_size / c.seconds,
               "test_nll": c.test_nll(test)}
        if hasattr(c, "distribution") and c.distribution.num_masks > 1:
            d = c.distribution
            row["test_nll_one_mask"] = float(-np.mean(d.log_prob(test, mask_index=0).numpy()))
        results[c.name] = row

    mine, theirs = results["tfar MADE"], results["TFP AutoregressiveNetwork"]
    print(f"\n{'model':36s} {'train images/s':>15s} {'test NLL (nats)':>16s}")
    for name, row in results.items():
        extra = (f"   (one mask: {row['test_nll_one_mask']:.2f})" if "test_nll_one_mask" in row else "")
        print(f"{name:36s} {row['images_per_second']:15.0f} {row['test_nll']:16.2f}{extra}")
    ratios = {"throughput_tfar_over_tfp": mine["images_per_second"] / theirs["images_per_second"],
              "nll_tfar_minus_tfp": mine["test_nll"] - theirs["test_nll"],
              "nll_tfar_over_tfp": mine["test_nll"] / theirs["test_nll"]}
    print(f"\ntfar/TFP throughput ratio: {ratios['throughput_tfar_over_tfp']:.3f}")
    print(f"tfar/TFP test NLL ratio:   {ratios['nll_tfar_over_tfp']:.4f} "
          f"(tfar - TFP = {ratios['nll_tfar_minus_tfp']:+.2f} nats)")
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump({"flags": {k: FLAGS[k].value for k in
                                 ("hidden_units", "batch_size", "steps", "learning_rate", "seed",
                                  "num_masks", "column_blocks")},
                       "results": results, "ratios": ratios}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
