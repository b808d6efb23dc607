"""Randomness and means over the global batch: the same for any number of replicas.

A training step under a `tf.distribute` strategy runs the model on each replica's slice
of the global batch: replica r of R holds rows [r·B, (r+1)·B) of a global batch of R·B
examples. The trainer passes every replica the same stateless seed (a function of the
run's seed and the step only), and a model draws its per-example noise with
`uniform`/`normal` here: rows [r·B, (r+1)·B) of the draw a single replica would make for
the whole global batch. So example i of a global batch gets the same noise (a latent
draw, a dropout mask, an order) whether it trains on 1, 2 or 8 replicas, and a batch
statistic that the objective needs (free bits clamp the KL of the whole batch) is
`global_mean`'s all-reduced mean. Outside a strategy (R = 1) both are the plain
stateless op and the identity.

The slice is drawn without drawing the rest: TensorFlow's Philox kernel makes element j
of a stateless draw from counter c + j // 4 (four 32-bit words, four floats, per counter
step), so rows [r·B, …) of the global draw are the local draw from the counter advanced
by r·B·(row size) / 4 (`tests/test_replicas.py` checks equality with the sliced global
draw). Where that is not a whole number of counter steps, or the algorithm is not Philox,
the global draw is made and sliced.
"""

import tensorflow as tf

_PHILOX = 1          # tf.random.Algorithm.PHILOX
_WORDS_PER_STEP = 4  # 32-bit outputs per Philox counter step


def _replicas():
    """(replica id r, replicas R) of the current replica context; (0, 1) outside one."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: no slice to take
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def _draw(op, shape, seed, dtype):
    """Rows [r·B, (r+1)·B) of `op` drawn for the global batch [R·B, ...] from `seed`;
    `shape` [B, ...] may hold tensors (an unknown batch)."""
    static = tf.TensorShape(tf.get_static_value(tf.convert_to_tensor(shape, tf.int32),
                                                partial=True))
    shape = tf.convert_to_tensor(shape, tf.int32)
    seed = tf.convert_to_tensor(seed)
    key, counter = tf.raw_ops.StatelessRandomGetKeyCounter(seed=seed)
    alg = tf.raw_ops.StatelessRandomGetAlg()
    replica, replicas = _replicas()
    if replicas == 1:
        values = op(shape=shape, key=key, counter=counter, alg=alg, dtype=dtype)
    else:
        words = tf.cast(tf.reduce_prod(shape), tf.uint64)         # B · row
        skip = tf.cast(replica, tf.uint64) * words // _WORDS_PER_STEP
        low = counter[0] + skip
        carry = tf.cast(low < counter[0], tf.uint64)              # 128-bit add
        advanced = tf.stack([low, counter[1] + carry])

        def exact():
            return op(shape=shape, key=key, counter=advanced, alg=alg, dtype=dtype)

        def sliced():
            full = op(shape=tf.concat([[replicas * shape[0]], shape[1:]], 0), key=key,
                      counter=counter, alg=alg, dtype=dtype)
            return full[replica * shape[0]:(replica + 1) * shape[0]]

        whole_steps = tf.logical_and(tf.equal(alg, _PHILOX),
                                     tf.equal(words % _WORDS_PER_STEP, 0))
        values = tf.cond(whole_steps, exact, sliced)
    values.set_shape(static)
    return values


def uniform(shape, seed, dtype=tf.float32):
    """U[0, 1) noise of this replica's rows: [B, ...] = rows [r·B, (r+1)·B) of
    `tf.random.stateless_uniform([R·B, ...], seed)` (equal to it when R = 1)."""
    return _draw(tf.raw_ops.StatelessRandomUniformV2, shape, seed, dtype)


def normal(shape, seed, dtype=tf.float32):
    """N(0, 1) noise of this replica's rows: [B, ...] = rows [r·B, (r+1)·B) of
    `tf.random.stateless_normal([R·B, ...], seed)` (equal to it when R = 1)."""
    return _draw(tf.raw_ops.StatelessRandomNormalV2, shape, seed, dtype)


def global_mean(value):
    """The mean of a per-replica batch mean over the replicas (equal per-replica batches:
    the mean over the global batch), a value without gradient; `value` outside a
    strategy. For objectives with a batch statistic (free bits), so they are the same
    for any number of replicas."""
    value = tf.stop_gradient(value)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.MEAN, value)


def global_batch(value):
    """The global batch [R·B, ...] of a per-replica batch [B, ...] (replica r's rows at
    [r·B, (r+1)·B)), without gradient; `value` outside a strategy. For an objective that
    compares whole batches (a GMMN's MMD²), which every replica then computes alike."""
    value = tf.stop_gradient(value)
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_gather(value, axis=0)


def count():
    """R, the replicas in sync (1 outside a strategy)."""
    return _replicas()[1]
