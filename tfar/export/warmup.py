"""TF Serving's warm-up requests, written into every export.

TensorFlow sets much of a loaded model up lazily, so the first request to a fresh model
is slow. TF Serving replays `assets.extra/tf_serving_warmup_requests` (a TFRecord file of
`tensorflow.serving.PredictionLog`s) against a version before it serves it
(https://www.tensorflow.org/tfx/serving/saved_model_warmup). `write_requests` writes one
`PredictLog` per signature: one row of zeros for batched inputs (a valid image of every
model), 1 for the scalars (`num_samples`, `num_particles`), seed (0, 0), and the
conditioning's own valid example (`Conditioning.example`: zeros, class 0, the caption
"a") for the condition. Model name and version are left empty: the server warms up the
version it is loading, whatever it calls it.
"""

import os

import numpy as np
import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def write_requests(export_dir, signatures, conditioning=None):
    """Writes `export_dir/assets.extra/tf_serving_warmup_requests`.

    Args:
      export_dir: a SavedModel directory (local).
      signatures: {signature name: [tf.TensorSpec, …]} of its inputs (named).
      conditioning: the model's `tfar.conditioning.Conditioning`, or None.

    Returns:
      The file's path.
    """
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2  # noqa: PLC0415

    path = os.path.join(export_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for name, specs in signatures.items():
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = name
            for spec in specs:
                request.inputs[spec.name].CopyFrom(
                    tf.make_tensor_proto(example_input(spec, conditioning)))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def example_input(spec, conditioning=None):
    """A small valid value of `spec` (see the module docstring) as a numpy array."""
    if conditioning is not None and spec.name == conditioning.input_name:
        return np.asarray(conditioning.example(1).numpy())
    if spec.shape.rank == 0:
        return np.ones([], spec.dtype.as_numpy_dtype)
    shape = [1 if d is None else d for d in spec.shape.as_list()]
    return np.zeros(shape, spec.dtype.as_numpy_dtype)
