"""Stateless random draws that are the same numbers inside and outside XLA.

tfar's seed contract: a stateless seed [2] gives the same samples eagerly, under
`tf.function`, in a SavedModel, and in a sampling loop compiled with XLA
(`sample(..., jit_compile=True)`). TensorFlow's stateless ops keep it everywhere but
under XLA, for two reasons (measured, TF 2.21, CPU):

- XLA derives another Philox key and counter from a seed with a negative component
  (`StatelessRandomGetKeyCounter`: TF's kernel sign-extends an int32 seed to 64 bits,
  XLA's does not; seeds [3, 4] agree, [-1, 4] and [3, -1] differ). Given the same key
  and counter, `StatelessRandomUniformFullIntV2`'s bits are the same in both.
- XLA turns bits into floats with other bits than TF's kernel does (TF's float32 is
  1 + the low 23 bits as the mantissa, minus 1).

So inside a compiled loop (the `xla()` context, entered while a compiled function is
traced) every draw here computes the key and counter as TF's kernel does (one
Philox-4x32-10 block over the sign-extended seed, in TF ops: a few fused integer ops
under XLA), takes the full-range bits from them, and makes floats and normals as TF's
CPU kernel does. Outside it, the same functions call TensorFlow's own stateless kernels
directly (the seed-taking ops `tf.random.stateless_*` wrap: the same numbers, without the
wrappers' Python work, ~150 µs per draw in eager sampling loops). tests/test_random.py
checks both paths bit for bit.

`categorical` is Gumbel-max over `uniform` draws, not `tf.random.stateless_categorical`:
TF's CPU kernel for that op hands out a batch's random numbers by thread-pool shard,
so the same seed draws other values on a machine with another number of cores
(measured: 4096 rows of 256 logits, intra-op threads 1, 2 and 8 give three different
draws); Gumbel-max depends only on the logits and the seed.

`normal` is TF's Box–Muller (a pair of normals from each pair of 32-bit draws); under
XLA its log, sin and cos are XLA's, within a few ulps of TF's, so real-valued draws
agree to float rounding, not bit for bit (the integer draws of the discrete heads use
`uniform` only and agree exactly).
"""

import contextlib
import math
import threading

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import gen_stateless_random_ops, gen_stateless_random_ops_v2

_PHILOX = 1                                   # tf.random.Algorithm.PHILOX
_MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)       # Philox-4x32 round multipliers
_KEY_STEPS = (0x9E3779B9, 0xBB67AE85)         # Weyl sequence added to the key per round
_SCRAMBLE_KEY = (0x3EC8F720, 0x02461E29)      # TF's key for scrambling a seed
# dtype -> (integer dtype of its bits, mantissa bits, the bits of 1.0): TF's kernel makes
# 1 + (bits & mantissa) in [1, 2) and subtracts 1.
_FLOATS = {tf.float16: (tf.uint16, 10, 0x3C00), tf.bfloat16: (tf.uint16, 7, 0x3F80),
           tf.float32: (tf.uint32, 23, 0x3F800000)}

_state = threading.local()


@contextlib.contextmanager
def xla():
    """Draws inside this context (while tracing a function compiled with XLA) use the
    XLA-safe path."""
    previous = getattr(_state, "xla", False)
    _state.xla = True
    try:
        yield
    finally:
        _state.xla = previous


def in_xla():
    """Whether draws now take the XLA-safe path."""
    return getattr(_state, "xla", False)


def _halves(wide):
    """uint64 -> (high, low) uint32 halves."""
    return (tf.cast(tf.bitwise.right_shift(wide, tf.constant(32, tf.uint64)), tf.uint32),
            tf.cast(tf.bitwise.bitwise_and(wide, tf.constant(0xFFFFFFFF, tf.uint64)),
                    tf.uint32))


def _mul_hi_lo(a, b):
    """uint32 a (a Python constant) · uint32 b -> (high, low) 32-bit halves."""
    return _halves(tf.constant(a, tf.uint64) * tf.cast(b, tf.uint64))


def _philox_block(counter, key):
    """Philox-4x32-10 (Salmon et al., SC 2011) of one counter: 4 + 2 uint32 -> 4 uint32."""
    counter, key = list(counter), list(key)
    for round_index in range(10):
        hi0, lo0 = _mul_hi_lo(_MULTIPLIERS[0], counter[0])
        hi1, lo1 = _mul_hi_lo(_MULTIPLIERS[1], counter[2])
        counter = [tf.bitwise.bitwise_xor(tf.bitwise.bitwise_xor(hi1, counter[1]), key[0]), lo1,
                   tf.bitwise.bitwise_xor(tf.bitwise.bitwise_xor(hi0, counter[3]), key[1]), lo0]
        if round_index < 9:
            key = [key[0] + tf.constant(_KEY_STEPS[0], tf.uint32),
                   key[1] + tf.constant(_KEY_STEPS[1], tf.uint32)]
    return counter


def key_counter(seed):
    """TF's `StatelessRandomGetKeyCounter` for Philox, in TF ops (the same under XLA):
    seed int [2] -> (key uint64 [1], counter uint64 [2])."""
    high, low = _halves(tf.bitcast(tf.cast(seed, tf.int64), tf.uint64))          # [2] each
    mix = _philox_block([low[0], high[0], low[1], high[1]],
                        [tf.constant(k, tf.uint32) for k in _SCRAMBLE_KEY])
    mix = [tf.cast(m, tf.uint64) for m in mix]
    join = lambda lo, hi: tf.bitwise.bitwise_or(lo, tf.bitwise.left_shift(
        hi, tf.constant(32, tf.uint64)))
    return (tf.reshape(join(mix[0], mix[1]), [1]),
            tf.stack([tf.constant(0, tf.uint64), join(mix[2], mix[3])]))


def bits(shape, seed, dtype=tf.uint32):
    """Full-range integers of `dtype` (uint32 or int32; uint64 or int64), as
    `tf.random.stateless_uniform(shape, seed, minval=None, maxval=None, dtype=dtype)`."""
    if not in_xla():
        return gen_stateless_random_ops.stateless_random_uniform_full_int(shape, seed,
                                                                          dtype=dtype)
    key, counter = key_counter(seed)
    return gen_stateless_random_ops_v2.stateless_random_uniform_full_int_v2(
        shape=shape, key=key, counter=counter, alg=_PHILOX, dtype=dtype)


def split(seed, num=2):
    """`num` new seeds int32 [num, 2], as `tf.random.experimental.stateless_split`."""
    seed = tf.convert_to_tensor(seed)
    return bits([num, 2], seed, dtype=seed.dtype)


def uniform(shape, seed, dtype=tf.float32, open_interval=False):
    """Floats in [0, 1), as `tf.random.stateless_uniform(shape, seed, dtype=dtype)` bit
    for bit; with `open_interval`, in (0, 1) as the same with `minval` the smallest normal
    float (u + tiny: a logarithm's argument; bit for bit under XLA in float32, the heads'
    dtype: XLA adds 16-bit floats with another rounding, 1 ulp off now and then). No
    other range: under XLA, u·(max − min) + min may become one fused multiply-add,
    rounded once where TF's kernel rounds twice."""
    dtype = tf.as_dtype(dtype)
    tiny = np.finfo(dtype.as_numpy_dtype).tiny if open_interval else 0.0
    if not in_xla():
        unit = gen_stateless_random_ops.stateless_random_uniform(shape, seed, dtype=dtype)
        return unit + tf.constant(tiny, dtype) if open_interval else unit
    if dtype not in _FLOATS:
        raise ValueError(f"tfar.random.uniform under XLA draws float16, bfloat16 or float32; "
                         f"got {dtype.name}.")
    int_dtype, mantissa, one = _FLOATS[dtype]
    raw = bits(shape, seed, tf.uint32)
    if int_dtype != tf.uint32:
        raw = tf.cast(tf.bitwise.bitwise_and(raw, tf.constant(0xFFFF, tf.uint32)), int_dtype)
    fraction = tf.bitwise.bitwise_or(tf.bitwise.bitwise_and(
        raw, tf.constant((1 << mantissa) - 1, int_dtype)), tf.constant(one, int_dtype))
    unit = tf.bitcast(fraction, dtype) - tf.constant(1.0, dtype)
    return unit + tf.constant(tiny, dtype) if open_interval else unit


def normal(shape, seed, dtype=tf.float32):
    """Standard normals, as `tf.random.stateless_normal`: TF's Box–Muller over pairs of
    32-bit draws (u1 floored at 1e-7, θ = 2π·u2: sin θ·r, cos θ·r, r = sqrt(−2 log u1)).
    float32 under XLA (see the module docstring for its precision)."""
    dtype = tf.as_dtype(dtype)
    if not in_xla():
        return gen_stateless_random_ops.stateless_random_normal(shape, seed, dtype=dtype)
    if dtype != tf.float32:
        raise ValueError(f"tfar.random.normal under XLA draws float32; got {dtype.name}.")
    shape = tf.convert_to_tensor(shape, tf.int32)
    size = tf.reduce_prod(shape)
    pairs = uniform([(size + 1) // 2, 2], seed)                              # [m, 2]
    u1 = tf.maximum(pairs[:, 0], 1e-7)
    theta = tf.cast(tf.cast(pairs[:, 1], tf.float64) * (2.0 * math.pi), tf.float32)
    radius = tf.sqrt(-2.0 * tf.math.log(u1))
    values = tf.reshape(tf.stack([tf.sin(theta) * radius, tf.cos(theta) * radius], -1), [-1])
    return tf.reshape(values[:size], shape)


def categorical(logits, seed):
    """int32 [...]: one draw per row of logits [..., V] ∝ softmax, by Gumbel-max over
    `uniform(logits' shape, seed, open_interval=True)` (see the module docstring for why not
    `tf.random.stateless_categorical`). −inf logits are never drawn."""
    logits = tf.convert_to_tensor(logits)
    u = uniform(tf.shape(logits), seed, dtype=logits.dtype, open_interval=True)
    return tf.argmax(logits - tf.math.log(-tf.math.log(u)), axis=-1, output_type=tf.int32)
