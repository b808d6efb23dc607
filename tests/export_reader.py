"""Runs an exported SavedModel the way a server would, without tfar (test_export.py).

    python export_reader.py EXPORT_DIR REQUEST.npz RESULT.npz

REQUEST.npz holds the inputs "<signature>/<input key>"; RESULT.npz receives the outputs
"<loader>/<signature>/<output key>" for two loaders: "v1", TF Serving's path
(`tf.compat.v1.saved_model.loader.load` in a `tf.compat.v1.Session`, feeding and fetching
the tensor names of the signature_def), and "v2" (`tf.saved_model.load(...).signatures`),
plus "v2/num_variables", the length of the reloaded object's `variables`.
"""

import os
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
        for signature, inputs in requests.items():
            signature_def = meta_graph.signature_def[signature]
            feed = {signature_def.inputs[key].name: value for key, value in inputs.items()}
            fetch = {key: info.name for key, info in signature_def.outputs.items()}
            for key, value in session.run(fetch, feed).items():
                results[f"v1/{signature}/{key}"] = value
    return results


def run_v2(export_dir, requests):
    loaded = tf.saved_model.load(export_dir)
    results = {"v2/num_variables": np.array(len(loaded.variables))}
    for signature, inputs in requests.items():
        outputs = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        for key, value in outputs.items():
            results[f"v2/{signature}/{key}"] = value.numpy()
    return results


def main(export_dir, request_path, result_path):
    requests = requests_by_signature(np.load(request_path))
    results = {**run_v1(export_dir, requests), **run_v2(export_dir, requests)}
    assert "tfar" not in sys.modules, "the reader must not need tfar"
    np.savez(result_path, **results)


if __name__ == "__main__":
    main(*sys.argv[1:])
