"""A stand-in for TF Serving's REST API, serving SavedModels on 127.0.0.1 (test_rest_client.py).

    with RestServer({"digits": {1: "models/digits/1"}}) as server:
        RestClient(server.address, "digits").sample(4, seed=(1, 2))

TF Serving's model server (`tensorflow_model_server --rest_api_port=8501`) is a C++ binary
that cannot be installed here. This server loads each version with `tf.saved_model.load`
and answers `POST /v1/models/${MODEL_NAME}[/versions/${VERSION}]:predict` as its REST API
documents (https://www.tensorflow.org/tfx/serving/api_rest, "Predict API") and as its JSON
code (tensorflow_serving/util/json_tensor.cc) does:

  "The request body for predict API must be JSON object formatted as follows:
   { "signature_name": <string>,  // Optional: serving signature to use. If unspecifed
                                  // default serving signature is used.
     "instances": <value>|<(nested)list>|<list-of-objects>   // row format, or
     "inputs": <value>|<(nested)list>|<object> }             // columnar format"
  Row format: "Use this format if all named input tensors have the same 0-th dimension.
   [...] each item is expected to be an object containing input name/tensor value pair,
   one for each named input."
  Columnar: "Each input can have arbitrary shape and need not share the same 0-th
   dimension (aka batch size) as required by the row format."
  Response: a row request gets {"predictions": ...}, a columnar one {"outputs": ...}; "If
   the output of the model contains only one named tensor, we omit the name".
  Binary values: "you *must* Base64 encode the data and encapsulate it in a JSON object
   having `b64` as the key as follows: { "b64": <base64 encoded string> }".
  Errors: "In case of error, all APIs will return a JSON object in the response body with
   `error` as key and the error message as the value: { "error": <error message string> }"
   (HTTP 404 for "Servable not found for request: Latest(half)" in the doc's example).

As there: values are checked against the signature's dtypes (an int32 input refuses 1.5 and
1.0, a float one accepts 1), an unknown model or version is a 404, an unknown signature
or a malformed body a 400, and an error of the signature's run is a 400 (TF's
INVALID_ARGUMENT, as the exported value checks raise) or a 500 with TF's message. Floats
are written as Python writes doubles ("1.0", "0.10000000149011612"; TF Serving writes
the shortest float32 text, "0.1"): both parse back to the same float32. Not served:
`:classify`, `:regress`, model status and metadata, labels.
"""

import base64
import http.server
import json
import re
import threading
import time

import numpy as np
import tensorflow as tf

_PREDICT = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+))?:predict")


class BadRequest(Exception):
    """An answer other than 200: its HTTP status and error text."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class RestServer:
    """TF Serving's `:predict` on 127.0.0.1 (a free port) in a background thread.

    Args:
      models: {model name: {version: SavedModel directory}}; a request without a version
        gets the largest.

    Attributes:
      address: "http://127.0.0.1:PORT".
      delay: seconds each request waits before it is answered (0), for timeouts.
    """

    def __init__(self, models):
        self.models = {name: {int(v): tf.saved_model.load(str(path))
                              for v, path in versions.items()}
                       for name, versions in models.items()}
        self.delay = 0.0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(server.delay)
                try:
                    status, answer = 200, server.predict(self.path, body)
                except BadRequest as error:
                    status, answer = error.status, {"error": str(error)}
                data = json.dumps(answer).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out
                    pass

            def log_message(self, *args):
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.address = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._httpd.shutdown()
        self._httpd.server_close()

    def predict(self, path, body):
        """The JSON answer to a `:predict` POST of `body` to `path`, or a BadRequest."""
        match = _PREDICT.fullmatch(path)
        if not match:
            raise BadRequest(404, f"Malformed request: POST {path}")
        name, version = match.group(1), match.group(2)
        versions = self.models.get(name, {})
        if version is None and versions:
            version = max(versions)
        if int(version or 0) not in versions:
            spec = f"Latest({name})" if version is None else f"Specific({name}, {version})"
            raise BadRequest(404, f"Servable not found for request: {spec}")
        model = versions[int(version)]
        try:
            request = json.loads(body)
        except ValueError as error:
            raise BadRequest(400, f"JSON Parse error: {error}") from error
        if not isinstance(request, dict):
            raise BadRequest(400, f"JSON Value: {body.decode()[:100]} Is not object")
        signature_name = request.get("signature_name", "serving_default")
        if signature_name not in model.signatures:
            raise BadRequest(400, f'Serving signature name: "{signature_name}" not found in '
                                  "signature def")
        signature = model.signatures[signature_name]
        specs = signature.structured_input_signature[1]
        if ("instances" in request) == ("inputs" in request):
            raise BadRequest(400, "Missing 'inputs' or 'instances' key" if "inputs" not in
                             request else "expecting only one of 'inputs' or 'instances'")
        row = "instances" in request
        inputs = _from_rows(request["instances"], specs) if row else _from_columns(
            request["inputs"], specs)
        try:
            outputs = {key: value.numpy() for key, value in signature(**inputs).items()}
        except tf.errors.InvalidArgumentError as error:
            raise BadRequest(400, error.message) from error
        except (TypeError, ValueError) as error:  # a shape the signature's spec refuses
            raise BadRequest(400, str(error)) from error
        except tf.errors.OpError as error:
            raise BadRequest(500, error.message) from error
        named = {key: _to_json(key, value) for key, value in outputs.items()}
        if len(named) == 1:
            return {"predictions" if row else "outputs": next(iter(named.values()))}
        if row:
            size = len(next(iter(named.values())))
            return {"predictions": [{key: value[i] for key, value in named.items()}
                                    for i in range(size)]}
        return {"outputs": named}


def _is_b64(value):
    return isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str)


def _from_columns(inputs, specs):
    """The columnar form's tensors: a plain value for a lone input, else {name: value}."""
    if not isinstance(inputs, dict) or _is_b64(inputs):
        if len(specs) > 1:
            raise BadRequest(400, "inputs is a plain value/list, but expecting an object as "
                                  "multiple input tensors required as per tensorinfo_map")
        inputs = {next(iter(specs)): inputs}
    for name in specs:
        if name not in inputs:
            raise BadRequest(400, f"Missing named input: {name} in 'inputs' object.")
    return {name: tf.constant(_tensor(inputs[name], spec.dtype))
            for name, spec in specs.items()}


def _from_rows(instances, specs):
    """The row form's tensors: each input's rows stacked on a new 0-th dimension."""
    if not isinstance(instances, list) or not instances:
        raise BadRequest(400, "Expecting 'instances' to be a non-empty list/array")
    if not isinstance(instances[0], dict) or _is_b64(instances[0]):
        if len(specs) > 1:
            raise BadRequest(400, "instances is a plain list, but expecting list of objects "
                                  "as multiple input tensors required as per tensorinfo_map")
        instances = [{next(iter(specs)): item} for item in instances]
    columns = {name: [] for name in specs}
    for i, item in enumerate(instances):
        if not isinstance(item, dict) or set(item) != set(specs):
            raise BadRequest(400, f"Failed to process element: {i} of 'instances' list. JSON "
                                  f"object keys must be equal to: {','.join(sorted(specs))}")
        for name, spec in specs.items():
            value = _tensor(item[name], spec.dtype)
            if columns[name] and value.shape != columns[name][0].shape:
                raise BadRequest(400, f"Failed to process element: {i} key: {name} of "
                                      f"'instances' list. Error: Expecting shape "
                                      f"{list(columns[name][0].shape)} but got: "
                                      f"{list(value.shape)}")
            columns[name].append(value)
    return {name: tf.constant(np.stack(values)) for name, values in columns.items()}


def _tensor(value, dtype):
    """A JSON tensor (nested lists, shaped by their first elements) as a numpy array of
    `dtype`, each value checked as json_tensor.cc does."""
    shape, first = [], value
    while isinstance(first, list):
        shape.append(len(first))
        first = first[0] if first else None
    flat = []

    def fill(item, level):
        if not isinstance(item, list):
            if level != len(shape):
                raise BadRequest(400, f"JSON Value: {json.dumps(item)} found at incorrect "
                                      f"level: {level + 1} in the JSON DOM. Expected at level: "
                                      f"{len(shape)}")
            flat.append(_scalar(item, dtype))
            return
        if level >= len(shape) or len(item) != shape[level]:
            raise BadRequest(400, f"Encountered list at unexpected size: {len(item)} at level: "
                                  f"{level}")
        for x in item:
            fill(x, level + 1)

    fill(value, 0)
    numpy_dtype = object if dtype == tf.string else dtype.as_numpy_dtype
    return np.array(flat, dtype=numpy_dtype).reshape(shape)


def _scalar(value, dtype):
    """One JSON value as `dtype`, or json_tensor.cc's type error."""
    if dtype == tf.string:
        if _is_b64(value):
            return base64.b64decode(value["b64"])
        ok = isinstance(value, str)
        value = value.encode("utf-8") if ok else value
    elif dtype == tf.bool:
        ok = isinstance(value, bool)
    elif dtype.is_integer:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise BadRequest(400, f"JSON Value: {json.dumps(value)} Type: {type(value).__name__} "
                              f"is not of expected type: {dtype.name}")
    return value


def _to_json(name, array):
    """An output as TF Serving writes it: nested lists; strings as text, or {"b64": ...}
    for a tensor whose name ends in "_bytes"."""
    if array.dtype.kind == "O":
        encode = ((lambda s: {"b64": base64.b64encode(s).decode("ascii")})
                  if name.endswith("_bytes") else (lambda s: s.decode("utf-8")))
        return np.vectorize(encode, otypes=[object])(array).tolist()
    return array.tolist()
