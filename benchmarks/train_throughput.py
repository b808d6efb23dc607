"""Training images/s of configs side by side: one train step (training terms + gradient +
Adam apply, one `tf.function`, as the trainer's) of each model on a fixed batch of its
config's shape and batch size, timed in alternating rounds so that drift in the
machine's load hits every model alike; prints the parameters, the median images/s and
each model's throughput relative to the first.

A model is a config of `configs/` with optional overrides, `name[:key=value,…]`:

  python benchmarks/train_throughput.py --models \\
      pixelcnn_binarized_mnist_small,gated_pixelcnn_binarized_mnist_small,\\
      pixelrnn_binarized_mnist_small:cell=row_lstm,pixelrnn_binarized_mnist_small

(docs/results.md's "same budget" tables: `--shape 28,28,1 --num_values 2`, or `8,8,1` and 17
for the digits configs).

One override is the benchmark's, not the config's: `diagonal_bilstm_scans=2` runs each
Diagonal BiLSTM's two directions as two scans one after the other (the layout before
issue 19, `DiagonalBiLSTM.stacked_scan = False`) instead of one scan over their stacked
states (1, the default), on the same variables:

  python benchmarks/train_throughput.py --models \
      pixelrnn_binarized_mnist_small:diagonal_bilstm_scans=2,pixelrnn_binarized_mnist_small
"""

import importlib
import os
import statistics
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfar  # noqa: E402,F401  (sets the Keras backend first)
from tfar.layers import DiagonalBiLSTM  # noqa: E402
from tfar.training import builders  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("models", ["pixelcnn_binarized_mnist_small",
                             "gated_pixelcnn_binarized_mnist_small"],
                  "Configs (name[:key=value;…] with ';' between overrides).")
flags.DEFINE_list("shape", ["28", "28", "1"], "The images' H, W, C.")
flags.DEFINE_integer("num_values", 2, "Values per dimension.")
flags.DEFINE_integer("rounds", 5, "Alternating rounds.")
flags.DEFINE_integer("steps", 10, "Train steps timed per round.")


def parse(value):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def build(spec, shape):
    """(label, parameters, batch size, a zero-argument train step) for one model."""
    name, _, overrides = spec.partition(":")
    config = importlib.import_module(f"configs.{name}").get_config()
    scans = 1
    for item in filter(None, overrides.split(";")):
        key, _, value = item.partition("=")
        if key == "diagonal_bilstm_scans":
            scans = parse(value)
            if scans not in (1, 2):
                raise ValueError(f"diagonal_bilstm_scans must be 1 or 2; got {value!r}.")
            continue
        config.model[key] = parse(value)
    d = builders.build_distribution(config.model, shape, FLAGS.num_values, seed=0)
    for layer in getattr(d.network, "lstm_layers", []):
        if isinstance(layer, DiagonalBiLSTM):
            layer.stacked_scan = scans == 1
    optimizer = builders.build_optimizer(config.train)
    variables = d.network.trainable_variables
    optimizer.build(variables)
    batch = config.train.batch_size
    x = tf.constant(np.random.default_rng(0).integers(0, FLAGS.num_values, (batch,) + shape),
                    tf.float32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = d.training_terms(x, seed=(0, 1), step=optimizer.iterations)["loss"]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    step()  # traces
    parameters = sum(int(np.prod(v.shape)) for v in variables)
    return spec, parameters, batch, step


def main(argv):
    del argv
    shape = tuple(int(s) for s in FLAGS.shape)
    models = [build(spec, shape) for spec in FLAGS.models]
    seconds = {spec: [] for spec, *_ in models}
    for _ in range(FLAGS.rounds):
        for spec, _, _, step in models:
            step()
            begin = time.perf_counter()
            for _ in range(FLAGS.steps):
                loss = step()
            loss.numpy()
            seconds[spec].append((time.perf_counter() - begin) / FLAGS.steps)
    print(f"{'model':62s} {'parameters':>10s} {'batch':>5s} {'images/s':>9s} {'relative':>8s}")
    first = None
    for spec, parameters, batch, _ in models:
        rate = batch / statistics.median(seconds[spec])
        first = first or rate
        print(f"{spec:62s} {parameters:10d} {batch:5d} {rate:9.1f} {rate / first:8.3f}")


if __name__ == "__main__":
    app.run(main)
