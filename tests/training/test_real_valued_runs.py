"""train_and_evaluate on real values: a tabular set and dequantized digits.

The figures are the quantities they name: the test log-likelihood is the mean of the
exported model's log-density over the test split (nats per example) with the standard
error of that mean; for dequantized images the bound on the integer images' NLL is
(D · log L - log-likelihood) / (D · ln 2).
"""

import json
import math
import os

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from tfar.training import evaluation, input_pipeline, train_and_evaluate
from tiny import tiny_config


def _config(source, model, **data):
    config = tiny_config(batch_size=16, steps=30, learning_rate=3e-3)
    config.data.source = source
    config.data.update(data)
    config.model = ml_collections.ConfigDict(model)
    return config


def _test_rows(config):
    data = input_pipeline.with_splits(config.data)
    return np.concatenate([x for x, _ in input_pipeline.test_batches(data, 500)])


def _exported_log_probs(metrics, rows):
    log_prob = tf.saved_model.load(metrics["export"]).signatures["log_prob"]
    return log_prob(images=tf.constant(rows))["log_prob"].numpy().astype(np.float64)


def test_rnade_on_a_tabular_set_reports_its_test_log_likelihood(tmp_path):
    config = _config("sklearn:wine", dict(name="rnade", hidden_units=8, num_mixtures=3))
    workdir = str(tmp_path / "run")
    metrics = train_and_evaluate(config, workdir)
    rows = _test_rows(config)
    assert rows.shape == (17, 13) and metrics["test_images"] == 17
    log_probs = _exported_log_probs(metrics, rows)
    assert metrics["test_log_likelihood_nats"] == pytest.approx(log_probs.mean(), rel=1e-5)
    assert metrics["test_log_likelihood_standard_error"] == pytest.approx(
        log_probs.std(ddof=1) / math.sqrt(17), rel=1e-4)
    assert not any("bits_per_dim" in key or "nll" in key for key in metrics)
    written = json.load(open(os.path.join(workdir, "metrics.json")))
    assert written["dataset"]["num_values"] is None and written["dataset"]["event_shape"] == [13]
    assert "nats/example" in written["test_line"]
    assert not os.path.exists(os.path.join(workdir, "samples.png"))  # rows are no picture


def test_made_mog_on_dequantized_digits_reports_the_bound_on_the_integer_nll(tmp_path):
    config = _config("digits", dict(name="made", hidden_units=(16,),
                                    likelihood="mixture_of_gaussians", num_mixtures=2),
                     dequantize=True)
    workdir = str(tmp_path / "run")
    metrics = train_and_evaluate(config, workdir)
    rows = _test_rows(config)
    np.testing.assert_array_equal(np.floor(rows * 17),  # the test split, dequantized
                                  _integer_test_images())
    log_likelihood = _exported_log_probs(metrics, rows).mean()
    assert metrics["test_log_likelihood_nats"] == pytest.approx(log_likelihood, rel=1e-5)
    assert metrics["change_of_variables_nats"] == pytest.approx(64 * math.log(17))
    assert metrics["test_nll_upper_bound_bits_per_dim"] == pytest.approx(
        (64 * math.log(17) - log_likelihood) / (64 * math.log(2)), rel=1e-5)
    assert 0 < metrics["test_nll_upper_bound_bits_per_dim"] < math.log2(17) + 1
    written = json.load(open(os.path.join(workdir, "metrics.json")))
    assert written["dataset"]["dequantized_levels"] == 17
    assert os.path.exists(os.path.join(workdir, "samples.png"))


def _integer_test_images():
    import tfar.data
    return tfar.data.read("digits", "test").images.astype(np.float32)


def test_a_discrete_model_on_real_values_is_refused_before_anything_is_written(tmp_path):
    config = _config("sklearn:wine", dict(name="nade", hidden_units=8))
    with pytest.raises(ValueError, match="num_values"):
        train_and_evaluate(config, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run")


def test_report_names_each_figure():
    metrics = {"metric": "nll", "nats": 10.0, "standard_error_nats": 0.5,
               "bits_per_dim": 10 / (4 * math.log(2)), "num_images": 9, "num_dims": 4}
    figures, line = evaluation.report(metrics)
    assert figures == {"test_nll_nats": 10.0, "test_bits_per_dim": metrics["bits_per_dim"]}
    figures, line = evaluation.report(metrics, real_valued=True)
    assert figures == {"test_log_likelihood_nats": -10.0,
                       "test_log_likelihood_standard_error": 0.5}
    assert line == "test log-likelihood -10.000 ± 0.500 nats/example"
    figures, _ = evaluation.report(metrics, real_valued=True, dequantized_levels=16)
    assert figures["test_nll_upper_bound_bits_per_dim"] == pytest.approx((4 * 4 + 10 / math.log(2)) / 4)
    with pytest.raises(ValueError, match="log-likelihood"):
        evaluation.report(dict(metrics, metric="nll_bound_iwae_k64"), real_valued=True)
