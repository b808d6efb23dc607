"""What the default input checks cost a training step: checks on vs off, interleaved.

`log_prob`, `training_loss` and `complete` check their values by default (integers in
[0, num_values), no NaN/Inf: one fused reduction, `tfar.inputs.InputChecks._check_values`).
This times one train step (training_loss + gradient + Adam apply, one `tf.function`)
of a MADE (784 binary dims, 500 hidden, batch 64) and a Gated PixelCNN (28x28x1 binary,
5 layers x 32 filters, batch 32) traced twice: with the checks, and with the private
switch `tfar.inputs.CHECK_VALUES = False` (the shape checks stay; values pass
unchecked, as before the checks existed). Rounds alternate on/off so drift in the
machine's load hits both alike; it prints the median step times and their ratio.

  python benchmarks/validation_cost.py [--rounds 15 --steps 20]
"""

import statistics
import time

from absl import app, flags

import tfar  # sets the Keras backend first
from tfar import inputs

import keras
import numpy as np
import tensorflow as tf

FLAGS = flags.FLAGS
flags.DEFINE_integer("rounds", 15, "Alternating rounds of checks on, checks off.")
flags.DEFINE_integer("steps", 20, "Train steps timed per round.")
flags.DEFINE_string("models", "made,gated", "Comma-separated: made, gated.")


def models():
    return {
        "made": ("MADE 784 binary dims, 500 hidden, batch 64",
                 lambda: tfar.MADE(event_shape=(784,), num_values=2, hidden_units=(500,)),
                 (64, 784)),
        "gated": ("Gated PixelCNN 28x28x1 binary, 5 layers x 32 filters, batch 32",
                  lambda: tfar.GatedPixelCNN(image_shape=(28, 28, 1), num_values=2,
                                             num_layers=5, num_filters=32,
                                             likelihood="bernoulli"),
                  (32, 28, 28, 1)),
    }


def train_step(d, optimizer, checks):
    """A traced train step; `checks` sets the switch while it traces (read at trace time)."""
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = d.training_loss(x)
        variables = d.network.trainable_variables
        grads = tape.gradient(loss, [v.value for v in variables])
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    def traced(x):
        previous = inputs.CHECK_VALUES
        inputs.CHECK_VALUES = checks
        try:
            return step(x)
        finally:
            inputs.CHECK_VALUES = previous
    return traced


def time_steps(step, x, steps):
    begin = time.perf_counter()
    for _ in range(steps):
        loss = step(x)
    float(loss)  # wait for the last step
    return (time.perf_counter() - begin) / steps


def main(_):
    print(f"device: {tf.config.list_logical_devices()[-1].device_type}; "
          f"{FLAGS.rounds} rounds x {FLAGS.steps} steps, alternating checks on/off")
    for key in FLAGS.models.split(","):
        title, build, shape = models()[key]
        d = build()
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(d.network.trainable_variables)
        x = tf.constant((np.random.default_rng(0).random(shape) < 0.3).astype(np.float32))
        on, off = train_step(d, optimizer, True), train_step(d, optimizer, False)
        for step in (on, off):  # trace and warm up
            time_steps(step, x, 3)
        times = {"on": [], "off": []}
        for r in range(FLAGS.rounds):
            order = (("on", on), ("off", off)) if r % 2 == 0 else (("off", off), ("on", on))
            for name, step in order:
                times[name].append(time_steps(step, x, FLAGS.steps))
        t_on, t_off = statistics.median(times["on"]), statistics.median(times["off"])
        print(f"{title}: train step checks on {1e3 * t_on:.3f} ms, off {1e3 * t_off:.3f} ms "
              f"(medians); ratio on/off {t_on / t_off:.4f} ({100 * (t_on / t_off - 1):+.2f}%)")


if __name__ == "__main__":
    app.run(main)
