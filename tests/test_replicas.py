"""`tfar.replicas`: per-example noise and batch means that do not depend on how many
replicas share the global batch, and the training objectives built on them (PixelVAE's
free bits, dropout, order-agnostic NADE) equal on one and on two replicas."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfar import replicas
from tfar.layers.dropout import check_rate, dropout

# One worker builds the module's fixture (pyproject: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("replicas")

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def two_replicas():
    """The results of tests/replica_checks.py (two logical CPU devices, a subprocess)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, os.path.join(HERE, "replica_checks.py")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULTS ")][-1]
    return json.loads(line[len("RESULTS "):])


def test_one_replica_draws_the_stateless_ops():
    seed = tf.constant([3, 7])
    np.testing.assert_array_equal(replicas.uniform([4, 3], seed),
                                  tf.random.stateless_uniform([4, 3], seed))
    np.testing.assert_array_equal(replicas.normal([5, 2], seed),
                                  tf.random.stateless_normal([5, 2], seed))
    batch = tf.function(lambda n: replicas.normal([n, 3], seed))          # unknown batch
    np.testing.assert_array_equal(batch(tf.constant(4)), tf.random.stateless_normal([4, 3], seed))
    assert float(replicas.global_mean(tf.constant(2.5))) == 2.5


def test_each_replica_draws_its_rows_of_the_global_draw(two_replicas):
    """Replica r's noise is rows [r·B, (r+1)·B) of the global batch's draw, by the
    counter skip ([3, 8]) and by drawing and slicing ([3, 5], [2, 2, 3])."""
    noise = two_replicas["noise"]
    assert noise.pop("global_mean") == [4.0, 4.0]    # mean of the replicas' means 1.5, 6.5
    assert noise and all(noise.values()), noise


def test_free_bits_objective_is_the_same_on_one_and_two_replicas(two_replicas):
    """λ lies between the two halves' KLs and above their mean: clamping each replica's
    KL would give (λ + KL_high) / 2; the global batch's KL is clamped, as on one replica."""
    result = two_replicas["free_bits"]
    low, high = result["halves_kl"]
    free_bits = result["free_bits"]
    assert low < (low + high) / 2 < free_bits < high
    for name in ("loss", "kl", "reconstruction"):
        one, two = result[name]
        assert two == pytest.approx(one, rel=1e-6, abs=1e-6), name
    one_loss, _ = result["loss"]
    assert one_loss == pytest.approx(result["reconstruction"][0] + free_bits, rel=1e-6)
    per_replica_rule = result["reconstruction"][0] + (free_bits + high) / 2
    assert abs(one_loss - per_replica_rule) > 0.1
    assert result["gradient_gap"] < 1e-5 * max(1.0, result["gradient_scale"])


@pytest.mark.parametrize("model", ["dropout", "nade", "gmmn", "pixelcnnpp_weight_norm"])
def test_stochastic_objectives_are_the_same_on_one_and_two_replicas(two_replicas, model):
    """Dropout masks (PixelCNN, dropout 0.5; PixelCNN++ with weight normalization) and
    order-agnostic NADE's orders: each example's noise is the same on one replica and on
    two, so are loss and gradients; a GMMN's MMD² is the global batch's on every
    replica."""
    result = two_replicas[model]
    assert result.get("init_gap", 0.0) < 1e-6     # weight normalization's initialization
    one, two = result["loss"]
    assert two == pytest.approx(one, rel=1e-6)
    assert result["gradient_gap"] < 1e-5 * max(1.0, result["gradient_scale"])


def test_dropout_keeps_the_mean_and_follows_the_seed():
    x = tf.ones([4000, 8])
    dropped = dropout(x, 0.25, tf.constant([1, 2])).numpy()
    assert set(np.unique(dropped)) == {0.0, np.float32(1 / 0.75)}
    assert abs((dropped == 0).mean() - 0.25) < 0.01
    np.testing.assert_array_equal(dropped, dropout(x, 0.25, tf.constant([1, 2])))
    assert not np.array_equal(dropped, dropout(x, 0.25, tf.constant([1, 3])))
    for rate in (-0.1, 1.0, True, "0.5"):
        with pytest.raises(ValueError, match="dropout must be a rate"):
            check_rate(rate)
