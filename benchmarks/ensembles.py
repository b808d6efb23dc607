"""Ensembles' log_prob, each beside the computation it replaced, in one run.

NADE with K orders: `NADENetwork.call` computes the order-independent contributions
W_d x_d [D, B, H] (and the condition's terms) once and gives each order only its own
cumulative sum; before, every order computed them again. The old path is that
computation: `conditionals(x, order)` for each stored order (it projects x itself),
stacked. Both feed the same head and log-mean-exp.

MADE with M mask sets: the ensemble `log_prob` runs `mask_sets_at_once` mask sets in
parallel (`parallel_mask_sets="auto"`: all M for this size), where it ran them one at a
time; the old path is the same model with `parallel_mask_sets=1` and the same weights.

Every path is a compiled `tf.function` on the same batch. After one warm-up call each,
the rounds alternate between old and new (who goes first alternates too), so both see the
same machine load; the script prints the median times, the old/new time ratio, and the
largest difference between the two paths' log-probs.

  python benchmarks/ensembles.py [--num_dims 784 --hidden_units 500 --num_orderings 8
                                  --num_masks 8 --batch_sizes 10,100 --rounds 20]
"""

import math
import time

from absl import app, flags

import tfar  # sets the Keras backend first

import numpy as np
import tensorflow as tf

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_dims", 784, "D, binary dimensions.")
flags.DEFINE_integer("hidden_units", 500, "H: NADE's hidden units, MADE's one hidden layer.")
flags.DEFINE_integer("num_orderings", 8, "K, the NADE ensemble's orders.")
flags.DEFINE_integer("num_masks", 8, "M, the MADE ensemble's mask sets.")
flags.DEFINE_list("batch_sizes", ["10", "100"], "Images per log_prob call, one run each.")
flags.DEFINE_integer("rounds", 20, "Timed calls per path (alternating between the paths).")


def side_by_side(paths, x):
    """{name: median seconds} of each fn(x) in `paths`, timed in alternating rounds."""
    for fn in paths.values():
        fn(x).numpy()  # trace and warm up
    times = {name: [] for name in paths}
    names = list(paths)
    for r in range(FLAGS.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            begin = time.perf_counter()
            paths[name](x).numpy()
            times[name].append(time.perf_counter() - begin)
    return {name: float(np.median(t)) for name, t in times.items()}


def report(title, paths, x):
    """Times the two paths ("old" first), prints both, their ratio and the log-prob gap."""
    gap = float(np.max(np.abs(np.subtract(*[fn(x).numpy() for fn in paths.values()]))))
    seconds = side_by_side(paths, x)
    (old, old_s), (new, new_s) = seconds.items()
    print(f"{title}: {old} {old_s * 1e3:.2f} ms, {new} {new_s * 1e3:.2f} ms "
          f"(medians of {FLAGS.rounds}); old/new time ratio: {old_s / new_s:.2f}; "
          f"max |log_prob difference| {gap:.2g}", flush=True)


def nade_paths():
    d = tfar.NADE(event_shape=(FLAGS.num_dims,), hidden_units=FLAGS.hidden_units,
                  ordering="random", num_orderings=FLAGS.num_orderings, order_agnostic=True,
                  seed=0)
    network, head = d.network, d.likelihood

    def ensemble_log_prob(params, x):  # [K, B, D, P] -> [B], as the distribution does
        joint = tf.reduce_sum(head.log_prob(params, x[None]), axis=-1)
        return tf.reduce_logsumexp(joint, axis=0) - math.log(FLAGS.num_orderings)

    orders = [tf.constant(order, tf.int32) for order in network.orderings]
    return {"W x per order": tf.function(lambda x: ensemble_log_prob(
                tf.stack([network.conditionals(x, order) for order in orders]), x)),
            "W x once": tf.function(lambda x: ensemble_log_prob(network(x), x))}


def made_paths():
    kwargs = dict(event_shape=(FLAGS.num_dims,), hidden_units=(FLAGS.hidden_units,),
                  ordering="random", hidden_degrees="random", num_masks=FLAGS.num_masks, seed=0)
    sequential = tfar.MADE(parallel_mask_sets=1, **kwargs)
    parallel = tfar.MADE(**kwargs)
    parallel.network.set_weights(sequential.network.get_weights())
    at_once = parallel.network.mask_sets_at_once
    return {"1 mask set at a time": tf.function(sequential.log_prob),
            f"{at_once} at a time": tf.function(parallel.log_prob)}


def main(_):
    rng = np.random.default_rng(0)
    for batch_size in map(int, FLAGS.batch_sizes):
        x = tf.constant(rng.integers(0, 2, (batch_size, FLAGS.num_dims)), tf.float32)
        sizes = f"D={FLAGS.num_dims}, H={FLAGS.hidden_units}, batch {batch_size}"
        report(f"NADE, {FLAGS.num_orderings} orders, {sizes}", nade_paths(), x)
        report(f"MADE, {FLAGS.num_masks} mask sets, {sizes}", made_paths(), x)


if __name__ == "__main__":
    app.run(main)
