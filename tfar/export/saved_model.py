"""SavedModel export of a tfar distribution for TF Serving.

`export(d, "models/mnist")` writes `models/mnist/<version>/`, the layout TF Serving
watches (it serves the largest integer-named subdirectory), through
`keras.export.ExportArchive`, so the SavedModel loads in TF Serving's TF1 session loader
as well as with `tf.saved_model.load`. Signatures (B: batch, N: samples, C: conditional
batch; `event_shape` and `dtype` are the distribution's):

  serving_default, log_prob   images [B, *event_shape] (+ conditional_input [B, *cond])
                              -> log_prob float32 [B], nats
  sample                      num_samples int32 [], seed int32 [2] (+ conditional_input
                              [C, *cond], N a multiple of C, sample i conditioned on row
                              i mod C) -> samples [N, *event_shape]
  complete                    images [B, *event_shape], observed_mask bool
                              [B, *event_shape], seed int32 [2], num_particles int32 []
                              (K >= 1: `complete`'s sampling–importance–resampling; 1 is
                              the sequential completion) (+ conditional_input [B, *cond])
                              -> images [B, *event_shape]
  log_prob_<t>, complete_<t>  the same with images of dtype t, for each t of uint8 (when
                              num_values <= 256), int32, int64 and float32 that holds
                              the head's `support` exactly (a model of real values:
                              float32 alone), other than `dtype` (TF Serving converts no dtype): the same value
                              checks; complete_<t>'s observed_mask is t (0 or 1) and its
                              images come back as t

A model without a likelihood (`has_likelihood` False: a GMMN) has no `log_prob`; its
`sample` is also its serving_default.

Images are integer values in [0, num_values): float32 images are integer-valued floats
(or, for a model of real values, finite float32 values).
Every signature taking `images` gets the dtype variants, a model's own too.

TF Serving's batching (`--enable_batching`) concatenates every input of concurrent
requests along dimension 0, and its REST row format (`instances`) needs every input to
have that dimension: `sample`'s num_samples and seed, and `complete`'s seed and
num_particles, have none (they are per request, and a batch's samples depend only on
them), so those two signatures work without batching and in the columnar format
(`inputs`) only. `export(..., batching=True)` writes a version with only the signatures
whose every input is batched (`log_prob` and its dtypes), for a batching server.

Every version carries `assets.extra/tf_serving_warmup_requests` (`tfar.export.warmup`),
one small valid request per signature, which TF Serving runs before serving it.

The condition is an input of every signature exactly when the distribution has a
`conditioning` (`tfar.conditioning`), with its dtype and shape: `conditional_input`
float32 [B, *cond] (a vector or a spatial map) or int32 [B] (class labels), or `caption`
string [B] (a caption; its vocabulary is a table the SavedModel restores, in TF Serving's
loader too). A distribution adds its own signatures, or replaces these, through
`serving_signatures()`: {name: (function, [tf.TensorSpec, …])} (PixelVAE: `elbo`,
`encode`, `decode`, and a `log_prob` whose output names its importance samples). The
seed is a stateless seed: a signature gives the same samples as
`d.sample(num_samples, seed=seed)` in memory with the same weights.
"""

import inspect
import numbers
import os
import re
import shutil
import tempfile
import uuid

import tensorflow as tf
import tensorflow_probability as tfp

import keras
from tfar.export import warmup
from tfar.inputs import fail_unless, guard

# The dtypes every signature taking `images` accepts (one signature each; see `export`).
IMAGE_DTYPES = (tf.uint8, tf.int32, tf.int64, tf.float32)
_VERSION_NAME = re.compile(r"[0-9]+")
_SAVED_MODEL = "saved_model.pb"


def export(distribution, export_dir, version=None, batching=False, jit_compile=False):
    """Writes `distribution` as a TF Serving SavedModel in `export_dir/<version>/`.

    On a local file system the SavedModel is written to a temporary sibling directory (a
    name TF Serving ignores) and renamed to `<version>` at the end, so a crash never
    leaves a half-written version that TF Serving would load. On any other `tf.io.gfile`
    file system (`gs://`, `s3://`, `ram://`), which renames directories file by file if
    at all, it is written to a local temporary directory and copied into `<version>/`
    with `saved_model.pb` last: a version without it is unfinished (TF Serving cannot
    load it yet, and the next export of that version replaces it). See the module
    docstring for the signatures.

    Args:
      distribution: a `tfp.distributions.Distribution` with a fully defined event shape
        and batch shape `()`, e.g. `tfar.MADE(...)`; one with a `conditioning` gets its
        condition as an input of every signature.
      export_dir: the model's base directory (created if missing), local or any
        `tf.io.gfile` path.
      version: a positive int, or None for 1 + the largest integer-named entry of
        `export_dir` (1 when there is none).
      batching: write only the signatures whose every input has a batch dimension
        (`log_prob` and its dtypes, a model's image-only signatures), for a server run
        with `--enable_batching`, which concatenates every input of concurrent requests
        along dimension 0 (`sample`'s num_samples [] and seed [2] have none).
      jit_compile: `sample` and `complete` run the model's sampling loop compiled with
        XLA (`sample(..., jit_compile=True)`: the same samples, 2-4x faster on CPU). Off
        by default: a SavedModel with XLA-compiled functions runs in Python and
        through the TF1 loader, but TF Serving's `tensorflow_model_server` compiles
        them on CPU only when started with `--xla_cpu_compilation_enabled=true` (an
        experimental flag, off by default; without it such a request fails).

    Returns:
      str: the written directory, `export_dir/<version>`.

    Raises:
      ValueError: a bad `distribution`, `export_dir` or `version`.
      FileExistsError: `export_dir/<version>` exists already (it is never overwritten).
    """
    event_shape, conditioning = _check_distribution(distribution)
    if version is not None:
        version = _check_version(version)
    export_dir = os.fspath(export_dir)
    if tf.io.gfile.exists(export_dir) and not tf.io.gfile.isdir(export_dir):
        raise ValueError(f"export_dir must be a directory; {export_dir!r} is a file.")
    tf.io.gfile.makedirs(export_dir)
    if version is None:
        version = _next_version(export_dir)
    final_dir = os.path.join(export_dir, str(version))
    refuse_existing(final_dir)

    if jit_compile and not hasattr(distribution, "sampling_methods"):
        raise ValueError(f"{distribution.name} has no sampling loop to compile; export it "
                         "with jit_compile=False.")
    archive, signatures = _build_archive(distribution, event_shape, conditioning, batching,
                                         jit_compile)
    if not is_local(export_dir):
        with tempfile.TemporaryDirectory(prefix="tfar_export_") as staging:
            _write(archive, signatures, conditioning, staging)
            refuse_existing(final_dir)
            _copy_tree(staging, final_dir)
        return final_dir
    # Not an integer name, so TF Serving ignores it; os.mkdir honours the umask (the
    # server may run as another user), unlike tempfile.mkdtemp's 0700.
    temp_dir = os.path.join(export_dir, f".tmp-{version}-{uuid.uuid4().hex}")
    os.mkdir(temp_dir)
    try:
        _write(archive, signatures, conditioning, temp_dir)
        refuse_existing(final_dir)  # another exporter may have taken it meanwhile
        try:
            os.rename(temp_dir, final_dir)  # atomic: the same file system
        except OSError as error:  # e.g. an empty directory created since the check
            raise FileExistsError(f"Could not move the export to {final_dir!r}: {error}; "
                                  "pass another version=.") from error
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)  # only left on failure
    return final_dir


def _write(archive, signatures, conditioning, directory):
    """The SavedModel, then its warm-up requests (`warmup.write_requests`)."""
    archive.write_out(directory, verbose=False)
    warmup.write_requests(directory, signatures, conditioning)


def is_local(path):
    """Whether `path` is on the local file system (no scheme, or file://)."""
    return "://" not in path or path.startswith("file://")


def is_complete(version_dir):
    """Whether `version_dir` holds a finished export (its `saved_model.pb`, written last)."""
    return tf.io.gfile.exists(os.path.join(version_dir, _SAVED_MODEL))


def _copy_tree(source, target):
    """Copies the local directory `source` to `target` (any `tf.io.gfile` path), with
    `saved_model.pb` last; an unfinished copy already there is replaced."""
    if tf.io.gfile.exists(target):
        tf.io.gfile.rmtree(target)
    files = []
    for root, _, names in os.walk(source):
        relative = os.path.relpath(root, source)
        # Not os.path.normpath of the target: it turns "gs://b" into "gs:/b", a local path.
        tf.io.gfile.makedirs(target if relative == "." else os.path.join(target, relative))
        files += [os.path.normpath(os.path.join(relative, name)) for name in names]
    for name in sorted(files, key=lambda name: name == _SAVED_MODEL):
        tf.io.gfile.copy(os.path.join(source, name), os.path.join(target, name))


def _build_archive(distribution, event_shape, conditioning, batching=False, jit_compile=False):
    """A `keras.export.ExportArchive` with one endpoint per signature (`_endpoints`), and
    {signature name: input specs} of what it serves."""
    archive = keras.export.ExportArchive()
    # The network is deliberately not passed to `archive.track()`, which the Keras docs
    # need only for lookup-table resources (tfar networks hold none) and for listing
    # variables on the reloaded object. At `write_out`, Keras walks each tracked object's
    # children to find such resources, and TF's `AutoTrackable._trackable_children`
    # traces every `tf.function` attribute it meets, among them a subclassed Keras
    # Model's `_default_save_signature`: `serving_default(inputs)`, which calls
    # `network(inputs)` with a spec made from `build(input_shape)` alone, so without
    # `conditional_input`. A conditional network fails in that trace (a ValueError from
    # reshaping None in `call`, not the "missing a required argument" TypeError the walk
    # tolerates) and the save aborts. No tracking is lost: `write_out` saves every
    # variable the endpoints capture, i.e. the network's, which is what TF Serving loads,
    # and the collections below (public API; they fill the lists `track` would fill) make
    # them listable after `tf.saved_model.load`.
    for collection in ("variables", "trainable_variables", "non_trainable_variables"):
        archive.add_variable_collection(collection, list(getattr(distribution, collection)))
    # Lookup tables (a caption's vocabulary) are resources the SavedModel must save and the
    # loader restore: tracked themselves (tracking their layer would add its variables).
    encoder = getattr(getattr(distribution, "network", None), "condition_encoder", None)
    for table in getattr(encoder, "lookup_tables", ()):
        archive.track(table)

    endpoints = _endpoints(distribution, event_shape, conditioning, batching, jit_compile)
    for name, (function, input_signature) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=input_signature)
    # write_out serves the first endpoint as "serving_default" too.
    signatures = {"serving_default": next(iter(endpoints.values()))[1]}
    signatures.update({name: specs for name, (_, specs) in endpoints.items()})
    return archive, signatures


def _endpoints(distribution, event_shape, conditioning, batching, jit_compile=False):
    """{signature name: (function, input specs)}, `log_prob` first (also served as
    "serving_default"; `sample` for a model without a likelihood): the standard signatures, the model's own (`serving_signatures`),
    and each one taking `images` once per image dtype (`_image_dtype_variants`)."""
    dtype = distribution.dtype
    images = tf.TensorSpec([None] + event_shape, dtype, name="images")
    seed = tf.TensorSpec([2], tf.int32, name="seed")
    num_samples = tf.TensorSpec([], tf.int32, name="num_samples")
    num_particles = tf.TensorSpec([], tf.int32, name="num_particles")
    # The condition's spec: its dtype and shape (float vectors and maps, int32 labels,
    # string captions), keyed by its input name ("conditional_input", or "caption").
    conditional = None if conditioning is None else conditioning.spec()
    conditional_shape = None if conditioning is None else conditioning.shape.as_list()
    loop = {"jit_compile": True} if jit_compile else {}   # the sampling loop's options

    # The argument names are the signature's input keys, the returned dict's keys its
    # output keys. A reloaded signature (and TF Serving) runs on whatever shape it is fed,
    # so each input's shape is checked at run time first (`_checked`); the values are
    # checked by the distribution's methods, which the endpoints call.
    if conditional is None:
        def log_prob(images):
            return {"log_prob": distribution.log_prob(_checked(images, event_shape))}

        def sample(num_samples, seed):
            return {"samples": distribution.sample(_checked(num_samples), seed=_checked(seed),
                                                   **loop)}

        def complete(images, observed_mask, seed, num_particles):
            return {"images": distribution.complete(
                _checked(images, event_shape), _checked(observed_mask, event_shape),
                seed=_checked(seed), num_particles=_checked(num_particles), **loop)}
    else:
        def log_prob(images, conditional_input):
            return {"log_prob": distribution.log_prob(
                _checked(images, event_shape),
                conditional_input=_checked(conditional_input, conditional_shape))}

        def sample(num_samples, seed, conditional_input):
            return {"samples": distribution.sample(
                _checked(num_samples), seed=_checked(seed),
                conditional_input=_checked(conditional_input, conditional_shape), **loop)}

        def complete(images, observed_mask, seed, num_particles, conditional_input):
            return {"images": distribution.complete(
                _checked(images, event_shape), _checked(observed_mask, event_shape),
                seed=_checked(seed), num_particles=_checked(num_particles),
                conditional_input=_checked(conditional_input, conditional_shape), **loop)}

    extra = [] if conditional is None else [conditional]
    endpoints = {"log_prob": (log_prob, [images] + extra),
                 "sample": (sample, [num_samples, seed] + extra)}
    if not getattr(distribution, "has_likelihood", True):  # an implicit model (a GMMN)
        del endpoints["log_prob"]
    if callable(getattr(distribution, "complete", None)):
        mask = tf.TensorSpec([None] + event_shape, tf.bool, name="observed_mask")
        endpoints["complete"] = (complete, [images, mask, seed, num_particles] + extra)
    # The model's own signatures, which may replace the standard ones (a latent-variable
    # model's `log_prob` names its estimate); `log_prob` stays first, as serving_default.
    endpoints.update(getattr(distribution, "serving_signatures", dict)())
    if batching:  # TF Serving's batching concatenates every input along dimension 0
        endpoints = {name: endpoint for name, endpoint in endpoints.items()
                     if all(spec.shape.rank and spec.shape[0] is None for spec in endpoint[1])}
    # The dtypes that hold the model's values exactly (its head's support: uint8 only for
    # num_values <= 256, float32 alone for real values); any dtype for a TFP distribution.
    support = getattr(distribution, "support", None)
    image_dtypes = [d for d in IMAGE_DTYPES
                    if support is None or d in support.exact_dtypes]
    return {name + suffix: variant
            for name, (function, specs) in endpoints.items()
            for suffix, variant in _image_dtype_variants(function, specs, dtype, image_dtypes)}


def _image_dtype_variants(function, specs, dtype, image_dtypes):
    """(suffix, (function, specs)) pairs: the endpoint itself with suffix "", and, when it
    takes `images`, one per other dtype of `image_dtypes` (suffix "_uint8", …: those of
    `IMAGE_DTYPES` that the distribution's `support.exact_dtypes` lists).

    Every variant calls one shared trace of `function` with float32 images (the network
    computes in float32; integers below 2**24 convert exactly, larger ones stay out of
    range), so the value checks are the distribution's for every dtype and the
    SavedModel holds the model's graph once. A variant's `observed_mask` has its images'
    dtype (0 or 1, checked) and its `images` output comes back in that dtype; the
    endpoint itself keeps `dtype` images and a bool mask.
    """
    names = [spec.name for spec in specs]
    if "images" not in names:
        return [("", (function, specs))]
    shared = tf.function(function, autograph=False, input_signature=[  # as Keras' endpoints
        tf.TensorSpec(spec.shape, tf.float32, name=spec.name) if spec.name == "images"
        else spec for spec in specs])
    variants = []
    for image_dtype in [dtype] + [d for d in image_dtypes if d != dtype]:
        own = image_dtype == dtype

        def variant(*args, image_dtype=image_dtype, own=own):
            # Positional: a spec's name (the signature's key) may differ from its argument's.
            args = [tf.cast(arg, tf.float32) if name == "images"
                    else _as_mask(arg) if name == "observed_mask" and not own else arg
                    for name, arg in zip(names, args)]
            outputs = shared(*args)
            return {key: tf.cast(value, image_dtype) if key == "images" and not own else value
                    for key, value in outputs.items()}

        variant.__signature__ = inspect.signature(function)
        variant.__name__ = function.__name__
        variant_specs = [
            tf.TensorSpec(spec.shape, image_dtype, name=spec.name)
            if spec.name == "images" or (spec.name == "observed_mask" and not own) else spec
            for spec in specs]
        variants.append(("" if own else f"_{image_dtype.name}", (variant, variant_specs)))
    return variants


def _as_mask(mask):
    """A numeric observed_mask [B, ...] as bool, after a run-time check that it holds only
    0 and 1 (naming the first other value)."""
    valid = tf.logical_or(tf.equal(mask, 0), tf.equal(mask, 1))
    ok = tf.reduce_all(valid)
    message = "observed_mask must hold 0 (unobserved) or 1 (observed)"
    check = guard(ok, lambda: [fail_unless(ok, [f"{message}; received", tf.boolean_mask(
        mask, tf.logical_not(valid))[:1]])], message + ".")
    with tf.control_dependencies([check]):
        return tf.not_equal(mask, 0)


def _checked(tensor, trailing_shape=None):
    """`tensor`, after a run-time check that its shape is its signature spec's: [batch,
    *trailing_shape], or the spec's fixed shape (seed [2], num_samples []). Reloaded
    signatures and TF Serving feed any shape; without this a [0, 2, 4] batch sent to a
    (2, 3) model gives an empty answer, a [1, 6] one an unrelated error."""
    name = tensor.name.split(":")[0].split("/")[-1]
    if trailing_shape is None:
        expected = tensor.shape.as_list()
    else:
        expected = [-1] + list(trailing_shape)
    rank = len(expected)
    actual = tf.shape(tensor)
    padded = tf.concat([actual, tf.fill([rank], -2)], 0)[:rank]  # -2: a missing dim
    ok = tf.logical_and(tf.equal(tf.size(actual), rank),
                        tf.reduce_all(tf.logical_or(tf.equal(padded, expected),
                                                    tf.equal(expected, -1))))
    shown = ", ".join("batch" if d == -1 else str(d) for d in expected)
    with tf.control_dependencies([tf.debugging.Assert(
            ok, [f"{name} must have shape [{shown}]; got shape", actual])]):
        return tf.identity(tensor)


def _check_distribution(distribution):
    """Returns (event_shape as a list, the `tfar.conditioning.Conditioning` or None)."""
    if not isinstance(distribution, tfp.distributions.Distribution):
        raise ValueError("distribution must be a tfp.distributions.Distribution (e.g. "
                         f"tfar.MADE(...)); got {type(distribution).__name__}.")
    if not distribution.event_shape.is_fully_defined():
        raise ValueError(f"{distribution.name}: export needs a fully defined event_shape; "
                         f"got {distribution.event_shape}.")
    if distribution.batch_shape.rank != 0:
        raise ValueError(f"{distribution.name}: export needs batch_shape (); got "
                         f"{distribution.batch_shape} (export one distribution per model).")
    conditioning = getattr(distribution, "conditioning", None)
    if conditioning is not None and not conditioning.shape.is_fully_defined():
        raise ValueError(f"{distribution.name}: export needs a fully defined conditional "
                         f"shape; got {conditioning.shape}.")
    return distribution.event_shape.as_list(), conditioning


def _check_version(version):
    if isinstance(version, bool) or not isinstance(version, numbers.Integral) or version < 1:
        raise ValueError(f"version must be a positive int or None (the next free one); "
                         f"got {version!r}.")
    return int(version)


def _versions(export_dir):
    """The integer-named entries of export_dir (the versions TF Serving sees)."""
    return [int(name.rstrip("/")) for name in tf.io.gfile.listdir(export_dir)
            if _VERSION_NAME.fullmatch(name.rstrip("/"))]


def _next_version(export_dir):
    """1 + the largest integer-named entry of export_dir, 1 when there is none."""
    return max(_versions(export_dir), default=0) + 1


def latest(export_dir):
    """The newest complete version directory under `export_dir` (the one TF Serving
    serves by default), or a ValueError saying there is none."""
    complete = ([v for v in _versions(export_dir)
                 if is_complete(os.path.join(export_dir, str(v)))]
                if tf.io.gfile.isdir(export_dir) else [])
    if not complete:
        raise ValueError(f"{export_dir} holds no complete SavedModel version (was "
                         "config.export.enabled off, or the run not finished?).")
    return os.path.join(export_dir, str(max(complete)))


def refuse_existing(version_dir):
    """A FileExistsError if `version_dir` holds an export; on a local file system, if it
    exists at all (an export lands there by one rename)."""
    exists = (os.path.lexists(version_dir) if is_local(version_dir)
              else is_complete(version_dir))
    if exists:
        raise FileExistsError(
            f"{version_dir!r} exists already; export never overwrites a version (TF Serving "
            "may be serving it): choose another version (in Python, None is the next free "
            "one).")
