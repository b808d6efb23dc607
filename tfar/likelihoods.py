"""Per-dimension likelihood heads: network parameters -> log-probabilities and samples.

A head turns the `params_size` numbers a network emits for one dimension into the
distribution of that dimension's integer value in `[0, num_values)`:

- `Bernoulli`   (num_values = 2, one logit): binarized images (NADE, MADE, PixelCNN papers).
- `Categorical` (any num_values, one logit per value): the 256-way softmax of PixelRNN §5.

A head with parameters shared across channels (the discretized logistic mixture of
PixelCNN++, where one pixel's R, G and B are coupled) subclasses `Likelihood` the same
way; `AutoregressiveDistribution` only ever calls `params_size`, `log_prob` and `sample`.
"""

import tensorflow as tf


class Likelihood:
    """Interface of a per-dimension head.

    Shapes: `params` [..., params_size] and values [...] -> log-probs [...]; samples [...].
    """

    def __init__(self, num_values):
        self.num_values = int(num_values)

    name = "likelihood"
    params_size = None

    def log_prob(self, params, x):
        """log p(x | params) in nats, elementwise over the leading dims."""
        raise NotImplementedError

    def sample(self, params, seed):
        """One stateless draw per leading index (float values in [0, num_values))."""
        raise NotImplementedError


class Bernoulli(Likelihood):
    """p(x = 1) = sigmoid(logit); params_size 1."""

    name = "bernoulli"
    params_size = 1

    def __init__(self, num_values=2):
        if num_values != 2:
            raise ValueError(f"The Bernoulli head models num_values=2; got num_values={num_values}.")
        super().__init__(2)

    def log_prob(self, params, x):
        logits = tf.squeeze(params, -1)
        x = tf.cast(x, logits.dtype)
        # log σ(l) = -softplus(-l), log(1 - σ(l)) = -softplus(l)
        return -tf.nn.softplus(logits * (1.0 - 2.0 * x))

    def sample(self, params, seed):
        logits = tf.squeeze(params, -1)
        u = tf.random.stateless_uniform(tf.shape(logits), seed=seed, dtype=logits.dtype)
        return tf.cast(u < tf.sigmoid(logits), logits.dtype)


class Categorical(Likelihood):
    """A softmax over `num_values` values; params_size = num_values."""

    name = "categorical"

    def __init__(self, num_values):
        if num_values < 2:
            raise ValueError(f"The Categorical head needs num_values >= 2; got {num_values}.")
        super().__init__(num_values)
        self.params_size = self.num_values

    def log_prob(self, params, x):
        shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(params)[:-1])
        labels = tf.broadcast_to(tf.cast(x, tf.int32), shape)
        logits = tf.broadcast_to(params, tf.concat([shape, [self.num_values]], 0))
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    def sample(self, params, seed):
        flat = tf.reshape(params, [-1, self.num_values])
        draws = tf.random.stateless_categorical(flat, 1, seed=seed, dtype=tf.int32)
        return tf.cast(tf.reshape(draws, tf.shape(params)[:-1]), params.dtype)


HEADS = {"bernoulli": Bernoulli, "categorical": Categorical}


def get(likelihood, num_values):
    """The head for a name ("bernoulli", "categorical") or None (Bernoulli iff 2 values)."""
    if likelihood is None:
        likelihood = "bernoulli" if num_values == 2 else "categorical"
    if isinstance(likelihood, Likelihood):
        if likelihood.num_values != num_values:
            raise ValueError(f"The head models {likelihood.num_values} values, not {num_values}.")
        return likelihood
    if likelihood not in HEADS:
        raise ValueError(f"likelihood must be one of {sorted(HEADS)}; got {likelihood!r}.")
    return HEADS[likelihood](num_values)
