"""tfar.export.client against a gRPC PredictionService that serves an exported model.

TF Serving's model server is a C++ binary that cannot be installed here, so the server in
this test is a `prediction_service_pb2_grpc.PredictionServiceServicer` that runs the
SavedModel's signatures: the client speaks the real TF Serving gRPC protocol to it.
"""

import socket
from concurrent import futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

import checks
import tfar
import tfar.export
from tfar.export import client as client_module
from tfar.export.client import ServingClient, ServingError


class SavedModelServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, name, path):
        self.name, self.model = name, tf.saved_model.load(path)

    def Predict(self, request, context):
        if request.model_spec.name != self.name:
            context.abort(grpc.StatusCode.NOT_FOUND,
                          f"Servable not found: {request.model_spec.name}")
        signature = self.model.signatures[request.model_spec.signature_name or "serving_default"]
        outputs = signature(**{key: tf.constant(tf.make_ndarray(value))
                               for key, value in request.inputs.items()})
        response = predict_pb2.PredictResponse()
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response


@pytest.fixture
def served(tmp_path):
    d = tfar.MADE(event_shape=(2, 3), num_values=2, hidden_units=(8,), conditional_shape=(2,))
    checks.train_a_few_steps(d, steps=5, conditional_input=np.ones([64, 2], np.float32))
    path = tfar.export.export(d, tmp_path / "models")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        SavedModelServicer("made", path), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield d, f"127.0.0.1:{port}"
    server.stop(None)


def test_client_log_prob_sample_and_complete_match_the_model(served):
    d, address = served
    client = ServingClient(address, "made")
    c = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    images = d.sample(2, seed=(1, 2), conditional_input=c).numpy()
    np.testing.assert_allclose(client.log_prob(images, conditional_input=c),
                               d.log_prob(images, conditional_input=c), atol=1e-5)
    np.testing.assert_array_equal(client.sample(4, seed=(5, 6), conditional_input=c),
                                  d.sample(4, seed=(5, 6), conditional_input=c))
    mask = np.zeros(images.shape, bool)
    mask[:, 0] = True
    np.testing.assert_array_equal(
        client.complete(images, mask, seed=(7, 8), conditional_input=c),
        d.complete(images, mask, seed=(7, 8), conditional_input=c))
    # uint8 images travel as uint8 tensors, to the uint8 signatures.
    as_uint8 = images.astype(np.uint8)
    np.testing.assert_allclose(client.log_prob(as_uint8, conditional_input=c),
                               d.log_prob(images, conditional_input=c), atol=1e-5)
    completed = client.complete(as_uint8, mask, seed=(7, 8), conditional_input=c,
                                num_particles=2)
    assert completed.dtype == np.uint8
    np.testing.assert_array_equal(completed, d.complete(images, mask, seed=(7, 8),
                                                        conditional_input=c, num_particles=2))
    client.close()


def test_client_reports_server_errors(served):
    """A ServingError names the model, version, signature and the server's text (or the
    address that could not be reached)."""
    _, address = served
    with pytest.raises(ServingError, match=r"model 'nope' \(latest version\), signature "
                                           r"'sample' \(NOT_FOUND\): Servable not found"):
        ServingClient(address, "nope").sample(1, seed=(1, 2))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        refused = f"127.0.0.1:{free.getsockname()[1]}"
    with pytest.raises(ServingError, match=f"UNAVAILABLE.*cannot reach TF Serving at {refused}"):
        ServingClient(refused, "made", timeout=30).sample(1, seed=(1, 2))


def test_shell_client_over_grpc(served, tmp_path):
    d, address = served
    np.save(tmp_path / "c.npy", np.float32([[1.0, 0.0]]))
    assert client_module.main([
        f"--address={address}", "--model=made", "--grpc", "sample", "--num_samples=2",
        "--seed=5,6", f"--condition={tmp_path / 'c.npy'}", f"--output={tmp_path / 's.npy'}"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), d.sample(
        2, seed=(5, 6), conditional_input=np.float32([[1.0, 0.0]])))


def test_client_sends_caption_strings(tmp_path):
    """A caption-conditional model's signatures take `caption` strings: the client sends
    Python strings (and bytes) there, and gets the in-memory model's answers."""
    d = tfar.GatedPixelCNN(image_shape=(2, 2, 1), num_values=3, num_layers=2, num_filters=4,
                           first_kernel_size=3, text_encoder=checks.caption_encoder())
    checks.randomize_weights(d)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        SavedModelServicer("captions", tfar.export.export(d, tmp_path / "models")), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = ServingClient(f"127.0.0.1:{port}", "captions")
        captions = [checks.CAPTIONS[0], checks.CAPTIONS[3].encode()]
        np.testing.assert_array_equal(client.sample(4, seed=(5, 6), conditional_input=captions),
                                      d.sample(4, seed=(5, 6), conditional_input=captions))
        images = d.sample(2, seed=(1, 2), conditional_input=captions).numpy()
        np.testing.assert_allclose(client.log_prob(images, conditional_input=captions),
                                   d.log_prob(images, conditional_input=captions), atol=1e-5)
        with pytest.raises(ServingError, match="no words"):
            client.log_prob(images, conditional_input=["", "the digit 3"])
        client.close()
    finally:
        server.stop(None)
