"""The benchmark scripts run end to end (tiny sizes; real MNIST when it is present)."""

import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist")


def run(args, timeout=300):
    result = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="the MNIST test set is not beside the project")
def test_made_vs_tfp_prints_both_models_and_ratios():
    out = run(["benchmarks/made_vs_tfp.py", f"--data_dir={MNIST}", "--steps=20", "--chunk=10",
               "--hidden_units=50", "--num_masks=2"])
    for line in ("tfar MADE ", "TFP AutoregressiveNetwork", "tfar MADE, 2 masks",
                 "tfar/TFP throughput ratio:", "tfar/TFP test NLL ratio:", "(one mask:"):
        assert line in out


def test_nade_log_prob_benchmark_has_no_loop():
    out = run(["benchmarks/nade_log_prob.py", "--num_dims=64", "--hidden_units=32",
               "--batch_size=8", "--repeats=3"])
    assert out.count("0 while loops") == 2 and "NADE / MADE time ratio:" in out


@pytest.mark.slow  # 25 s: two trainings
@pytest.mark.skipif(not os.path.isdir(MNIST), reason="the MNIST test set is not beside the project")
def test_pixelcnn_vs_tfp_reports_both_models(tmp_path):
    output = tmp_path / "pixelcnn_vs_tfp.json"
    out = run(["benchmarks/pixelcnn_vs_tfp.py", f"--data_dir={MNIST}", "--steps=4", "--chunk=2",
               "--batch_size=4", "--num_filters=4", "--num_layers=2", "--num_mixtures=2",
               "--num_samples=1", f"--output={output}"])
    for line in ("tfar/TFP throughput ratio:", "tfar/TFP test bits/dim ratio:",
                 "tfar/TFP sampling time ratio:"):
        assert line in out
    with open(output) as f:
        report = json.load(f)
    assert report["tfp_layout"] == {"num_hierarchies": 1, "num_resnet": 1, "gated_layers": 2}
    for name in ("tfar GatedPixelCNN", "TFP PixelCNN"):
        row = report["results"][name]
        assert math.isfinite(row["test_bits_per_dim"]) and 0 < row["test_bits_per_dim"] < 8
        assert row["params"] > 0 and row["images_per_second"] > 0 and row["sample_seconds"] > 0
        assert row["last_loss_nats"] < row["first_loss_nats"]  # both models train
        assert row["autoregressive_leak"] < 1e-3 and row["sample_finite"]
    assert set(report["ratios"]) >= {"throughput_tfar_over_tfp", "bits_per_dim_tfar_over_tfp",
                                     "sample_seconds_tfar_over_tfp"}


def test_ensembles_benchmark_prints_old_and_new_paths_and_ratios():
    out = run(["benchmarks/ensembles.py", "--num_dims=12", "--hidden_units=8",
               "--num_orderings=3", "--num_masks=3", "--batch_sizes=2,5", "--rounds=2"])
    lines = [line for line in out.splitlines() if "old/new time ratio:" in line]
    assert [line.split(",")[0] for line in lines] == ["NADE", "MADE"] * 2
    assert all("batch 2:" in line for line in lines[:2]) and "batch 5:" in lines[3]
    assert "W x per order" in lines[0] and "W x once" in lines[0]
    assert "1 mask set at a time" in lines[1] and "3 at a time" in lines[1]
    for line in lines:  # the two paths compute the same log-probs
        assert float(line.rsplit(" ", 1)[1]) < 1e-4


def test_made_large_reports_memory_beside_constant_masks():
    out = run(["benchmarks/made_large.py", "--num_dims=20", "--hidden_units=30",
               "--num_masks=3", "--batch_size=2"])
    assert "3 masks" in out and "peak resident memory" in out and "ensemble log_prob" in out
    assert "mask sets at a time: 3" in out


@pytest.mark.slow  # about 4 minutes: 31 processes
def test_sampling_benchmark_times_every_sampler_and_prints_ratios(tmp_path):
    output = tmp_path / "sampling.json"
    out = run(["benchmarks/sampling.py", "--size=4", "--batch_size=2", "--num_layers=2",
               "--num_filters=4", "--num_mixtures=2", "--made_hidden_units=8",
               f"--output={output}"], timeout=900)
    for line in ("speed-up of tfar GatedPixelCNN cached over tfar GatedPixelCNN naive:",
                 "speed-up of tfar GatedPixelCNN cached over TFP PixelCNN:",
                 "speed-up of tfar PixelCNN cached over tfar PixelCNN naive:",
                 "speed-up of tfar PixelRNN Row LSTM cached over tfar PixelRNN Row LSTM naive:",
                 "speed-up of tfar PixelRNN Diagonal BiLSTM cached over "
                 "tfar PixelRNN Diagonal BiLSTM naive:",
                 "speed-up of tfar MADE cached over tfar MADE naive:",
                 "speed-up of tfar NADE cached over tfar NADE naive:",
                 "speed-up of tfar MultiscalePixelCNN cached over "
                 "tfar MultiscalePixelCNN naive:",
                 "speed-up of tfar PixelCNN++ cached over TFP PixelCNN:", "peak RSS MB"):
        assert line in out
    for model in ("GatedPixelCNN", "PixelCNN", "PixelRNN Row LSTM", "PixelRNN Diagonal BiLSTM",
                  "MADE", "NADE", "PixelCNN++", "MultiscalePixelCNN"):
        assert f"speed-up of tfar {model} compiled over cached:" in out
    with open(output) as f:
        report = json.load(f)
    assert set(report) == {"28x28x1", "32x32x3", "784"}
    for config, result in report.items():
        for row in result["rows"]:
            assert row["seconds"] > 0 and row["peak_rss_mb"] >= row["rss_before_mb"] > 0
            low, high = row["values"]
            assert 0 <= low <= high <= (255 if config == "32x32x3" else 1)


@pytest.mark.slow
def test_export_sampling_times_the_tf1_loader_beside_python():
    out = run(["benchmarks/export_sampling.py", "--size=3", "--batch_size=2", "--repeats=1",
               "--models=pixelcnn,made"])
    results = json.loads(out.strip().splitlines()[-1])
    assert set(results) == {"pixelcnn", "made"}
    for rows in results.values():
        assert set(rows) == {"python", "python compiled", "TF1 loader", "TF1 loader compiled"}
        for row in rows.values():     # every path draws Python's samples from the seed
            assert row["images_unlike_python"] == 0 and row["seconds"] > 0


@pytest.mark.slow
def test_train_throughput_times_configs_side_by_side():
    out = run(["benchmarks/train_throughput.py", "--shape=4,4,1", "--rounds=1", "--steps=1",
               "--models=pixelcnn_binarized_mnist_small,"
               "pixelrnn_binarized_mnist_small:cell=row_lstm;num_layers=1,"
               "pixelrnn_binarized_mnist_small:diagonal_bilstm_scans=2;num_layers=1,"
               "pixelvae_binarized_mnist_small"])
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [row[0] for row in rows] == [
        "pixelcnn_binarized_mnist_small",
        "pixelrnn_binarized_mnist_small:cell=row_lstm;num_layers=1",
        "pixelrnn_binarized_mnist_small:diagonal_bilstm_scans=2;num_layers=1",
        "pixelvae_binarized_mnist_small"]
    assert all(float(row[3]) > 0 for row in rows) and float(rows[0][4]) == 1.0


@pytest.mark.slow  # 20 s: three processes
def test_multiscale_benchmark_prints_steps_times_and_ratios():
    out = run(["benchmarks/multiscale.py", "--sizes=8", "--batch_size=2", "--num_layers=2",
               "--num_filters=8", "--upscale_blocks=1"])
    assert "tfar MultiscalePixelCNN                        19" in out     # 16 + 3 steps
    assert "tfar GatedPixelCNN cached                      64" in out
    for line in ("speed-up of multiscale over tfar GatedPixelCNN cached:",
                 "speed-up of multiscale over tfar GatedPixelCNN naive (extrapolated):",
                 "peak RSS MB"):
        assert line in out


@pytest.mark.slow  # about 35 s on 2 idle cores: a 10-step train_main.py run, then the judge
def test_caption_accuracy_judges_a_tiny_captioned_run(tmp_path):
    workdir, grid = tmp_path / "run", tmp_path / "grid.png"
    run(["train_main.py", "--config=configs/gated_pixelcnn_captioned_digits.py",
         f"--workdir={workdir}", "--config.model.num_layers=2", "--config.model.num_filters=8",
         "--config.train.steps=10", "--config.train.steps_per_loop=10",
         "--config.train.warmup_steps=2", "--config.eval.num_samples=8",
         "--config.eval.sample_columns=4", "--config.data.train_split=train[:2000]",
         "--config.data.test_split=test[:500]"])
    out = run(["benchmarks/caption_accuracy.py", f"--workdir={workdir}",
               "--samples_per_caption=2", "--two_digit_captions=2", "--judge_train_images=1000",
               "--judge_test_images=300", f"--grid={grid}", f"--output={tmp_path / 'r.json'}"])
    for line in ("judge accuracy on the cells of 300 real test images:",
                 "real test images whose caption the judge confirms:",
                 "seen in training                         30       60",
                 "held out (HELD_OUT)                      10       20",
                 "baseline: judged vs another caption", "chance: 1 of 40",
                 "relation and both digits right", "wrote"):
        assert line in out, out
    with open(tmp_path / "r.json") as f:
        report = json.load(f)
    assert 0.5 < report["judge"]["cells"] <= 1  # the judge is fitted: empty cells alone are 5/8
    for group in ("seen", "held_out", "mismatched", "two_digit"):
        assert 0 <= report[group]["fraction"] <= 1
    assert grid.exists()


@pytest.mark.slow  # about 40 s: two 5-step train_main.py runs, then the script
def test_super_resolution_completes_with_every_run(tmp_path):
    common = ["--config.train.steps=5", "--config.train.steps_per_loop=5",
              "--config.train.warmup_steps=1", "--config.eval.num_samples=2",
              "--config.data.source=digits", "--config.data.pad_to=16,16",
              "--config.data.test_split=test[:40]", "--config.model.base_size=4"]
    runs = {"cnn": ["--config=configs/multiscale_pixelcnn_mnist32.py",
                    "--config.model.base_layers=1", "--config.model.upscale_blocks=1"],
            "rnn": ["--config=configs/multiscale_pixelrnn_mnist32.py",
                    "--config.model.base_layers=1", "--config.model.num_layers=1",
                    "--config.model.hidden_units=4", "--config.model.base_hidden_units=4"]}
    for name, flags in runs.items():
        run(["train_main.py", f"--workdir={tmp_path / name}"] + flags + common)
    png = tmp_path / "sr.png"
    out = run(["benchmarks/super_resolution.py",
               f"--workdirs={tmp_path / 'cnn'},{tmp_path / 'rnn'}", "--num_images=4",
               f"--output={png}"])
    assert "4 test images (16, 16, 1) of digits, small images 4×4 (f = 4) given" in out, out
    assert "multiscale_pixelcnn" in out and "multiscale_pixelrnn" in out
    assert png.exists()


@pytest.mark.slow  # 40 s: three trainings on two data sets
def test_real_valued_benchmark_reports_every_contender(tmp_path):
    output = tmp_path / "real_valued.json"
    out = run(["benchmarks/real_valued.py", "--datasets=wine,digits", "--steps=30",
               "--eval_every=10", "--hidden_units=8", "--num_mixtures=2", "--flows=2",
               "--gmm_components=1,2", f"--output={output}"])
    assert out.count("best tfar model:") == 2 and "NLL <= " in out
    with open(output) as f:
        report = json.load(f)
    for name, dataset in report["datasets"].items():
        assert set(dataset["results"]) == {"Gaussian", "GaussianMixture", "TFP MAF",
                                           "tfar MADE MoG", "tfar RNADE"}
        for row in dataset["results"].values():
            assert math.isfinite(row["test"]["mean"]) and row["test"]["standard_error"] > 0
            assert math.isfinite(row["details"]["train"])
        for name in ("TFP MAF", "tfar MADE MoG", "tfar RNADE"):
            details = dataset["results"][name]["details"]
            assert details["examples_per_second"] > 0 and 10 <= details["best_step"] <= 30
    digits = report["datasets"]["digits"]
    assert digits["num_dims"] == 64 and digits["sizes"] == [1293, 144, 360]
    bound = digits["results"]["tfar RNADE"]["nll_upper_bound_bits_per_dim"]
    assert bound == pytest.approx((64 * math.log(17) - digits["results"]["tfar RNADE"]["test"][
        "mean"]) / (64 * math.log(2)))


@pytest.mark.slow  # 60 s: two short runs of train_main.py
def test_sample_quality_benchmark_reports_nll_mmd_and_speed(tmp_path):
    output = tmp_path / "sample_quality.json"
    out = run(["benchmarks/sample_quality.py", "--configs=default,gmmn_digits",
               f"--runs={tmp_path / 'runs'}", "--num_samples=40",
               "--override=--config.train.steps=20", "--override=--config.train.log_every=10",
               "--override=--config.export.enabled=true", f"--output={output}"])
    assert "real test digits:" in out and "samples/s" in out
    with open(output) as f:
        report = json.load(f)
    nade, gmmn = report["rows"]["default"], report["rows"]["gmmn_digits"]
    assert nade["model"] == "NADE" and math.isfinite(nade["test_nll_nats"])
    assert gmmn["model"] == "GMMN" and gmmn["test_nll_nats"] is None
    for row in (nade, gmmn):
        assert math.isfinite(row["test_mmd2"]) and row["samples_per_second"] > 0
        assert 0 <= row["confident"] <= 1 and row["train_steps"] == 20
    assert report["ceiling"]["confident"] > 0.8 and report["ceiling"]["digits"] == 10


def test_mmd_benchmark_prints_value_time_and_memory():
    out = run(["benchmarks/mmd.py", "--num_samples=300", "--num_dims=20", "--block_size=64"])
    assert "mmd2 of 300 x 20 against the same:" in out and "peak resident memory:" in out


@pytest.mark.slow  # 50 s: three tiny models, four steps, two profiled
def test_rgb_benchmark_matches_parameters_and_times_every_sampler(tmp_path):
    output = tmp_path / "rgb.json"
    out = run(["benchmarks/rgb.py", "--size=8", "--steps=4", "--chunk=2", "--num_filters=8",
               "--gated_layers=2", "--num_mixtures=2", "--num_samples=1", "--test_images=20",
               "--profile_steps=2", f"--output={output}"])
    assert "of TFP's" in out and "sampling s" in out and "op self time per step" in out
    with open(output) as f:
        results = json.load(f)["results"]
    assert set(results) == {"TFP PixelCNN", "tfar PixelCNN++", "tfar GatedPixelCNN"}
    for row in results.values():
        assert abs(row["free_parameters_over_tfp"] - 1) < 0.1
        assert row["free_parameters"] <= row["stored_parameters"]
        assert row["train_images_per_second"] > 0 and row["op_profile"]
        assert math.isfinite(row["test_bits_per_dim"]) and row["sampling_seconds"]
    for name in ("tfar GatedPixelCNN", "tfar PixelCNN++"):
        assert set(results[name]["sampling_seconds"]) == {"naive", "cached"}
