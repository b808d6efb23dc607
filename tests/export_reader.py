"""Runs an exported SavedModel the way a server would, without tfar (test_export.py).

    python export_reader.py EXPORT_DIR REQUEST.npz RESULT.npz

REQUEST.npz holds the inputs "<signature>/<input key>"; RESULT.npz receives the outputs
"<loader>/<signature>/<output key>" (for a request named "<signature>@<label>", which
must fail: its error message, "<loader>/<signature>@<label>/error"; a request named
"<signature>#<label>" is run as <signature>, by the v1 loader only) for two loaders: "v1", TF Serving's path
(`tf.compat.v1.saved_model.loader.load` in a `tf.compat.v1.Session`, feeding and fetching
the tensor names of the signature_def), and "v2" (`tf.saved_model.load(...).signatures`),
plus "v2/num_variables", the length of the reloaded object's `variables`, and
"v2/signatures", the names of its signatures.
"""

import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def requests_by_signature(request):
    inputs = {}
    for key in request.files:
        signature, name = key.split("/")
        inputs.setdefault(signature, {})[name] = request[key]
    return inputs


def run_v1(export_dir, requests):
    results = {}
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(
            session, [tf.saved_model.SERVING], export_dir)
        for request, inputs in requests.items():
            signature = re.split("[@#]", request)[0]
            signature_def = meta_graph.signature_def[signature]
            for key, value in inputs.items():  # TF Serving converts no dtype
                dtype = tf.as_dtype(signature_def.inputs[key].dtype)
                assert dtype == tf.string or value.dtype == dtype.as_numpy_dtype, (
                    signature, key, value.dtype, dtype)
            feed = {signature_def.inputs[key].name: value for key, value in inputs.items()}
            fetch = {key: info.name for key, info in signature_def.outputs.items()}
            if "@" in request:
                results[f"v1/{request}/error"] = np.array(
                    error_of(lambda: session.run(fetch, feed)))
                continue
            for key, value in session.run(fetch, feed).items():
                results[f"v1/{request}/{key}"] = value
    return results


def error_of(run):
    """The message of the tf.errors.OpError that run() raises (AssertionError if none)."""
    try:
        run()
    except tf.errors.OpError as error:
        return error.message
    raise AssertionError("the request was expected to fail")


def run_v2(export_dir, requests):
    loaded = tf.saved_model.load(export_dir)
    results = {"v2/num_variables": np.array(len(loaded.variables)),
               "v2/signatures": np.array(sorted(loaded.signatures))}
    for request, inputs in requests.items():
        if "#" in request:
            continue
        function = loaded.signatures[re.split("[@#]", request)[0]]
        inputs = {k: tf.constant(v) for k, v in inputs.items()}
        if "@" in request:
            results[f"v2/{request}/error"] = np.array(error_of(lambda: function(**inputs)))
            continue
        for key, value in function(**inputs).items():
            results[f"v2/{request}/{key}"] = value.numpy()
    return results


def main(export_dir, request_path, result_path):
    requests = requests_by_signature(np.load(request_path))
    results = {**run_v1(export_dir, requests), **run_v2(export_dir, requests)}
    assert "tfar" not in sys.modules, "the reader must not need tfar"
    np.savez(result_path, **results)


if __name__ == "__main__":
    main(*sys.argv[1:])
