"""Densities of real values side by side: test log-likelihood per example on each data set.

Contenders, on each data set of `tfar.data` (standardized tabular sets, dequantized digits):
  Gaussian         one full-covariance Gaussian, the maximum-likelihood fit (closed form).
  GaussianMixture  scikit-learn's, the best of a grid (components × covariance type)
                   chosen by validation log-likelihood.
  TFP MAF          `tfb.MaskedAutoregressiveFlow` × --flows, each made by a
                   `tfb.AutoregressiveNetwork` of two ReLU layers of --hidden_units, the
                   order reversed between flows, over a standard normal (MAF, Papamakarios
                   et al. 2017); each log-scale soft-clamped to ±3 (`_soft_clamped`).
  tfar MADE MoG    `tfar.MADE(likelihood="mixture_of_gaussians")`, two ReLU layers of
                   --hidden_units, --num_mixtures components.
  tfar RNADE       `tfar.RNADE`, --hidden_units, --num_mixtures components.

The neural models train in one run with the same steps, Adam learning rate and batches
(tfar's training stream, `tfar.training.input_pipeline.TrainBatches`, so dequantization
noise is fresh per epoch); each is scored on the validation split every --eval_every
steps and keeps its best weights (early stopping), which then score the test split.
Figures: test log-likelihood in nats per example, mean ± standard error over the test
examples (and the train split's mean, to show each model's generalization gap); training examples/s of each neural model (its compiled train step, timed after
the first call); for dequantized digits also the bound on the integer images' NLL in
bits/dim (`tfar.training.evaluation.report`).

  python benchmarks/real_valued.py                       # every data set present
  python benchmarks/real_valued.py --datasets=wine,digits --steps=500
"""

import json
import math
import time

from absl import app, flags

import tfar  # sets the Keras backend first
import tfar.data
from tfar.training import input_pipeline
import batches

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfb, tfd = tfp.bijectors, tfp.distributions

FLAGS = flags.FLAGS
flags.DEFINE_list("datasets", ["wine", "breast_cancer", "diabetes", "california_housing",
                               "digits"],
                  "sklearn sets (california_housing is skipped where its file is absent) "
                  "and 'digits' (the embedded digits, dequantized).")
flags.DEFINE_integer("steps", 4000, "Training steps of each neural model.")
flags.DEFINE_integer("eval_every", 25, "Validation scoring interval (steps).")
flags.DEFINE_integer("batch_size", 64, "Training batch size (at most the train split's size).")
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate (constant).")
flags.DEFINE_integer("hidden_units", 100, "Width of every neural model's hidden layers.")
flags.DEFINE_integer("num_mixtures", 10, "Components of the tfar mixture heads.")
flags.DEFINE_integer("flows", 5, "MAF's number of MADEs.")
flags.DEFINE_list("gmm_components", ["1", "2", "4", "8", "16"], "GaussianMixture grid.")
flags.DEFINE_integer("seed", 0, "Seed of weights, batches and noise.")
flags.DEFINE_string("output", None, "Optional JSON file for the results.")

GMM_COVARIANCES = ("full", "diag")
LOG_SCALE_BOUND = 3.0


def data_config(dataset):
    """The `config.data` of a data set: train/validation/test splits (digits: validation is
    the last 10% of its train split)."""
    if dataset == "digits":
        return batches.data_config("digits", train_split="train[:90%]",
                                   validation_split="train[90%:]", dequantize=True)
    return batches.data_config(f"sklearn:{dataset}", validation_split="validation")


def split_array(config, split):
    """The whole split as an array [N, D] (digits: dequantized with config.test_seed)."""
    fixed = config.copy_and_resolve_references()
    fixed.test_split = split
    rows = [x for x, _ in input_pipeline.test_batches(fixed, 10_000)]
    x = np.concatenate([r.numpy() for r in rows])
    return x.reshape(len(x), -1)


def log_likelihoods(log_prob, x, batch=1000):
    return np.concatenate([log_prob(x[i:i + batch]) for i in range(0, len(x), batch)])


def summary(values):
    return {"mean": float(np.mean(values)),
            "standard_error": float(np.std(values, ddof=1) / math.sqrt(len(values)))}


def gaussian(train, test):
    train, test = train.astype(np.float64), test.astype(np.float64)
    mean = train.mean(0)
    covariance = np.cov(train, rowvar=False, bias=True) + 1e-6 * np.eye(train.shape[1])
    normal = tfd.MultivariateNormalTriL(mean, tf.linalg.cholesky(covariance))
    return summary(normal.log_prob(test).numpy()), {
        "train": float(np.mean(normal.log_prob(train).numpy()))}


def gaussian_mixture(train, validation, test, seed):
    from sklearn.mixture import GaussianMixture
    best = None
    for k in map(int, FLAGS.gmm_components):
        for covariance in GMM_COVARIANCES:
            if k > len(train) // 2:
                continue
            gmm = GaussianMixture(k, covariance_type=covariance, random_state=seed,
                                  max_iter=500, n_init=2).fit(train)
            score = gmm.score_samples(validation).mean()
            if best is None or score > best[0]:
                best = (score, gmm, {"components": k, "covariance": covariance})
    _, gmm, chosen = best
    return summary(gmm.score_samples(test)), dict(
        chosen, train=float(gmm.score_samples(train).mean()),
        validation=float(best[0]),
        parameters=int(gmm._n_parameters()))


def _soft_clamped(network):
    """MAF's shift and log-scale from `network`, the log-scale soft-clamped to
    ±LOG_SCALE_BOUND (c · tanh(s / c)): unclamped, the flows diverge on the small sets
    (wine's validation log-likelihood reached -3·10⁷ by step 100, then NaN)."""
    def shift_and_log_scale(x):
        shift, log_scale = tf.unstack(network(x), axis=-1)
        return shift, LOG_SCALE_BOUND * tf.tanh(log_scale / LOG_SCALE_BOUND)
    return shift_and_log_scale


def maf(num_dims, seed):
    keras.utils.set_random_seed(seed)
    bijectors, networks = [], []
    for i in range(FLAGS.flows):
        network = tfb.AutoregressiveNetwork(
            params=2, event_shape=[num_dims], activation="relu",
            hidden_units=[FLAGS.hidden_units] * 2)
        networks.append(network)
        bijectors.append(tfb.MaskedAutoregressiveFlow(_soft_clamped(network), name=f"maf{i}"))
        if i < FLAGS.flows - 1:
            bijectors.append(tfb.Permute(list(range(num_dims))[::-1]))
    flow = tfd.TransformedDistribution(
        tfd.Sample(tfd.Normal(0.0, 1.0), [num_dims]), tfb.Chain(bijectors[::-1]))
    flow.log_prob(tf.zeros([1, num_dims]))  # builds the networks' variables
    return flow, [v for network in networks for v in network.trainable_variables]


def neural_models(num_dims, seed):
    """{name: (log_prob (x [N, D]) -> [N], trainable variables)}, each model's initial
    weights drawn after `keras.utils.set_random_seed(seed)`."""
    keras.utils.set_random_seed(seed)
    made = tfar.MADE(event_shape=(num_dims,), hidden_units=(FLAGS.hidden_units,) * 2,
                     likelihood="mixture_of_gaussians", num_mixtures=FLAGS.num_mixtures,
                     seed=seed)
    keras.utils.set_random_seed(seed)
    rnade = tfar.RNADE(event_shape=(num_dims,), hidden_units=FLAGS.hidden_units,
                       num_mixtures=FLAGS.num_mixtures, seed=seed)
    flow, flow_variables = maf(num_dims, seed)
    return {"TFP MAF": (flow.log_prob, flow_variables),
            "tfar MADE MoG": (made.log_prob, made.network.trainable_variables),
            "tfar RNADE": (rnade.log_prob, rnade.network.trainable_variables)}


def train(name, log_prob, variables, config, train_x, validation, test):
    """Trains on the shared stream; returns (test figures, details) at the best
    validation score."""
    optimizer = keras.optimizers.Adam(FLAGS.learning_rate)
    optimizer.build(variables)
    batches = input_pipeline.TrainBatches(config, FLAGS.batch_size, FLAGS.seed)
    epochs = -(-FLAGS.steps // batches.steps_per_epoch)

    def epoch(e):  # every epoch in one pipeline: a tiny set has a few batches per epoch
        return batches.epoch(e)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(log_prob(tf.reshape(x, [tf.shape(x)[0], -1])))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    score = tf.function(log_prob, reduce_retracing=True)
    best = (-np.inf, None, 0)
    timed, timed_steps, done = 0.0, 0, 0
    stream = tf.data.Dataset.range(epochs).flat_map(epoch).take(FLAGS.steps)
    for x, _ in stream:
        began = time.perf_counter()
        step(x).numpy()
        if done > 0:
            timed, timed_steps = timed + time.perf_counter() - began, timed_steps + 1
        done += 1
        if done % FLAGS.eval_every == 0 or done == FLAGS.steps:
            value = float(np.mean(log_likelihoods(score, validation)))
            if math.isfinite(value) and value > best[0]:
                best = (value, [v.numpy() for v in variables], done)
    for v, value in zip(variables, best[1]):
        v.assign(value)
    print(f"  {name}: best validation {best[0]:.3f} at step {best[2]}", flush=True)
    return summary(log_likelihoods(score, test)), {
        "best_step": best[2], "validation": best[0],
        "train": float(np.mean(log_likelihoods(score, train_x))),
        "examples_per_second": timed_steps * FLAGS.batch_size / timed,
        "parameters": int(sum(np.prod(v.shape) for v in variables))}


def run_dataset(dataset):
    config = data_config(dataset)
    try:
        train_x, validation, test = (split_array(config, s) for s in (
            config.train_split, config.validation_split, config.test_split))
    except FileNotFoundError as error:
        print(f"{dataset}: skipped ({error})", flush=True)
        return None
    num_dims = train_x.shape[1]
    print(f"{dataset}: D={num_dims}, train/validation/test {len(train_x)}/{len(validation)}/"
          f"{len(test)}", flush=True)
    results = {}
    results["Gaussian"] = dict(zip(("test", "details"), gaussian(train_x, test)))
    results["GaussianMixture"] = dict(zip(("test", "details"), gaussian_mixture(
        train_x, validation, test, FLAGS.seed)))
    for name, (log_prob, variables) in neural_models(num_dims, FLAGS.seed).items():
        results[name] = dict(zip(("test", "details"), train(
            name, log_prob, variables, config, train_x, validation, test)))
    levels = input_pipeline.dequantized_levels(config)
    for name, row in results.items():
        test_figure = row["test"]
        line = (f"  {name:16s} {test_figure['mean']:9.3f} ± {test_figure['standard_error']:.3f}"
                f"  (train {row['details']['train']:.3f})")
        if levels:
            row["nll_upper_bound_bits_per_dim"] = (num_dims * math.log(levels) - test_figure[
                "mean"]) / (num_dims * math.log(2))
            line += f"  (NLL <= {row['nll_upper_bound_bits_per_dim']:.4f} bits/dim)"
        rate = row["details"].get("examples_per_second")
        if rate:
            line += f"  {rate:,.0f} examples/s"
        print(line, flush=True)
    neural = ("tfar MADE MoG", "tfar RNADE")
    best_tfar = max(neural, key=lambda n: results[n]["test"]["mean"])
    margins = {other: results[best_tfar]["test"]["mean"] - results[other]["test"]["mean"]
               for other in ("TFP MAF", "GaussianMixture", "Gaussian")}
    print(f"  best tfar model: {best_tfar}; its test log-likelihood minus: " + ", ".join(
        f"{other} {margin:+.3f}" for other, margin in margins.items()), flush=True)
    return {"num_dims": num_dims, "sizes": [len(train_x), len(validation), len(test)],
            "results": results, "best_tfar": best_tfar, "margins": margins}


def main(argv):
    del argv
    report = {"flags": {name: FLAGS[name].value for name in (
        "steps", "eval_every", "batch_size", "learning_rate", "hidden_units", "num_mixtures",
        "flows", "seed")}, "datasets": {}}
    for dataset in FLAGS.datasets:
        result = run_dataset(dataset)
        if result is not None:
            report["datasets"][dataset] = result
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    app.run(main)
