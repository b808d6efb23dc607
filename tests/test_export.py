"""tfar.export: the SavedModel that TF Serving loads gives the in-memory results.

Every exported model is read back in a fresh process that does not import tfar
(`export_reader.py`), through TF Serving's TF1 session loader and `tf.saved_model.load`.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.apis import prediction_log_pb2

import checks
import tfar
import tfar.export
from tfar.export import saved_model

READER = os.path.join(os.path.dirname(__file__), "export_reader.py")
SEED = (5, 7)
NUM_PARTICLES = 3  # the exported complete resamples K = 3 completions

MODELS = {  # name: (constructor, train before export)
    "MADE_ensemble": (lambda: tfar.MADE(event_shape=(2, 3), num_values=3, hidden_units=(8,),
                                        ordering="random", num_masks=2, seed=1), True),
    "MADE_conditional": (lambda: tfar.MADE(event_shape=(4,), num_values=2, hidden_units=(8,),
                                           conditional_shape=(3,)), True),
    "NADE": (lambda: tfar.NADE(event_shape=(4,), num_values=2, hidden_units=5), True),
    "FVSBN_int32": (lambda: tfar.FVSBN(event_shape=(2, 2), num_values=3, dtype=tf.int32), False),
    "PixelCNN_rgb_categorical_conditional": (lambda: tfar.PixelCNN(
        image_shape=(2, 2, 3), num_values=4, num_layers=2, num_filters=6, first_kernel_size=3,
        conditional_shape=(3,)), True),
    "PixelRNN_diagonal_bilstm_rgb_conditional": (lambda: tfar.PixelRNN(
        image_shape=(2, 3, 3), num_values=4, num_layers=1, hidden_units=6, first_kernel_size=3,
        conditional_shape=(3,)), True),
    "PixelRNN_row_lstm": (lambda: tfar.PixelRNN(
        image_shape=(3, 2, 1), num_values=2, cell="row_lstm", num_layers=1, hidden_units=4,
        first_kernel_size=3), True),
    "GatedPixelCNN_mixture_conditional": (lambda: tfar.GatedPixelCNN(
        image_shape=(3, 3, 1), num_values=8, num_layers=2, num_filters=6, first_kernel_size=3,
        likelihood="logistic_mixture", num_mixtures=2, conditional_shape=(3,)), True),
    # A caption's vocabulary is a lookup table: TF Serving's loader must restore it.
    "GatedPixelCNN_caption": (lambda: tfar.GatedPixelCNN(
        image_shape=(2, 2, 1), num_values=3, num_layers=2, num_filters=4, first_kernel_size=3,
        text_encoder=checks.caption_encoder()), True),
    "PixelRNN_row_lstm_caption_attention": (lambda: tfar.PixelRNN(
        image_shape=(2, 2, 1), num_values=2, cell="row_lstm", num_layers=1, hidden_units=4,
        first_kernel_size=3, text_encoder=checks.caption_encoder(pooling="attention")), True),
    "MultiscalePixelCNN_rgb_conditional": (lambda: tfar.MultiscalePixelCNN(
        image_shape=(4, 4, 3), num_values=4, base_size=2, base_layers=2, base_filters=6,
        base_kernel_size=3, upscale_blocks=1, upscale_filters=6, conditional_shape=(3,)), True),
    "PixelCNNPlusPlus_rgb_conditional_weight_norm": (lambda: tfar.PixelCNNPlusPlus(
        image_shape=(2, 2, 3), num_values=4, num_resnet=1, num_hierarchies=2, num_filters=4,
        num_mixtures=2, dropout=0.5, conditional_shape=(3,), weight_norm=True), True),
    # Real values: float32 signatures alone (the head's support), samples as floats.
    "RNADE": (lambda: tfar.RNADE(event_shape=(3,), hidden_units=5, num_mixtures=2), True),
    "MADE_mixture_of_gaussians": (lambda: tfar.MADE(
        event_shape=(4,), hidden_units=(8,), likelihood="mixture_of_gaussians",
        num_mixtures=2), True),
    "MADE_class_label": (lambda: tfar.MADE(
        event_shape=(4,), num_values=2, hidden_units=(8,),
        conditioning=tfar.conditioning.ClassLabel(3)), True),
    "MultiscalePixelRNN_caption": (lambda: tfar.MultiscalePixelRNN(
        image_shape=(4, 4, 1), num_values=2, base_size=2, base_layers=1, base_hidden_units=4,
        num_layers=1, hidden_units=4, first_kernel_size=3, context_layers=1, context_filters=4,
        text_encoder=checks.caption_encoder()), True),
}


def conditions(d, rows, seed=0):
    """Raw conditions for `d` (floats, int32 labels, or caption bytes as a server gets)."""
    c = checks.random_conditions(d, rows, seed)
    return c.astype(np.bytes_) if c.dtype.kind == "U" else c


def requests_for(d):
    """Inputs of every signature, and the in-memory distribution's answers to them."""
    images = d.sample(8, seed=(1, 1), **(
        {} if d.conditional_shape is None else {"conditional_input": conditions(d, 8, 1)})
    ).numpy()
    mask = np.arange(images[0].size).reshape(images.shape[1:]) < images[0].size // 2
    mask = np.broadcast_to(mask, images.shape)
    seed, particles = np.array(SEED, np.int32), np.int32(NUM_PARTICLES)
    requests = {
        "log_prob": {"images": images},
        "serving_default": {"images": images},
        "sample": {"num_samples": np.int32(12), "seed": seed},
        "complete": {"images": images, "observed_mask": mask, "seed": seed,
                     "num_particles": particles},
    }
    for dtype in image_dtypes(d):  # the same requests in each other dtype of the data
        requests[f"log_prob_{dtype}"] = {"images": images.astype(dtype)}
        if dtype != "int64":  # its signature is listed by test_saved_model_cli_…
            requests[f"complete_{dtype}"] = {"images": images.astype(dtype),
                                             "observed_mask": mask.astype(dtype),
                                             "seed": seed, "num_particles": particles}
    key = None if d.conditioning is None else d.conditioning.input_name
    if key is not None:
        for name, inputs in requests.items():
            inputs[key] = conditions(d, 3 if name == "sample" else 8)
    c = {name: ({} if key not in inputs else {"conditional_input": inputs[key]})
         for name, inputs in requests.items()}
    log_prob = d.log_prob(images, **c["log_prob"]).numpy()
    completed = d.complete(images, mask, seed=SEED, num_particles=NUM_PARTICLES,
                           **c["complete"]).numpy()
    expected = {
        "log_prob/log_prob": log_prob,
        "serving_default/log_prob": log_prob,
        "sample/samples": d.sample(12, seed=SEED, **c["sample"]).numpy(),
        "complete/images": completed,
    }
    for dtype in image_dtypes(d):
        expected[f"log_prob_{dtype}/log_prob"] = log_prob
        if dtype != "int64":
            expected[f"complete_{dtype}/images"] = completed.astype(dtype)
    return requests, expected


def image_dtypes(d):
    """The dtypes of the signature variants `export` adds beside the model's own: those
    that hold the head's support exactly (none but float32 for real values)."""
    names = [t.name for t in d.support.exact_dtypes]
    return [name for name in names if name != d.dtype.name]


def warmup_requests(export_dir):
    """{signature: inputs} of the export's `assets.extra/tf_serving_warmup_requests`,
    parsed as TF Serving parses it (a TFRecord file of PredictionLogs)."""
    requests = {}
    path = os.path.join(export_dir, "assets.extra", "tf_serving_warmup_requests")
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        assert request.model_spec.signature_name not in requests
        arrays = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        requests[request.model_spec.signature_name] = {   # strings: bytes, not objects
            key: value.astype(np.bytes_) if value.dtype == object else value
            for key, value in arrays.items()}
    return requests


def read_back(export_dir, requests, tmp_path):
    """Runs `export_reader.py` in a fresh process; returns its outputs."""
    request_path, result_path = tmp_path / "request.npz", tmp_path / "result.npz"
    np.savez(request_path, **{f"{signature}/{key}": value
                              for signature, inputs in requests.items()
                              for key, value in inputs.items()})
    run = subprocess.run([sys.executable, READER, export_dir, str(request_path),
                          str(result_path)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(np.load(result_path))


# The slow tier exports these (the default suite keeps a caption model, a class label,
# PixelVAE, a GMMN, and in FAST a Gated PixelCNN and a Row LSTM).
SLOW_EXPORTS = ("MultiscalePixelCNN_rgb_conditional", "MultiscalePixelRNN_caption",
                "GatedPixelCNN_mixture_conditional", "PixelRNN_row_lstm",
                "PixelRNN_row_lstm_caption_attention", "MADE_conditional",
                "PixelRNN_diagonal_bilstm_rgb_conditional", "PixelCNN_rgb_categorical_conditional",
                "MADE_ensemble", "PixelCNNPlusPlus_rgb_conditional_weight_norm", "FVSBN_int32")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_EXPORTS
                                  else n for n in sorted(MODELS)])
def test_loaded_signatures_equal_the_distribution(name, tmp_path):
    make, train = MODELS[name]
    d = make()
    if train:
        c = None if d.conditional_shape is None else conditions(d, 64, 2)
        checks.train_a_few_steps(d, steps=10, conditional_input=c)
    path = tfar.export.export(d, tmp_path / "models")
    assert path == os.path.join(tmp_path / "models", "1")
    requests, expected = requests_for(d)
    warmup = warmup_requests(path)
    requests.update({f"{name}#warmup": inputs for name, inputs in warmup.items()})

    results = read_back(path, requests, tmp_path)

    assert int(results["v2/num_variables"]) == len(d.variables)
    # One warm-up request per signature, each run by TF Serving's loader (v1; the reader
    # checks that every input has its signature's dtype, as TF Serving does).
    assert sorted(warmup) == sorted(results["v2/signatures"])
    for loader in ("v1", "v2"):
        for key, value in expected.items():
            got = results[f"{loader}/{key}"]
            assert got.dtype == value.dtype and got.shape == value.shape, (loader, key)
            if key.endswith("/log_prob"):
                np.testing.assert_allclose(got, value, rtol=0, atol=1e-5, err_msg=f"{loader} {key}")
            else:  # a stateless seed gives exactly the in-memory draws
                np.testing.assert_array_equal(got, value, err_msg=f"{loader} {key}")
    observed = requests["complete"]["observed_mask"]
    np.testing.assert_array_equal(expected["complete/images"][observed],
                                  requests["complete"]["images"][observed])


def signature_inputs(cli_output):
    """{signature: ({input key: dtype}, output keys)} from `saved_model_cli show --all`."""
    listing = cli_output.split("Concrete Functions:")[0]
    signatures = {}
    for block in re.split(r"^signature_def\['", listing, flags=re.M)[1:]:
        name = block.split("'", 1)[0]
        inputs = dict(re.findall(r"inputs\['(\w+)'\] tensor_info:\s+dtype: DT_(\w+)", block))
        signatures[name] = ({k: v.lower() for k, v in inputs.items()},
                            set(re.findall(r"outputs\['(\w+)'\]", block)))
    return signatures


def test_saved_model_cli_lists_the_signatures(tmp_path):
    """One signature per image dtype; a variant's observed_mask has its images' dtype."""
    d = tfar.MADE(event_shape=(4,), num_values=2, hidden_units=(8,), conditional_shape=(3,))
    path = tfar.export.export(d, tmp_path)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    run = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert run.returncode == 0, run.stderr[-3000:]
    signatures = signature_inputs(run.stdout)
    del signatures["__saved_model_init_op"]
    c = {"conditional_input": "float"}
    draw = {"seed": "int32", "num_particles": "int32"}
    expected = {"serving_default": ({"images": "float"} | c, {"log_prob"}),
                "sample": ({"num_samples": "int32", "seed": "int32"} | c, {"samples"}),
                "complete": ({"images": "float", "observed_mask": "bool"} | draw | c,
                             {"images"})}
    for dtype, suffix in [("float", ""), ("uint8", "_uint8"), ("int32", "_int32"),
                          ("int64", "_int64")]:
        expected[f"log_prob{suffix}"] = ({"images": dtype} | c, {"log_prob"})
        if suffix:
            expected[f"complete{suffix}"] = (
                {"images": dtype, "observed_mask": dtype} | draw | c, {"images"})
    assert signatures == expected


def test_every_image_dtype_rejects_bad_values_naming_them(tmp_path):
    """Each dtype's signatures check values as the Python model does, in a fresh process
    without tfar, through both loaders: the error names the value received."""
    d = tfar.MADE(event_shape=(2, 3), num_values=3, hidden_units=(8,))
    images = np.zeros((2, 2, 3))
    bad = {"uint8": (200, "values >= 3.*largest value.*200"),
           "int32": (-4, "values below 0.*smallest value.*-4"),
           "int64": (7, "values >= 3.*largest value.*7"),
           "float32": (0.5, "non-integer.*0.5")}
    requests = {}
    for dtype, (value, _) in bad.items():
        x = images.astype(dtype)
        x[1, 0, 2] = value
        suffix = "" if dtype == "float32" else f"_{dtype}"
        requests[f"log_prob{suffix}@bad"] = {"images": x}
        requests[f"complete{suffix}@bad"] = {
            "images": x, "observed_mask": np.ones(x.shape, bool if not suffix else dtype),
            "seed": np.array(SEED, np.int32), "num_particles": np.int32(1)}
    mask = np.full((2, 2, 3), 2, np.uint8)
    requests["complete_uint8@bad_mask"] = {"images": images.astype(np.uint8),
                                           "observed_mask": mask,
                                           "seed": np.array(SEED, np.int32),
                                           "num_particles": np.int32(1)}
    results = read_back(tfar.export.export(d, tmp_path / "models"), requests, tmp_path)
    for loader in ("v1", "v2"):
        for dtype, (_, pattern) in bad.items():
            suffix = "" if dtype == "float32" else f"_{dtype}"
            for signature in ("log_prob", "complete"):
                message = str(results[f"{loader}/{signature}{suffix}@bad/error"])
                assert re.search(pattern, message, re.S), (loader, signature, dtype, message)
        message = str(results[f"{loader}/complete_uint8@bad_mask/error"])
        assert re.search(r"observed_mask must hold 0 .* or 1 .*received.*\[2\]", message,
                         re.S), message


def test_a_batching_export_has_only_batched_signatures(tmp_path):
    """batching=True: the signatures whose every input has a batch dimension, which TF
    Serving's batching can concatenate, and their warm-up requests."""
    d = tfar.MADE(event_shape=(4,), num_values=2, hidden_units=(8,),
                  conditioning=tfar.conditioning.ClassLabel(3))
    path = tfar.export.export(d, tmp_path, batching=True)
    loaded = tf.saved_model.load(path)
    names = {"serving_default", "log_prob", "log_prob_uint8", "log_prob_int32",
             "log_prob_int64"}
    assert set(loaded.signatures) == names == set(warmup_requests(path))
    x = np.array([[0, 1, 1, 0]], np.uint8)
    np.testing.assert_allclose(
        loaded.signatures["log_prob_uint8"](images=x, conditional_input=[2])["log_prob"],
        d.log_prob(x, conditional_input=[2]), atol=1e-6)


def test_versions_count_up_and_are_never_overwritten(tmp_path):
    d = tfar.FVSBN(event_shape=(3,))
    base = tmp_path / "models"
    assert tfar.export.export(d, base) == os.path.join(base, "1")
    for ignored in ("tmp", "v9", ".tmp-3-abc"):   # not integer names: TF Serving skips them
        (base / ignored).mkdir()
    (base / "notes.txt").write_text("")
    assert tfar.export.export(d, base) == os.path.join(base, "2")
    assert tfar.export.export(d, base, version=5) == os.path.join(base, "5")
    assert tfar.export.export(d, str(base)) == os.path.join(base, "6")
    before = sorted(os.listdir(base))
    with pytest.raises(FileExistsError, match="exists already"):
        tfar.export.export(d, base, version=2)
    assert sorted(os.listdir(base)) == before
    assert tf.saved_model.contains_saved_model(os.path.join(base, "6"))


def test_a_failed_write_leaves_no_version(tmp_path, monkeypatch):
    class Crashing:
        def write_out(self, path, verbose):
            (tmp_path / "models").joinpath(os.path.basename(path), "partial").write_text("")
            raise RuntimeError("disk full")

    monkeypatch.setattr(saved_model, "_build_archive", lambda *args: (Crashing(), {}))
    with pytest.raises(RuntimeError, match="disk full"):
        tfar.export.export(tfar.FVSBN(event_shape=(3,)), tmp_path / "models")
    assert os.listdir(tmp_path / "models") == []


def test_exports_any_tfp_distribution_through_its_public_api(tmp_path):
    d = tfp.distributions.Independent(tfp.distributions.Bernoulli(logits=[0.3, -1.0, 2.0]), 1)
    loaded = tf.saved_model.load(tfar.export.export(d, tmp_path))
    x = np.array([[0, 1, 1], [1, 0, 0]], np.int32)
    np.testing.assert_allclose(loaded.signatures["log_prob"](images=x)["log_prob"],
                               d.log_prob(x), atol=1e-6)
    samples = loaded.signatures["sample"](num_samples=tf.constant(5), seed=tf.constant(SEED))
    np.testing.assert_array_equal(samples["samples"], d.sample(5, seed=SEED))
    assert "complete" not in loaded.signatures


@pytest.mark.parametrize("version", [0, -1, "3", 1.5, True])
def test_rejects_a_bad_version(version, tmp_path):
    with pytest.raises(ValueError, match="version must be a positive int"):
        tfar.export.export(tfar.FVSBN(event_shape=(3,)), tmp_path / "models", version=version)
    assert not (tmp_path / "models").exists()


def test_rejects_bad_distributions_and_directories(tmp_path):
    d = tfar.FVSBN(event_shape=(3,))
    with pytest.raises(ValueError, match="must be a tfp.distributions.Distribution"):
        tfar.export.export(d.network, tmp_path)
    with pytest.raises(ValueError, match=r"batch_shape \(\)"):
        tfar.export.export(tfp.distributions.Bernoulli(logits=[0.0, 1.0]), tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file"):
        tfar.export.export(d, tmp_path / "file")
    assert os.listdir(tmp_path) == ["file"]


FAST = {  # models whose default sampler is a cached one, and their condition's shape
    "MADE_ensemble_conditional": (lambda: tfar.MADE(
        event_shape=(3, 4), num_values=3, hidden_units=(8, 8), ordering="random", num_masks=3,
        seed=2, conditional_shape=(2,)), (2,)),
    "NADE": (lambda: tfar.NADE(event_shape=(3, 4), num_values=2, hidden_units=6), None),
    "GatedPixelCNN_rgb_spatial": (lambda: tfar.GatedPixelCNN(
        image_shape=(3, 4, 3), num_values=4, num_layers=3, num_filters=6, first_kernel_size=3,
        spatial_conditional_shape=(1, 2, 2)), (1, 2, 2)),
    "PixelCNN_binary": (lambda: tfar.PixelCNN(
        image_shape=(4, 3, 1), num_values=2, likelihood="bernoulli", num_layers=2,
        num_filters=6, first_kernel_size=3), None),
    "PixelRNN_row_lstm_rgb_conditional": (lambda: tfar.PixelRNN(
        image_shape=(3, 4, 3), num_values=4, cell="row_lstm", num_layers=2, hidden_units=6,
        first_kernel_size=3, conditional_shape=(2,)), (2,)),
    "MultiscalePixelCNN_mixture": (lambda: tfar.MultiscalePixelCNN(
        image_shape=(4, 4, 3), num_values=8, base_size=2, likelihood="logistic_mixture",
        num_mixtures=2, base_layers=2, base_filters=4, base_kernel_size=3, upscale_blocks=1,
        upscale_filters=4), None),
    "MultiscalePixelRNN_rgb_row_lstm": (lambda: tfar.MultiscalePixelRNN(
        image_shape=(4, 4, 3), num_values=4, base_size=2, cell="row_lstm", base_layers=1,
        base_hidden_units=6, num_layers=1, hidden_units=6, first_kernel_size=3,
        context_layers=1, context_filters=4), None),
}


# The default tier checks two (`fast_cases`); the slow tier every model of FAST, compiled
# and not (the exported samples of every model equal the in-memory ones above, whose
# cached sampler equals the naive loop in tests/sampling/).


def compiled_functions(export_dir):
    """How many functions of the SavedModel's graph XLA must compile (`_XlaMustCompile`)."""
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    return sum(1 for function in saved_model.meta_graphs[0].graph_def.library.function
               if function.attr["_XlaMustCompile"].b)


def fast_cases():
    """(name, jit_compile): the default tier exports the Row LSTM uncompiled and the Gated
    PixelCNN compiled; the slow tier the rest."""
    for name in sorted(FAST):
        for jit_compile in (False, True):
            default = (name, jit_compile) in (("PixelRNN_row_lstm_rgb_conditional", False),
                                              ("GatedPixelCNN_rgb_spatial", True))
            case = (name, jit_compile)
            yield case if default else pytest.param(*case, marks=pytest.mark.slow)


@pytest.mark.parametrize("name,jit_compile", list(fast_cases()))
def test_exported_default_sampler_is_cached_and_equals_the_naive_loop(name, jit_compile,
                                                                       tmp_path):
    # With jit_compile the signatures run the loop compiled with XLA, through both
    # loaders, and still draw the naive loop's images (a seed with a negative component:
    # the case where XLA's own random ops draw other numbers).
    make, condition_shape = FAST[name]
    d = make()
    assert d.sampling_methods[-1] == "cached"
    checks.randomize_weights(d)
    c = ({} if condition_shape is None else {"conditional_input": np.random.default_rng(3).normal(
        size=(4,) + condition_shape).astype(np.float32)})
    seed = (5, -7)
    images = d.sample(4, seed=(1, 1), method="naive", **c).numpy()
    mask = np.zeros(images.shape, bool)
    mask[:, :images.shape[1] // 2] = True                   # the top half is observed
    requests = {"sample": {"num_samples": np.int32(8), "seed": np.array(seed, np.int32), **c},
                "complete": {"images": images, "observed_mask": mask,
                             "seed": np.array(seed, np.int32), "num_particles": np.int32(1),
                             **c}}
    path = tfar.export.export(d, tmp_path / "models", jit_compile=jit_compile)
    assert compiled_functions(path) == (1 if jit_compile else 0)   # sample's and complete's
    results = read_back(path, requests, tmp_path)
    naive_samples = d.sample(8, seed=seed, method="naive", **c).numpy()
    naive_completions = d.complete(images, mask, seed=seed, method="naive", **c).numpy()
    for loader in ("v1", "v2"):
        np.testing.assert_array_equal(results[f"{loader}/sample/samples"], naive_samples)
        np.testing.assert_array_equal(results[f"{loader}/complete/images"], naive_completions)
    np.testing.assert_array_equal(naive_completions[mask], images[mask])


LATENT_MODELS = {
    "PixelVAE_two_levels": lambda: tfar.PixelVAE(
        image_shape=(4, 4, 1), num_values=2, latent_dim=2, num_levels=2, latent2_dim=2,
        num_layers=1, num_filters=4, first_kernel_size=3, encoder_filters=4, hidden_units=8,
        map_channels=2, num_importance_samples=5),
    "PixelCNNAutoEncoder": lambda: tfar.PixelCNNAutoEncoder(
        image_shape=(4, 4, 1), num_values=2, code_size=3, num_layers=1, num_filters=4,
        first_kernel_size=3, encoder_filters=4),
}


@pytest.mark.parametrize("name", ["PixelVAE_two_levels", pytest.param(
    "PixelCNNAutoEncoder", marks=pytest.mark.slow)])
def test_latent_models_export_every_signature(name, tmp_path):
    """PixelVAE (log_prob naming its K, elbo, encode, decode, sample) and the PixelCNN
    auto-encoder (log_prob and sample given a code, reconstruction_log_prob, encode),
    read back through both loaders, equal the in-memory model."""
    d = LATENT_MODELS[name]()
    checks.randomize_weights(d)
    images = (np.random.default_rng(3).random((5, 4, 4, 1)) > 0.5).astype(np.float32)
    seed = np.array(SEED, np.int32)
    if isinstance(d, tfar.PixelVAE):
        latents = np.random.default_rng(4).normal(size=(3, 2)).astype(np.float32)
        posterior = d.encode(images)
        key = "log_prob_iwae_k5"
        requests = {"log_prob": {"images": images}, "serving_default": {"images": images},
                    "elbo": {"images": images}, "encode": {"images": images},
                    "decode": {"latents": latents, "seed": seed},
                    "sample": {"num_samples": np.int32(4), "seed": seed}}
        expected = {f"log_prob/{key}": d.log_prob(images, seed=(0, 0)),
                    f"serving_default/{key}": d.log_prob(images, seed=(0, 0)),
                    "elbo/elbo": d.elbo(images, seed=(0, 0)),
                    "encode/mean": posterior.mean(), "encode/stddev": posterior.stddev(),
                    "decode/images": d.decode(latents, seed=SEED),
                    "sample/samples": d.sample(4, seed=SEED)}
    else:
        code = d.encode(images).numpy()
        requests = {"log_prob": {"images": images, "conditional_input": code},
                    "reconstruction_log_prob": {"images": images},
                    "encode": {"images": images},
                    "sample": {"num_samples": np.int32(5), "seed": seed,
                               "conditional_input": code}}
        expected = {"log_prob/log_prob": d.log_prob(images, conditional_input=code),
                    "reconstruction_log_prob/reconstruction_log_prob":
                        d.reconstruction_log_prob(images),
                    "encode/code": code,
                    "sample/samples": d.sample(5, seed=SEED, conditional_input=code)}
    # Their image signatures take each image dtype too: the same answers.
    for name in [n for n, inputs in requests.items() if "images" in inputs]:
        for dtype in ("uint8", "int32", "int64"):
            requests[f"{name}_{dtype}"] = {**requests[name],
                                           "images": requests[name]["images"].astype(dtype)}
            expected.update({f"{name}_{dtype}/{key.split('/')[1]}": value
                             for key, value in list(expected.items())
                             if key.startswith(f"{name}/")})
    expected = {key: value for key, value in expected.items()
                if not key.startswith("serving_default_")}
    requests = {key: value for key, value in requests.items()
                if not key.startswith("serving_default_")}
    path = tfar.export.export(d, tmp_path / "models")
    results = read_back(path, requests, tmp_path)
    assert int(results["v2/num_variables"]) == len(d.variables)
    for loader in ("v1", "v2"):
        for key, value in expected.items():
            value = np.asarray(value)
            got = results[f"{loader}/{key}"]
            assert got.shape == value.shape, (loader, key)
            if key.endswith(("samples", "images")):  # a stateless seed: the same draws
                np.testing.assert_array_equal(got, value, err_msg=f"{loader} {key}")
            else:
                np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{loader} {key}")


def test_a_gmmn_exports_sample_alone(tmp_path):
    """A GMMN has no likelihood: its SavedModel serves `sample` (also serving_default),
    the in-memory samples (to float rounding) through both loaders in a fresh process, one
    warm-up request; no `log_prob` signature."""
    d = tfar.GMMN(event_shape=(4, 4, 1), generator="conv", num_filters=3, num_upsamplings=1,
                  latent_dim=3, data_num_values=5)
    checks.randomize_weights(d)
    with pytest.raises(ValueError, match="no sampling loop to compile"):
        tfar.export.export(d, tmp_path / "compiled", jit_compile=True)
    path = tfar.export.export(d, tmp_path / "models")
    seed = np.array(SEED, np.int32)
    requests = {"sample": {"num_samples": np.int32(6), "seed": seed},
                "serving_default": {"num_samples": np.int32(6), "seed": seed}}
    warmup = warmup_requests(path)
    requests.update({f"{name}#warmup": inputs for name, inputs in warmup.items()})
    results = read_back(path, requests, tmp_path)
    assert sorted(results["v2/signatures"]) == ["sample", "serving_default"]
    assert sorted(warmup) == ["sample", "serving_default"]
    expected = d.sample(6, seed=SEED).numpy()
    for loader in ("v1", "v2"):  # the same draws (a graph's fused ops round within 1e-6)
        for signature in ("sample", "serving_default"):
            np.testing.assert_allclose(results[f"{loader}/{signature}/samples"], expected,
                                       rtol=0, atol=1e-6)
