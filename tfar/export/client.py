"""Clients for a tfar model served by TF Serving (`tensorflow_model_server`): REST and gRPC.

    from tfar.export.client import RestClient, ServingClient
    client = RestClient("http://localhost:8501", "digits")  # TF Serving's REST port
    log_prob = client.log_prob(images)                      # [B] nats
    samples = client.sample(16, seed=(1, 2))                # [16, H, W, C]
    client = ServingClient("localhost:8500", "digits")      # TF Serving's gRPC port

Both call the signatures that `tfar.export.export` writes (`log_prob`, `sample`,
`complete`) with the same methods and arguments, and raise `ServingError` naming the
model, version, signature and the server's error text. A condition goes as its kind wants:
caption strings as `caption` (`client.sample(4, seed, conditional_input=["the digit 3 is
at the top left"] * 4)`), integer class labels as int32, vectors and maps as float32.

`RestClient` POSTs TF Serving's `:predict` JSON with the standard library and NumPy alone
(no grpc); `form="columnar"` sends `{"inputs": {...}}`, `form="row"` sends
`{"instances": [{...}, ...]}`, one object per batch row. The row form gives every
input a batch dimension, which `sample`'s `num_samples` int32 [] and the `seed` int32 [2]
of `sample` and `complete` do not have: with it only `log_prob` (and any signature whose
inputs all share the batch dimension) can be called; `sample` and `complete` raise a
ValueError saying to use the columnar form. `ServingClient` sends gRPC `PredictRequest`s
(tensors through `tf.make_tensor_proto` / `tf.make_ndarray`).

From the shell (`--rest`, the default, or `--grpc`; arrays in and out as .npy files, or
printed as JSON without `--output`):

    python -m tfar.export.client --address=http://localhost:8501 --model=digits \\
        sample --num_samples=4 --seed=1,2 --output=samples.npy
    python -m tfar.export.client --model=digits log_prob --images=images.npy
"""

import argparse
import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

_FORMS = ("columnar", "row")
_IMAGE_DTYPES = ("uint8", "int32", "int64", "float32")  # tfar.export.saved_model.IMAGE_DTYPES


class ServingError(Exception):
    """A request that TF Serving refused or that did not reach it.

    Attributes:
      model_name, version, signature: the request's (version None: the latest).
      status: the HTTP status (REST) or gRPC status code name, None when there was no
        answer (a timeout, a refused connection).
      detail: the server's error text (or the connection's).
    """

    def __init__(self, model_name, version, signature, status, detail):
        self.model_name, self.version, self.signature = model_name, version, signature
        self.status, self.detail = status, detail
        where = "latest version" if version is None else f"version {version}"
        code = "" if status is None else f" ({status})"
        super().__init__(f"model {model_name!r} ({where}), signature {signature!r}{code}: "
                         f"{detail}")


class _Client:
    """The methods both clients share, over their `predict(signature, inputs)`.

    Images go to the signature of their own dtype (`log_prob_uint8` for uint8 images, …;
    `tfar.export.saved_model`): uint8, int32, int64 and float32 arrays are sent as they
    are, anything else (lists, bools, other dtypes) as the model's `dtype`.
    """

    def log_prob(self, images, conditional_input=None, dtype=np.float32):
        """[B] log-probabilities (nats) of images [B, *event_shape]; `dtype`: the model's."""
        signature, images = _image_signature("log_prob", images, dtype)
        result = self.predict(signature, _with_condition({"images": images}, conditional_input))
        return np.asarray(_named(result, "log_prob"), np.float32)

    def sample(self, num_samples, seed, conditional_input=None):
        """[N, *event_shape] samples; the same stateless seed gives the same samples."""
        self._require_columnar("sample", "num_samples int32 [] and seed int32 [2]")
        inputs = {"num_samples": np.int32(num_samples), "seed": np.asarray(seed, np.int32)}
        return _named(self.predict("sample", _with_condition(inputs, conditional_input)),
                      "samples")

    def complete(self, images, observed_mask, seed, conditional_input=None, dtype=np.float32,
                 num_particles=1):
        """images with the unobserved entries (observed_mask False) sampled, in the images'
        dtype; `num_particles` K > 1 resamples from K completions per row (exact for any
        observed set as K grows; `tfar` `complete`)."""
        self._require_columnar("complete", "seed int32 [2] and num_particles int32 []")
        signature, images = _image_signature("complete", images, dtype)
        mask = np.asarray(observed_mask, bool)
        inputs = {"images": images,  # a dtype variant's mask has its images' dtype (0/1)
                  "observed_mask": mask if signature == "complete" else mask.astype(images.dtype),
                  "seed": np.asarray(seed, np.int32),
                  "num_particles": np.int32(num_particles)}
        result = self.predict(signature, _with_condition(inputs, conditional_input))
        return np.asarray(_named(result, "images")).astype(images.dtype)

    def _require_columnar(self, signature, unbatched):
        """Nothing, unless the client's requests give every input a batch dimension."""


class RestClient(_Client):
    """Calls one served model's signatures through TF Serving's REST API.

    Args:
      address: TF Serving's REST endpoint, "http://host:port" (8501 by default; a bare
        "host:port" means http).
      model_name: the served model's name (`--model_name` / `MODEL_NAME`).
      version: a model version to pin; None serves the latest.
      timeout: seconds per request.
      form: "columnar" (`{"inputs": ...}`) or "row" (`{"instances": [...]}`); see the
        module docstring for what the row form cannot carry.
    """

    def __init__(self, address, model_name, version=None, timeout=60.0, form="columnar"):
        if form not in _FORMS:
            raise ValueError(f"form must be one of {_FORMS}; got {form!r}.")
        self.address = address if "://" in address else f"http://{address}"
        self.model_name, self.version, self.timeout, self.form = (
            model_name, version, timeout, form)
        path = f"/v1/models/{urllib.parse.quote(model_name, safe='')}"
        if version is not None:
            path += f"/versions/{int(version)}"
        self.url = f"{self.address.rstrip('/')}{path}:predict"

    def predict(self, signature, inputs):
        """Runs `signature` on a dict of arrays. Returns its output as a numpy array when it
        has one (TF Serving's JSON leaves a single output unnamed), else a dict of arrays.
        JSON decimals come back as float32, integers as int32 (tfar's exported dtypes),
        strings as bytes."""
        inputs = {key: np.asarray(value) for key, value in inputs.items()}
        body = {"signature_name": signature}
        if self.form == "columnar":
            body["inputs"] = {key: _to_json(value) for key, value in inputs.items()}
        else:
            body["instances"] = _rows(signature, inputs)
        answer = self._post(signature, json.dumps(body).encode("utf-8"))
        key = "outputs" if self.form == "columnar" else "predictions"
        if key not in answer:
            raise ServingError(self.model_name, self.version, signature, None,
                               f"the answer has no {key!r}: {json.dumps(answer)[:200]}")
        return _outputs(answer[key], self.form)

    def close(self):
        """Nothing to release (one connection per request); for symmetry with ServingClient."""

    def _require_columnar(self, signature, unbatched):
        if self.form == "row":
            raise ValueError(
                f"{signature} cannot be sent in the row ('instances') form, which gives every "
                f"input a batch dimension: {signature} takes {unbatched} without one. Use "
                "RestClient(..., form='columnar') (the default).")

    def _post(self, signature, data):
        """The JSON answer to POSTing `data`, or a ServingError."""
        request = urllib.request.Request(self.url, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, detail = error.code, _error_text(error.read())
        except OSError as error:  # URLError (its reason the cause), TimeoutError, resets
            status, reason = None, getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                detail = f"no answer from {self.address} within {self.timeout} s"
            else:
                detail = f"cannot reach TF Serving at {self.address}: {reason}"
        except ValueError as error:  # json.JSONDecodeError
            status, detail = None, f"the answer is not JSON: {error}"
        raise ServingError(self.model_name, self.version, signature, status, detail)


class ServingClient(_Client):
    """Calls one served model's signatures through TF Serving's gRPC API.

    Args:
      address: "host:port" of TF Serving's gRPC endpoint (8500 by default).
      model_name: the served model's name (`--model_name` / `MODEL_NAME`).
      version: a model version to pin; None serves the latest.
      timeout: seconds per request.
      channel: a `grpc.Channel` to use instead of an insecure one to `address`.
    """

    def __init__(self, address, model_name, version=None, timeout=60.0, channel=None):
        import grpc  # the REST client needs neither it nor TensorFlow
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.address, self.model_name, self.version, self.timeout = (
            address, model_name, version, timeout)
        self._channel = channel or grpc.insecure_channel(address)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    def predict(self, signature, inputs):
        """Runs `signature` on a dict of arrays; returns its outputs as numpy arrays."""
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = signature
        if self.version is not None:
            request.model_spec.version.value = int(self.version)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        try:
            response = self._stub.Predict(request, timeout=self.timeout)
        except grpc.RpcError as error:
            code, detail = error.code(), error.details()
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                detail = f"no answer from {self.address} within {self.timeout} s"
            elif code == grpc.StatusCode.UNAVAILABLE:
                detail = f"cannot reach TF Serving at {self.address}: {detail}"
            raise ServingError(self.model_name, self.version, signature, code.name,
                               detail) from error
        return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}

    def close(self):
        self._channel.close()


def _image_signature(name, images, dtype):
    """(signature, images): `name`'s variant for the images' own dtype, or `name` itself
    with the images as the model's `dtype`."""
    images, dtype = np.asarray(images), np.dtype(dtype)
    if images.dtype.name in _IMAGE_DTYPES and images.dtype != dtype:
        return f"{name}_{images.dtype.name}", images
    return name, images.astype(dtype)


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


def _to_json(array):
    """An array as TF Serving's JSON wants it: nested lists, strings as {"b64": ...}."""
    if array.dtype.kind in "SO":
        return np.vectorize(lambda s: {"b64": base64.b64encode(s).decode("ascii")},
                            otypes=[object])(array).tolist()
    return array.tolist()


def _rows(signature, inputs):
    """The row form's "instances": one {input: value} object per batch row, or a
    ValueError when the inputs do not share a batch dimension."""
    sizes = {key: value.shape[0] if value.ndim else None for key, value in inputs.items()}
    if None in sizes.values() or len(set(sizes.values())) != 1:
        shapes = ", ".join(f"{key} {list(value.shape)}" for key, value in inputs.items())
        raise ValueError(f"{signature}: the row ('instances') form needs every input to share "
                         f"the batch dimension; got {shapes}. Use form='columnar'.")
    columns = {key: _to_json(value) for key, value in inputs.items()}
    return [{key: column[i] for key, column in columns.items()}
            for i in range(next(iter(sizes.values())))]


def _is_b64(value):
    return isinstance(value, dict) and set(value) == {"b64"}


def _outputs(value, form):
    """The signature's output(s) from the answer's "outputs" (columnar) or "predictions"
    (row): one array, or a dict of arrays when the outputs are named."""
    if form == "columnar" and isinstance(value, dict) and not _is_b64(value):
        return {key: _array(item) for key, item in value.items()}
    if form == "row" and value and isinstance(value[0], dict) and not _is_b64(value[0]):
        return {key: _array([row[key] for row in value]) for key in value[0]}
    return _array(value)


def _array(value):
    """A JSON tensor as numpy: decimals float32, integers int32, strings bytes (objects)."""
    def decode(item):
        if isinstance(item, list):
            return [decode(x) for x in item]
        if _is_b64(item):
            return base64.b64decode(item["b64"])
        return item.encode("utf-8") if isinstance(item, str) else item

    decoded = decode(value)
    array = np.array(decoded)
    if array.dtype.kind in "SU":
        return np.array(decoded, dtype=object)
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    return array.astype(np.int32) if array.dtype.kind in "iu" else array


def _named(result, key):
    """The output `key` of `predict`'s result, or its lone output (unnamed in JSON, or
    named by the model, as PixelVAE's `log_prob_iwae_k{K}`)."""
    if not isinstance(result, dict):
        return result
    return result[key] if key in result or len(result) != 1 else next(iter(result.values()))


def _error_text(body):
    """TF Serving's error text from an error answer's body, `{"error": "..."}`."""
    text = body.decode("utf-8", "replace")
    try:
        return str(json.loads(text)["error"])
    except (ValueError, KeyError, TypeError):
        return text.strip() or "(no error text)"


def _seed(text):
    """"1,2" -> (1, 2), argparse's type for --seed."""
    try:
        seed = tuple(int(part) for part in text.split(","))
    except ValueError:
        seed = ()
    if len(seed) != 2:
        raise argparse.ArgumentTypeError(f"a seed is two integers, e.g. 1,2; got {text!r}")
    return seed


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m tfar.export.client",
        description="Calls a tfar model served by TF Serving (tensorflow_model_server):\n"
                    "log_prob, sample or complete. Arrays are read from and written to .npy\n"
                    "files; without --output the result is printed as JSON.",
        epilog="examples:\n  python -m tfar.export.client --model=digits sample --num_samples=4 "
               "--seed=1,2 --output=samples.npy\n  python -m tfar.export.client --grpc "
               "--address=localhost:8500 --model=digits log_prob --images=images.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", help="the server: http://host:port for REST (default "
                        "http://localhost:8501), host:port for gRPC (default localhost:8500)")
    parser.add_argument("--model", required=True, help="the served model's name")
    parser.add_argument("--version", type=int, help="a version to pin (default: the latest)")
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument("--rest", dest="protocol", action="store_const", const="rest",
                          help="TF Serving's REST API (the default)")
    protocol.add_argument("--grpc", dest="protocol", action="store_const", const="grpc",
                          help="TF Serving's gRPC API")
    parser.add_argument("--form", choices=_FORMS, default="columnar",
                        help="REST JSON form (default columnar; row carries log_prob only)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help_text, images=False, seed=False):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if images:
            sub.add_argument("--images", required=True, help=".npy of images [B, ...]")
            sub.add_argument("--dtype", default="float32",
                             help="the model's dtype (default float32); uint8, int32, int64 "
                                  "and float32 images go to their own dtype's signature")
        if seed:
            sub.add_argument("--seed", required=True, type=_seed, help="two integers: 1,2")
        condition = sub.add_mutually_exclusive_group()
        condition.add_argument("--condition", help=".npy of conditions (int labels, float "
                               "vectors or maps, or strings for captions)")
        condition.add_argument("--caption", action="append",
                               help="a caption (repeat for several)")
        sub.add_argument("--output", help=".npy to write the result to (default: print JSON)")
        return sub

    command("log_prob", "log-probabilities (nats) of images", images=True)
    command("sample", "samples from the model", seed=True).add_argument(
        "--num_samples", required=True, type=int, help="how many samples")
    command("complete", "images with their unobserved entries sampled", images=True,
            seed=True)
    commands.choices["complete"].add_argument(
        "--observed_mask", required=True, help=".npy of bools, the images' shape: True = observed")
    commands.choices["complete"].add_argument(
        "--num_particles", type=int, default=1, help="completions to resample from (default 1)")
    return parser


def _run(args):
    """The command's result array."""
    if args.protocol == "grpc":
        client = ServingClient(args.address or "localhost:8500", args.model, args.version,
                               args.timeout)
    else:
        client = RestClient(args.address or "http://localhost:8501", args.model, args.version,
                            args.timeout, args.form)
    condition = args.caption if args.caption else (
        np.load(args.condition) if args.condition else None)
    try:
        if args.command == "sample":
            return client.sample(args.num_samples, args.seed, conditional_input=condition)
        images = np.load(args.images)
        if args.command == "log_prob":
            return client.log_prob(images, conditional_input=condition, dtype=args.dtype)
        return client.complete(images, np.load(args.observed_mask), args.seed,
                               conditional_input=condition, dtype=args.dtype,
                               num_particles=args.num_particles)
    finally:
        client.close()


def main(argv=None):
    """The shell entry point; returns the exit status (0, or 1 with a one-line error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result = _run(args)
    except (ServingError, ValueError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    if args.output:
        np.save(args.output, result)
    else:
        print(json.dumps(result.tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
