"""The serving guide (docs/serving.md, once the README's Serving section), run as written:
its `models.config` and batching config parse as TF Serving's protos, and its
`saved_model_cli run` line samples an export."""

import os
import re
import subprocess
import sys

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

import tfar
import tfar.export

SERVING = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "serving.md")
# tensorflow_serving/servables/tensorflow/session_bundle_config.proto's BatchingParameters
# (not in the tensorflow-serving-api wheel).
BATCHING_FIELDS = {"max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                   "num_batch_threads", "thread_pool_name", "allowed_batch_sizes",
                   "pad_variable_length_inputs", "enable_large_batch_splitting",
                   "max_execution_batch_size"}


def serving_section():
    return open(SERVING, encoding="utf-8").read()


def plain_blocks():
    """The guide's code blocks without a language (TF Serving's text protos)."""
    blocks, block, language = [], None, None
    for line in serving_section().splitlines(keepends=True):
        if line.startswith("```"):
            if block is None:
                block, language = [], line[3:].strip()
            else:
                if not language:
                    blocks.append("".join(block))
                block = None
        elif block is not None:
            block.append(line)
    return blocks


def test_models_config_parses_as_a_model_server_config():
    (block,) = [b for b in plain_blocks() if b.startswith("model_config_list")]
    config = text_format.Parse(block, model_server_config_pb2.ModelServerConfig())
    models = {c.name: c for c in config.model_config_list.config}
    assert sorted(models) == ["digits", "mnist"]
    assert list(models["digits"].model_version_policy.specific.versions) == [2000, 3000]
    assert all(c.model_platform == "tensorflow" for c in models.values())


def test_batching_config_names_batching_parameters():
    (block,) = [b for b in plain_blocks() if b.startswith("max_batch_size")]
    fields = re.findall(r"^(\w+) \{ value: \d+ \}$", block, flags=re.M)
    assert len(fields) == len(block.strip().splitlines()) and set(fields) <= BATCHING_FIELDS


def test_saved_model_cli_run_samples_an_export(tmp_path):
    (line,) = re.findall(r"saved_model_cli run .*\n.*", serving_section())
    exprs = re.search(r"--input_exprs '([^']*)'", line).group(1)
    d = tfar.NADE(event_shape=(8, 8, 1), num_values=17, hidden_units=8)
    path = tfar.export.export(d, tmp_path / "digits")
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    run = subprocess.run([cli, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
                          "sample", "--input_exprs", exprs], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Result for output key samples" in run.stdout
    values = [float(v) for v in re.findall(r"-?\d+\.", run.stdout.split("samples:", 1)[1])]
    assert len(values) == 2 * 8 * 8 and all(0 <= v < 17 for v in values)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
