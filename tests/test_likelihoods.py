"""Per-dimension heads: normalized log-probs and matching samples."""

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from tfar import likelihoods


@pytest.mark.parametrize("head", [likelihoods.Bernoulli(), likelihoods.Categorical(2),
                                  likelihoods.Categorical(5)])
def test_normalized_and_sampled(head):
    params = tf.random.stateless_normal([3, head.params_size], seed=(1, 2)) * 2
    values = tf.range(head.num_values, dtype=tf.float32)
    log_probs = head.log_prob(params[:, None, :], values[None, :])          # [3, K]
    np.testing.assert_allclose(tf.reduce_logsumexp(log_probs, -1).numpy(), 0.0, atol=1e-6)
    draws = head.sample(tf.tile(params[:1], [20000, 1]), seed=(3, 4)).numpy().astype(int)
    counts = np.bincount(draws, minlength=head.num_values)
    expected = np.exp(log_probs[0].numpy().astype(np.float64)) * 20000
    assert scipy.stats.chisquare(counts, expected / expected.sum() * 20000).pvalue > 1e-3


def test_get_rejects_what_heads_cannot_model():
    with pytest.raises(ValueError, match="Bernoulli head models num_values=2"):
        likelihoods.get("bernoulli", 4)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        likelihoods.get("gaussian", 4)
    assert likelihoods.get(None, 2).name == "bernoulli"
    assert likelihoods.get(None, 3).name == "categorical"


def test_bernoulli_gradients_finite_at_extreme_logits():
    logits = tf.constant([[-200.0], [200.0]])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        lp = likelihoods.Bernoulli().log_prob(logits, tf.constant([1.0, 0.0]))
    assert np.all(np.isfinite(tape.gradient(lp, logits).numpy()))
    np.testing.assert_allclose(lp.numpy(), [-200.0, -200.0])
