"""Run as a script: the same computations on one replica and on two (MirroredStrategy
over two logical CPU devices), printed as JSON for `tests/test_replicas.py`.

  python tests/replica_checks.py

A separate process because logical devices must be configured before TensorFlow starts.
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402

import tfar  # noqa: E402
from tfar import replicas  # noqa: E402

STRATEGY = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
SEED = tf.constant([3, 7], tf.int32)


def on_two(fn, *halves):
    """fn(*local args) on each replica (replica r gets halves[i][r]); the per-replica
    results as a list of numpy arrays per output."""
    def value_fn(context, part):
        return part[context.replica_id_in_sync_group]
    args = [STRATEGY.experimental_distribute_values_from_function(
        lambda context, h=h: value_fn(context, h)) for h in halves]
    outputs = tf.function(lambda *a: STRATEGY.run(fn, args=a))(*args)
    return tf.nest.map_structure(
        lambda t: [v.numpy() for v in STRATEGY.experimental_local_results(t)], outputs)


def noise():
    """replicas.uniform/normal: replica r's rows against rows [r·B, (r+1)·B) of the draw
    for the whole batch, for shapes whose slice is a whole number of Philox counter steps
    ([3, 8]) and ones that are not ([3, 5]: the draw-and-slice path)."""
    result = {}
    for shape in ([3, 8], [3, 5], [2, 2, 3]):
        full = [tf.random.stateless_uniform([2 * shape[0]] + shape[1:], SEED).numpy(),
                tf.random.stateless_normal([2 * shape[0]] + shape[1:], SEED).numpy()]
        local = on_two(lambda: (replicas.uniform(shape, SEED), replicas.normal(shape, SEED)))
        for name, whole, parts in zip(("uniform", "normal"), full, local):
            result[f"{name}{shape}"] = bool(np.array_equal(np.concatenate(parts), whole))
    means = on_two(lambda x: replicas.global_mean(tf.reduce_mean(x)),
                   [tf.constant([1.0, 2.0]), tf.constant([4.0, 9.0])])
    result["global_mean"] = [float(m) for m in means]
    return result


def objective(d, x, fields=()):
    """d.training_terms (loss, and `fields`) and the loss's gradient on the batch x, on
    one replica and as the trainer computes them on two (each replica's half, terms and
    gradients divided by 2 and summed). Returns {name: [one, two]} (max |difference|
    for the gradients: "gradient_gap")."""
    variables = d.network.trainable_variables

    def terms_and_grads(images, scale):
        with tf.GradientTape() as tape:
            terms = d.training_terms(images, seed=SEED, step=5)
            terms = {k: terms[k] / scale for k in ("loss",) + tuple(fields)}
        return terms, tape.gradient(terms["loss"], variables)

    one_terms, one_grads = tf.function(lambda images: terms_and_grads(images, 1.0))(x)
    half = x.shape[0] // 2
    two_terms, two_grads = on_two(lambda images: terms_and_grads(images, 2.0),
                                  [x[:half], x[half:]])
    result = {k: [float(one_terms[k]), float(sum(two_terms[k]))] for k in one_terms}
    result["gradient_gap"] = max(
        float(np.max(np.abs(g.numpy() - sum(parts)))) for g, parts in zip(one_grads, two_grads))
    result["gradient_scale"] = max(float(np.max(np.abs(g.numpy()))) for g in one_grads)
    return result


def free_bits():
    """PixelVAE with free bits λ between the two halves' KLs (above the global batch's
    mean): a per-replica clamp would give (λ + KL_b) / 2, the global one λ."""
    with STRATEGY.scope():
        vae = tfar.PixelVAE(image_shape=(2, 2, 1), num_values=2, latent_dim=2, num_layers=1,
                            num_filters=4, first_kernel_size=3, encoder_filters=4,
                            map_channels=2)
    checks.randomize_weights(vae, scale=0.5)
    x = tf.constant(checks.all_configurations(vae))                            # 16 images
    half = x.shape[0] // 2
    halves = on_two(lambda images: vae.training_terms(images, seed=SEED)["kl"],
                    [x[:half], x[half:]])
    low, high = sorted(float(k) for k in halves)
    vae._free_bits = 0.25 * low + 0.75 * high                         # > their mean
    result = objective(vae, x, fields=("kl", "reconstruction"))
    result.update(halves_kl=[low, high], free_bits=vae.free_bits)
    return result


def dropout():
    """A PixelCNN with dropout 0.5: the training objective (its masks) on 1 and 2 replicas."""
    with STRATEGY.scope():
        d = tfar.PixelCNN(image_shape=(3, 3, 1), num_values=2, num_layers=2, num_filters=4,
                          first_kernel_size=3, likelihood="bernoulli", dropout=0.5)
    checks.randomize_weights(d, scale=0.5)
    x = tf.constant(np.random.default_rng(0).integers(0, 2, (8, 3, 3, 1)), tf.float32)
    return objective(d, x)


def pixelcnnpp_weight_norm():
    """A weight-normalized PixelCNN++ with dropout 0.5 (variables made under the
    strategy), its data-dependent initialization run in the strategy's scope on the
    global batch as the trainer runs it: the initial values against one device's
    ("init_gap"), then loss and gradients on 1 and 2 replicas."""
    def make():
        d = tfar.PixelCNNPlusPlus(image_shape=(4, 4, 3), num_values=4, num_resnet=1,
                                  num_hierarchies=2, num_filters=4, num_mixtures=2,
                                  dropout=0.5, weight_norm=True)
        checks.randomize_weights(d, scale=0.5)
        return d

    x = tf.constant(np.random.default_rng(3).integers(0, 4, (8, 4, 4, 3)), tf.float32)
    with STRATEGY.scope():
        d = make()
        d.initialize_from_data(x)
    one = make()
    one.initialize_from_data(x)
    result = objective(d, x)
    result["init_gap"] = max(float(np.max(np.abs(a.numpy() - b.numpy())))
                             for a, b in zip(d.network.variables, one.network.variables))
    return result


def order_agnostic_nade():
    """Order-agnostic NADE: one random order per example, on 1 and 2 replicas."""
    with STRATEGY.scope():
        d = tfar.NADE(event_shape=(6,), num_values=2, hidden_units=5, order_agnostic=True,
                      seed=1)
    checks.randomize_weights(d, scale=0.5)
    x = tf.constant(np.random.default_rng(1).integers(0, 2, (8, 6)), tf.float32)
    return objective(d, x)


def gmmn():
    """A GMMN's MMD² compares whole batches: every replica computes the global batch's."""
    with STRATEGY.scope():
        d = tfar.GMMN(event_shape=(2, 2, 1), latent_dim=2, hidden_units=(4,),
                      data_num_values=2)
    checks.randomize_weights(d, scale=0.5)
    x = tf.constant(np.random.default_rng(2).integers(0, 2, (8, 2, 2, 1)), tf.float32)
    return objective(d, x)


if __name__ == "__main__":
    print("RESULTS " + json.dumps({"noise": noise(), "free_bits": free_bits(),
                                   "dropout": dropout(), "nade": order_agnostic_nade(),
                                   "gmmn": gmmn(),
                                   "pixelcnnpp_weight_norm": pixelcnnpp_weight_norm()}))
