"""tfar.export.client.RestClient and the shell client against TF Serving's REST API.

TF Serving's model server cannot be installed here, so the server is `rest_server.py`'s
stand-in on 127.0.0.1: it serves the exported SavedModels behind TF Serving's documented
`:predict` JSON (row and columnar forms, `{"error": ...}` answers).
"""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
import tensorflow as tf

import checks
import keras
import tfar
import tfar.export
from rest_server import RestServer
from tfar.export import client as client_module
from tfar.export.client import RestClient, ServingError

# One worker builds the module's fixture (pyproject: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("rest_client")

SEED = (5, 6)


MODELS = {  # served name: constructor
    "made": lambda: tfar.MADE(event_shape=(2, 3), num_values=3, hidden_units=(8,)),
    "vectors": lambda: tfar.MADE(event_shape=(4,), num_values=2, hidden_units=(8,),
                                 conditional_shape=(3,)),
    "labels": lambda: tfar.MADE(event_shape=(4,), num_values=2, hidden_units=(8,),
                                conditioning=tfar.conditioning.ClassLabel(3)),
    "int32": lambda: tfar.FVSBN(event_shape=(2, 2), num_values=3, dtype=tf.int32),
    "captions": lambda: tfar.GatedPixelCNN(
        image_shape=(2, 2, 1), num_values=3, num_layers=2, num_filters=4, first_kernel_size=3,
        text_encoder=checks.caption_encoder()),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(server, {name: distribution}, (images, their log-probs under "made" version 1)):
    each model exported and served; "made" has a version 1 and, trained further, 2."""
    keras.utils.set_random_seed(0)
    base = tmp_path_factory.mktemp("models")
    models, versions = {}, {}
    for name, make in MODELS.items():
        d = models[name] = make()
        checks.randomize_weights(d)
        versions[name] = {1: tfar.export.export(d, base / name)}
    made = models["made"]
    images = images_for(made)
    made_v1 = images, made.log_prob(images).numpy()
    checks.train_a_few_steps(made, steps=5)
    versions["made"][2] = tfar.export.export(made, base / "made")
    with RestServer(versions) as server:
        yield server, models, made_v1


def images_for(d, rows=3):
    return d.sample(rows, seed=(1, 2), **condition(d, rows)).numpy()


def condition(d, rows):
    """The conditional_input keyword for `rows` rows of `d` (none when unconditional)."""
    c = checks.random_conditions(d, rows)
    return {} if c is None else {"conditional_input": c}


@pytest.mark.parametrize("name", list(MODELS))
def test_columnar_form_matches_the_model(served, name):
    """log_prob to 1e-5, and the same samples and completions for the same seed."""
    server, models, _ = served
    d = models[name]
    client = RestClient(server.address, name)
    images, c = images_for(d), condition(d, 3)
    dtype = d.dtype.as_numpy_dtype
    np.testing.assert_allclose(client.log_prob(images, dtype=dtype, **c),
                               d.log_prob(images, **c), atol=1e-5)
    samples = client.sample(6, seed=SEED, **condition(d, 2))
    assert samples.dtype == dtype
    np.testing.assert_array_equal(samples, d.sample(6, seed=SEED, **condition(d, 2)))
    mask = np.zeros(images.shape, bool)
    mask[:, 0] = True
    completed = client.complete(images, mask, SEED, dtype=dtype, **c)
    assert completed.dtype == dtype
    np.testing.assert_array_equal(completed, d.complete(images, mask, seed=SEED, **c))


@pytest.mark.parametrize("dtype, form", [(np.uint8, "columnar"), (np.int64, "columnar"),
                                         (np.int32, "row")])
def test_images_go_to_the_signature_of_their_dtype(served, dtype, form):
    """Integer images (as files and decoders give them) reach `log_prob_<dtype>` and
    `complete_<dtype>`, and completions come back in their dtype."""
    server, models, _ = served
    d = models["labels"]
    images, c = images_for(d).astype(dtype), condition(d, 3)
    client = RestClient(server.address, "labels", form=form)
    np.testing.assert_allclose(client.log_prob(images, **c), d.log_prob(images, **c),
                               atol=1e-5)
    if form == "columnar":
        mask = np.zeros(images.shape, bool)
        mask[:, :2] = True
        completed = client.complete(images, mask, SEED, num_particles=3, **c)
        assert completed.dtype == dtype
        np.testing.assert_array_equal(
            completed, d.complete(images, mask, seed=SEED, num_particles=3, **c))


@pytest.mark.parametrize("name", ["made", "labels", "captions"])
def test_row_form_log_prob_matches_the_model(served, name):
    server, models, _ = served
    d = models[name]
    images, c = images_for(d), condition(d, 3)
    np.testing.assert_allclose(RestClient(server.address, name, form="row").log_prob(images, **c),
                               d.log_prob(images, **c), atol=1e-5)


def test_row_form_refuses_inputs_without_a_batch_dimension(served):
    """`sample`'s num_samples [] and the seed [2] of `sample` and `complete` cannot be rows:
    the client says to use the columnar form, and TF Serving refuses such a request."""
    server, models, _ = served
    client = RestClient(server.address, "made", form="row")
    with pytest.raises(ValueError,
                       match="sample cannot be sent in the row .*num_samples.*columnar"):
        client.sample(4, seed=SEED)
    images = images_for(models["made"])
    with pytest.raises(ValueError,
                       match=r"complete cannot be sent in the row .*seed int32 \[2\]"):
        client.complete(images, np.ones(images.shape, bool), SEED)
    with pytest.raises(ValueError, match=r"share the batch dimension; got seed \[2\]"):
        client.predict("decode", {"seed": np.array(SEED), "images": images})
    request = {"signature_name": "sample", "instances": [{"num_samples": 4, "seed": [1, 2]}]}
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{server.address}/v1/models/made:predict",
                               json.dumps(request).encode(), timeout=30)
    assert error.value.code == 400
    assert "should be a scalar" in json.loads(error.value.read())["error"]


def test_versions(served):
    """A pinned version answers with its own weights; the default is the latest."""
    server, models, (images, made_v1) = served
    np.testing.assert_allclose(RestClient(server.address, "made", version=1).log_prob(images),
                               made_v1, atol=1e-5)
    np.testing.assert_allclose(RestClient(server.address, "made").log_prob(images),
                               models["made"].log_prob(images), atol=1e-5)
    assert not np.allclose(made_v1, models["made"].log_prob(images))


def test_errors_name_the_model_version_signature_and_the_servers_text(served):
    server, models, _ = served
    images = images_for(models["made"])
    with pytest.raises(ServingError, match=r"model 'made' \(version 7\), signature 'log_prob' "
                                           r"\(404\): Servable not found.*Specific\(made, 7\)"):
        RestClient(server.address, "made", version=7).log_prob(images)
    with pytest.raises(ServingError, match=r"'nope' \(latest version\).*Latest\(nope\)"):
        RestClient(server.address, "nope").log_prob(images)
    with pytest.raises(ServingError, match=r"signature 'decode' \(400\): .*\"decode\" not found"):
        RestClient(server.address, "made").predict("decode", {"images": images})
    with pytest.raises(ServingError, match=r"(?s)'log_prob' \(400\): .*x holds values >= 3.*\[7\]"):
        RestClient(server.address, "made").log_prob(np.full([2, 2, 3], 7.0))
    with pytest.raises(ServingError, match=r"'log_prob' \(400\): .*not of expected type: int32"):
        RestClient(server.address, "int32").log_prob(np.full([1, 2, 2], 0.5))


def test_timeout_and_refused_connection(served):
    server, _, _ = served
    server.delay = 1.0
    try:
        with pytest.raises(ServingError, match=r"no answer from http://127.0.0.1:\d+ within "
                                               r"0.2 s") as error:
            RestClient(server.address, "made", timeout=0.2).sample(1, seed=SEED)
    finally:
        server.delay = 0.0
    assert error.value.status is None
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{free.getsockname()[1]}"
    with pytest.raises(ServingError, match=f"cannot reach TF Serving at http://{address}: "
                                           ".*refused"):
        RestClient(address, "made").sample(1, seed=SEED)


def test_outputs_of_several_named_tensors():
    """A signature with several outputs (PixelVAE's encode) gets a dict in both forms."""
    columnar = {"mean": [[0.5, 1.0]], "stddev": [[1.0, 2.0]]}
    rows = [{"mean": [0.5, 1.0], "stddev": [1.0, 2.0]}]
    for value, form in ((columnar, "columnar"), (rows, "row")):
        outputs = client_module._outputs(value, form)
        np.testing.assert_array_equal(outputs["stddev"], np.float32([[1.0, 2.0]]))
        assert outputs["mean"].dtype == np.float32
    np.testing.assert_array_equal(client_module._outputs([{"b64": "YQ=="}], "row"),
                                  np.array([b"a"], object))


def test_shell_client(served, tmp_path, capsys):
    """The shell client: --help lists the commands; `python -m tfar.export.client sample`
    writes a .npy (without grpc installed); log_prob prints JSON; a server error is one line
    and exit status 1."""
    server, models, _ = served
    with pytest.raises(SystemExit) as exit_status:
        client_module.main(["--help"])
    assert exit_status.value.code == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in ("log_prob", "sample", "complete", "--grpc"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(tfar.__file__)), os.environ.get("PYTHONPATH", "")])}
    output = tmp_path / "samples.npy"
    np.save(tmp_path / "labels.npy", np.int32([0, 2]))
    argv = ["python -m tfar.export.client", f"--address={server.address}", "--model=labels",
            "sample", "--num_samples=4", "--seed=5,6", f"--condition={tmp_path / 'labels.npy'}",
            f"--output={output}"]
    # `python -m`, as runpy runs it, in a process where grpc cannot be imported.
    ran = subprocess.run(
        [sys.executable, "-c", "import runpy, sys; sys.modules['grpc'] = None; "
         f"sys.argv = {argv!r}; runpy.run_module('tfar.export.client', run_name='__main__')"],
        env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    d = models["labels"]
    np.testing.assert_array_equal(np.load(output),
                                  d.sample(4, seed=SEED, conditional_input=np.int32([0, 2])))

    images = images_for(models["captions"], rows=2)
    np.save(tmp_path / "images.npy", images)
    captions = list(checks.CAPTIONS[:2])
    argv = [f"--address={server.address}", "--model=captions", "--form=row", "log_prob",
            f"--images={tmp_path / 'images.npy'}", "--caption", captions[0],
            "--caption", captions[1]]
    assert client_module.main(argv) == 0
    np.testing.assert_allclose(json.loads(capsys.readouterr().out),
                               models["captions"].log_prob(images, conditional_input=captions),
                               atol=1e-5)
    assert client_module.main([f"--address={server.address}", "--model=nope", "sample",
                               "--num_samples=1", "--seed=1,2"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Servable not found" in error
