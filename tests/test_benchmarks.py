"""The benchmark scripts run end to end (tiny sizes; real MNIST when it is present)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist")


def run(args):
    result = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
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
