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
                              [B, *event_shape], seed int32 [2] (+ conditional_input
                              [B, *cond]) -> images [B, *event_shape]

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

import numbers
import os
import re
import shutil
import tempfile
import uuid

import tensorflow as tf
import tensorflow_probability as tfp

import keras

_VERSION_NAME = re.compile(r"[0-9]+")
_SAVED_MODEL = "saved_model.pb"


def export(distribution, export_dir, version=None):
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

    archive = _build_archive(distribution, event_shape, conditioning)
    if not is_local(export_dir):
        with tempfile.TemporaryDirectory(prefix="tfar_export_") as staging:
            archive.write_out(staging, verbose=False)
            refuse_existing(final_dir)
            _copy_tree(staging, final_dir)
        return final_dir
    # Not an integer name, so TF Serving ignores it; os.mkdir honours the umask (the
    # server may run as another user), unlike tempfile.mkdtemp's 0700.
    temp_dir = os.path.join(export_dir, f".tmp-{version}-{uuid.uuid4().hex}")
    os.mkdir(temp_dir)
    try:
        archive.write_out(temp_dir, verbose=False)
        refuse_existing(final_dir)  # another exporter may have taken it meanwhile
        try:
            os.rename(temp_dir, final_dir)  # atomic: the same file system
        except OSError as error:  # e.g. an empty directory created since the check
            raise FileExistsError(f"Could not move the export to {final_dir!r}: {error}; "
                                  "pass another version=.") from error
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)  # only left on failure
    return final_dir


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


def _build_archive(distribution, event_shape, conditioning):
    """A `keras.export.ExportArchive` with one endpoint per signature."""
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

    dtype = distribution.dtype
    images = tf.TensorSpec([None] + event_shape, dtype, name="images")
    seed = tf.TensorSpec([2], tf.int32, name="seed")
    num_samples = tf.TensorSpec([], tf.int32, name="num_samples")
    # The condition's spec: its dtype and shape (float vectors and maps, int32 labels,
    # string captions), keyed by its input name ("conditional_input", or "caption").
    conditional = None if conditioning is None else conditioning.spec()
    conditional_shape = None if conditioning is None else conditioning.shape.as_list()

    # The argument names are the signature's input keys, the returned dict's keys its
    # output keys. `log_prob` comes first: `write_out` also serves the first endpoint as
    # "serving_default". A reloaded signature (and TF Serving) runs on whatever shape it
    # is fed, so each input's shape is checked at run time first (`_checked`); the values
    # are checked by the distribution's methods, which the endpoints call.
    if conditional is None:
        def log_prob(images):
            return {"log_prob": distribution.log_prob(_checked(images, event_shape))}

        def sample(num_samples, seed):
            return {"samples": distribution.sample(_checked(num_samples), seed=_checked(seed))}

        def complete(images, observed_mask, seed):
            return {"images": distribution.complete(
                _checked(images, event_shape), _checked(observed_mask, event_shape),
                seed=_checked(seed))}
    else:
        def log_prob(images, conditional_input):
            return {"log_prob": distribution.log_prob(
                _checked(images, event_shape),
                conditional_input=_checked(conditional_input, conditional_shape))}

        def sample(num_samples, seed, conditional_input):
            return {"samples": distribution.sample(
                _checked(num_samples), seed=_checked(seed),
                conditional_input=_checked(conditional_input, conditional_shape))}

        def complete(images, observed_mask, seed, conditional_input):
            return {"images": distribution.complete(
                _checked(images, event_shape), _checked(observed_mask, event_shape),
                seed=_checked(seed),
                conditional_input=_checked(conditional_input, conditional_shape))}

    extra = [] if conditional is None else [conditional]
    endpoints = {"log_prob": (log_prob, [images] + extra),
                 "sample": (sample, [num_samples, seed] + extra)}
    if callable(getattr(distribution, "complete", None)):
        mask = tf.TensorSpec([None] + event_shape, tf.bool, name="observed_mask")
        endpoints["complete"] = (complete, [images, mask, seed] + extra)
    # The model's own signatures, which may replace the standard ones (a latent-variable
    # model's `log_prob` names its estimate); `log_prob` stays first, as serving_default.
    endpoints.update(getattr(distribution, "serving_signatures", dict)())
    for name, (function, input_signature) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=input_signature)
    return archive


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
