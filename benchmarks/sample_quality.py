"""Sample quality beside likelihood: every digits config's test NLL, MMD² and samples/s.

For each config of `--configs` (the embedded 8×8 digits, 1,437 train / 360 test images):
`train_main.py --config=configs/<config>.py --workdir=<--runs>/<config>` (a finished run
only re-evaluates; any other field can be set for all with `--override`), then from its
metrics.json and its SavedModel:

  test NLL         nats per image (a likelihood model's; RNADE on dequantized digits: its
                   bound on the 17-level images' NLL in nats, D·log 17 − log-likelihood);
  test MMD²        `tfar.metrics.mmd2` of 360 samples and the 360 test images, both as
                   intensities in [0, 1] (the trainer's `test_mmd2`, mmd_samples=360);
  confident        the fraction of those samples that a digit classifier trained on the
                   real train images (scikit-learn's RBF `SVC`, its probabilities
                   calibrated by `CalibratedClassifierCV`, on intensities) names with
                   probability >= 0.9, and how many of the ten digits those calls
                   cover; the real test images give the ceiling (a classifier guessing
                   would name each digit with probability 0.1);
  samples/s        360 samples through the export's `sample` signature (the served
                   model), the second call timed (a class-conditional model: 36 of each
                   class).

  python benchmarks/sample_quality.py                        # every digits config
  python benchmarks/sample_quality.py --configs=default,gmmn_digits --runs=/tmp/runs
"""

import json
import os
import subprocess
import sys
import time

from absl import app, flags

import tfar  # sets the Keras backend first
import tfar.data
from tfar.training import evaluation

import numpy as np
import tensorflow as tf

FLAGS = flags.FLAGS
flags.DEFINE_list("configs", ["default", "made_digits", "fvsbn_digits", "pixelcnn_digits",
                              "gated_pixelcnn_digits", "pixelrnn_digits",
                              "rnade_dequantized_digits", "gmmn_digits"],
                  "configs/<name>.py on the digits.")
flags.DEFINE_string("runs", "runs", "Where each config's workdir is (<runs>/<config>).")
flags.DEFINE_integer("num_samples", 360, "Samples for the MMD² and the classifier (at "
                     "most the 360 test images).")
flags.DEFINE_multi_string("override", [], "A --config.<field>=<value> for every run, e.g. "
                          "--override=--config.train.steps=20.")
flags.DEFINE_float("confidence", 0.9, "Probability above which the classifier names a digit.")
flags.DEFINE_string("output", None, "Optional JSON file for the results.")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVELS = 17


def train(config):
    workdir = os.path.join(FLAGS.runs, config)
    command = [sys.executable, os.path.join(ROOT, "train_main.py"),
               f"--config={os.path.join(ROOT, 'configs', config + '.py')}",
               f"--workdir={workdir}", f"--config.eval.mmd_samples={FLAGS.num_samples}",
               *FLAGS.override]
    began = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"{config}: train_main.py failed: {run.stderr[-2000:]}")
    print(f"  {config}: {run.stdout.strip()} ({time.perf_counter() - began:.0f} s)",
          flush=True)
    with open(os.path.join(workdir, "metrics.json")) as f:
        return json.load(f)


def classifier():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC
    train = tfar.data.read("digits", "train")
    x = train.images.reshape(len(train.images), -1) / (LEVELS - 1)
    return CalibratedClassifierCV(SVC(), ensemble=False).fit(x, train.labels)


def confident(judge, intensities):
    """(fraction of images named with probability >= --confidence, digits among them)."""
    probabilities = judge.predict_proba(intensities.reshape(len(intensities), -1))
    sure = probabilities.max(1) >= FLAGS.confidence
    return float(sure.mean()), int(len(set(probabilities.argmax(1)[sure])))


def timed_samples(export, count, num_classes):
    """(samples, samples/s) of the export's `sample` signature: the second call timed; a
    class-conditional model's sample i is drawn for class i mod num_classes."""
    sample = tf.saved_model.load(export).signatures["sample"]
    request = dict(num_samples=tf.constant(count, tf.int32), seed=tf.constant([1, 2]))
    if "conditional_input" in sample.structured_input_signature[1]:
        request["conditional_input"] = tf.range(num_classes, dtype=tf.int32)
    sample(**request)
    began = time.perf_counter()
    samples = sample(**request)["samples"].numpy()
    return samples, count / (time.perf_counter() - began)


def main(argv):
    del argv
    judge = classifier()
    test = tfar.data.read("digits", "test").images / (LEVELS - 1)
    ceiling = confident(judge, test)
    print(f"real test digits: {ceiling[0]:.1%} named with p >= {FLAGS.confidence}, "
          f"{ceiling[1]} digits", flush=True)
    rows = {}
    for config in FLAGS.configs:
        metrics = train(config)
        samples, rate = timed_samples(metrics["export"], FLAGS.num_samples,
                                      metrics["config"]["data"]["num_classes"])
        fraction, digits = confident(  # sample_num_values None: intensities (GMMN, RNADE)
            judge, evaluation.intensities(samples, metrics["sample_num_values"]))
        nll = metrics.get("test_nll_nats")
        if nll is None and "test_log_likelihood_nats" in metrics:  # dequantized: the bound
            nll = 64 * np.log(LEVELS) - metrics["test_log_likelihood_nats"]
        rows[config] = {"model": metrics["model"], "test_nll_nats": nll,
                        "test_mmd2": metrics["test_mmd2"], "confident": fraction,
                        "digits": digits, "samples_per_second": rate,
                        "train_steps": metrics["step"]}
    print(f"\n{'config':28s} {'model':12s} {'test NLL':>9s} {'MMD²':>9s} {'confident':>9s} "
          f"{'digits':>6s} {'samples/s':>10s}")
    for config, row in rows.items():
        nll = "-" if row["test_nll_nats"] is None else f"{row['test_nll_nats']:.2f}"
        print(f"{config:28s} {row['model']:12s} {nll:>9s} {row['test_mmd2']:9.5f} "
              f"{row['confident']:9.1%} {row['digits']:6d} {row['samples_per_second']:10,.0f}")
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump({"ceiling": {"confident": ceiling[0], "digits": ceiling[1]},
                       "rows": rows}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
