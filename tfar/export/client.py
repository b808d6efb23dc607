"""A gRPC client for a tfar model served by TF Serving (`pip install tfar[serving]`).

    from tfar.export.client import ServingClient
    client = ServingClient("localhost:8500", "digits")     # TF Serving's gRPC port
    log_prob = client.log_prob(images)                     # [B] nats
    samples = client.sample(16, seed=(1, 2))               # [16, H, W, C]

Requests are `tensorflow_serving.apis.predict_pb2.PredictRequest`s to the signatures that
`tfar.export.export` writes (`log_prob`, `sample`, `complete`); tensors go in and out
through `tf.make_tensor_proto` / `tf.make_ndarray`. A condition goes as its kind wants:
caption strings as `caption` (`client.sample(4, seed, conditional_input=["the digit 3
is at the top left"] * 4)`), integer class labels as int32, vectors and maps as float32.
"""

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc


class ServingClient:
    """Calls one served model's signatures.

    Args:
      address: "host:port" of TF Serving's gRPC endpoint (8500 by default).
      model_name: the served model's name (`--model_name` / `MODEL_NAME`).
      version: a model version to pin; None serves the latest.
      timeout: seconds per request.
      channel: a `grpc.Channel` to use instead of an insecure one to `address`.
    """

    def __init__(self, address, model_name, version=None, timeout=60.0, channel=None):
        self.model_name, self.version, self.timeout = model_name, version, timeout
        self._channel = channel or grpc.insecure_channel(address)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    def predict(self, signature, inputs):
        """Runs `signature` on a dict of arrays; returns its outputs as numpy arrays."""
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = signature
        if self.version is not None:
            request.model_spec.version.value = int(self.version)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = self._stub.Predict(request, timeout=self.timeout)
        return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}

    def log_prob(self, images, conditional_input=None, dtype=np.float32):
        """[B] log-probabilities (nats) of images [B, *event_shape] (in the model's dtype)."""
        inputs = {"images": np.asarray(images, dtype)}
        return self.predict("log_prob", _with_condition(inputs, conditional_input))["log_prob"]

    def sample(self, num_samples, seed, conditional_input=None):
        """[N, *event_shape] samples; the same stateless seed gives the same samples."""
        inputs = {"num_samples": np.int32(num_samples), "seed": np.asarray(seed, np.int32)}
        return self.predict("sample", _with_condition(inputs, conditional_input))["samples"]

    def complete(self, images, observed_mask, seed, conditional_input=None, dtype=np.float32,
                 num_particles=1):
        """images with the unobserved entries (observed_mask False) sampled, resampled from
        `num_particles` completions per row (`tfar` `complete`)."""
        inputs = {"images": np.asarray(images, dtype),
                  "observed_mask": np.asarray(observed_mask, bool),
                  "seed": np.asarray(seed, np.int32),
                  "num_particles": np.int32(num_particles)}
        return self.predict("complete", _with_condition(inputs, conditional_input))["images"]

    def close(self):
        self._channel.close()


def _with_condition(inputs, conditional_input):
    """`inputs` with the condition under its signature's key and dtype
    (`tfar.conditioning`): strings are captions (`caption`, string), integers class labels
    (`conditional_input`, int32), other numbers vectors or maps (float32)."""
    if conditional_input is None:
        return inputs
    value = np.asarray(conditional_input)
    if value.dtype.kind in "USO":
        inputs["caption"] = np.vectorize(
            lambda s: s if isinstance(s, bytes) else str(s).encode("utf-8"),
            otypes=[object])(value)
    elif value.dtype.kind in "iu":
        inputs["conditional_input"] = value.astype(np.int32)
    else:
        inputs["conditional_input"] = value.astype(np.float32)
    return inputs
