"""Bad inputs, property-based: every input gives a right answer or a clear error.

Hypothesis draws inputs for `log_prob`, `sample` and `complete` of every model that has
them (tiny
sizes, built once per module) and for the exported signatures (`tf.saved_model.load`) of
one unconditional and one conditional model: shapes (right, wrong trailing dims, empty
batches), dtypes, values (in range, >= num_values, negative, fractional, NaN, Inf),
sample counts and conditional inputs (right, wrong shape, NaN, missing, unexpected,
batch mismatch). Each case is classified:

- valid input -> finite output of the right shape (values in range for samples);
- invalid input -> a clear error: ValueError / TypeError / InvalidArgumentError whose
  message says what was expected;
- anything else fails: a crash (another error, or an error for a valid input) or a
  silent output for an invalid input.

The module prints one summary line, e.g. "bad inputs: 412 tried, 230 clear errors,
0 crashes, 0 silent":

    python -m pytest -q -s tests/reliability/test_bad_inputs.py
"""

import collections
import re

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checks
import tfar
import tfar.export

EVENT = (2, 3)
IMAGE = (2, 2, 1)
COND = (2,)

# Built once per module (not per example); conditional ones carry a (2,) condition.
MODELS = {
    "FVSBN": tfar.FVSBN(event_shape=EVENT, num_values=3),
    "NADE": tfar.NADE(event_shape=EVENT, num_values=3, hidden_units=4),
    "MADE": tfar.MADE(event_shape=EVENT, num_values=2, hidden_units=(6,)),
    "MADE_cond": tfar.MADE(event_shape=EVENT, num_values=2, hidden_units=(6,),
                           conditional_shape=COND),
    "PixelCNN": tfar.PixelCNN(image_shape=IMAGE, num_values=4, num_layers=1, num_filters=4),
    "GatedPixelCNN": tfar.GatedPixelCNN(image_shape=IMAGE, num_values=2, num_layers=1,
                                        num_filters=4, likelihood="bernoulli"),
    "GatedPixelCNN_cond": tfar.GatedPixelCNN(image_shape=IMAGE, num_values=3, num_layers=1,
                                             num_filters=4, conditional_shape=COND),
    "NADE_int32": tfar.NADE(event_shape=EVENT, num_values=3, hidden_units=4, dtype=tf.int32),
    "PixelRNN_row_lstm": tfar.PixelRNN(image_shape=IMAGE, num_values=3, cell="row_lstm",
                                       num_layers=1, hidden_units=4, first_kernel_size=3),
    "PixelRNN_diagonal_cond": tfar.PixelRNN(image_shape=IMAGE, num_values=2, num_layers=1,
                                            hidden_units=4, first_kernel_size=3,
                                            conditional_shape=COND),
    "PixelVAE": tfar.PixelVAE(image_shape=IMAGE, num_values=2, latent_dim=2, num_layers=1,
                              num_filters=4, first_kernel_size=3, encoder_filters=4,
                              map_channels=2, num_importance_samples=2),
    # conditional: its code h (2,) is the condition of log_prob, sample and export
    "PixelCNNAutoEncoder_cond": tfar.PixelCNNAutoEncoder(
        image_shape=IMAGE, num_values=2, code_size=COND[0], num_layers=1, num_filters=4,
        first_kernel_size=3, encoder_filters=4),
    "GatedPixelCNN_caption": tfar.GatedPixelCNN(
        image_shape=IMAGE, num_values=2, num_layers=1, num_filters=4,
        text_encoder=checks.caption_encoder()),
    "MADE_class_label": tfar.MADE(event_shape=EVENT, num_values=2, hidden_units=(6,),
                                  conditioning=tfar.conditioning.ClassLabel(3)),
    "MultiscalePixelCNN_cond": tfar.MultiscalePixelCNN(
        image_shape=IMAGE, num_values=3, base_size=1, base_layers=1, base_filters=4,
        base_kernel_size=3, upscale_blocks=1, upscale_filters=4, conditional_shape=COND),
    # real values: every finite number is valid; NaN and Inf are not
    "RNADE": tfar.RNADE(event_shape=EVENT, hidden_units=4, num_mixtures=2),
    "MADE_mog_cond": tfar.MADE(event_shape=EVENT, hidden_units=(6,),
                               likelihood="mixture_of_gaussians", num_mixtures=2,
                               conditional_shape=COND),
    "MultiscalePixelRNN_cond": tfar.MultiscalePixelRNN(
        image_shape=(4, 2, 1), num_values=3, base_size=(2, 1), base_layers=1,
        base_hidden_units=3, num_layers=1, hidden_units=3, first_kernel_size=3,
        context_layers=1, context_filters=3, conditional_shape=COND),
    "PixelCNNPlusPlus_cond": tfar.PixelCNNPlusPlus(
        image_shape=IMAGE, num_values=4, num_resnet=1, num_hierarchies=1, num_filters=4,
        num_mixtures=2, dropout=0.0, conditional_shape=COND),
    # no likelihood: sample only (its log_prob is a NotImplementedError, tests/models)
    "GMMN": tfar.GMMN(event_shape=IMAGE, latent_dim=2, hidden_units=(4,), data_num_values=3),
}
# The latent-variable models have no `complete`, a GMMN no `log_prob`.
COMPLETING = sorted(k for k in MODELS if callable(getattr(MODELS[k], "complete", None)))
WITH_LIKELIHOOD = sorted(k for k in MODELS if MODELS[k].has_likelihood)
EXPORTED = ("NADE", "MADE_cond", "RNADE")

CLEAR_ERRORS = (ValueError, TypeError, tf.errors.InvalidArgumentError)
# What a clear message says: what it expected (or what the caller must pass).
EXPECTED_WORDS = re.compile(r"expected|must |pass conditional_input|built without")
COUNTS = collections.Counter()
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    line = (f"bad inputs: {COUNTS['tried']} tried, {COUNTS['clear']} clear errors, "
            f"{COUNTS['crash']} crashes, {COUNTS['silent']} silent "
            f"({COUNTS['valid']} valid inputs answered right)")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + line)


def classify(call, valid, check_output):
    """Runs call(); counts and returns "valid" / "clear" / "crash" / "silent"."""
    COUNTS["tried"] += 1
    try:
        out = call()
    except CLEAR_ERRORS as error:
        message = getattr(error, "message", None) or str(error)
        if not valid and EXPECTED_WORDS.search(message):
            COUNTS["clear"] += 1
            return "clear", message
        COUNTS["crash"] += 1
        return "crash", f"{type(error).__name__}: {message[:500]}"
    except Exception as error:  # noqa: BLE001 - any other error is a crash
        COUNTS["crash"] += 1
        return "crash", f"{type(error).__name__}: {str(error)[:500]}"
    if not valid:
        COUNTS["silent"] += 1
        return "silent", "no error for an invalid input"
    problem = check_output(out)
    if problem:
        COUNTS["crash"] += 1
        return "crash", f"wrong output for a valid input: {problem}"
    COUNTS["valid"] += 1
    return "valid", ""


def assert_ok(result, case):
    kind, detail = result
    assert kind in ("valid", "clear"), f"{kind}: {detail}\ncase: {case}"


# ---------------------------------------------------------------- input strategies

DTYPES = ["float32", "float64", "int32", "int64", "uint8", "bool", "float16"]
BAD_VALUES = ["too_big", "twenty", "negative", "fraction", "nan", "inf", "-inf"]
BATCHES = [(), (0,), (1,), (3,), (2, 2)]


@st.composite
def values(draw, d, batch=None):
    """(x, shape_ok, description): an array for `d`'s x, maybe with a wrong trailing
    shape, dtype or value (`values_ok` tells)."""
    event = tuple(d.event_shape.as_list())
    if batch is None:
        batch = draw(st.sampled_from(BATCHES))
    shape_kind = draw(st.sampled_from(["right"] * 4 + ["wider", "flat", "short"]))
    shape = {"right": batch + event,
             "wider": batch + event[:-1] + (event[-1] + 1,),
             "flat": batch + (int(np.prod(event)),),
             "short": event[1:]}[shape_kind]
    dtype = draw(st.sampled_from(DTYPES))
    v = d.num_values or 10**6   # real values: "too_big" is a large valid value
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.integers(0, v, size=shape) if d.support.integer else rng.normal(size=shape) * 3
    if not d.support.integer and np.dtype(dtype).kind in "iub":
        x = np.round(x)
    bad = draw(st.sampled_from([None] * 3 + BAD_VALUES))
    if dtype == "bool":
        x, bad = x > 0, None
    elif np.dtype(dtype).kind in "iu" and bad in ("fraction", "nan", "inf", "-inf"):
        bad = None
    elif np.dtype(dtype).kind == "u" and bad == "negative":
        bad = None
    if bad is not None and x.size:
        x = x.astype(np.float64)
        x.flat[rng.integers(x.size)] = {"too_big": v, "twenty": 20, "negative": -1,
                                        "fraction": 0.5, "nan": np.nan, "inf": np.inf,
                                        "-inf": -np.inf}[bad]
    elif x.size == 0:
        bad = None
    x = x.astype(dtype)
    return x, shape_kind == "right", f"x {dtype}{list(shape)} {shape_kind} bad={bad}"


def values_ok(d, x, observed=None):
    """Whether x's values (where observed) are of d's support: integers in
    [0, num_values), or finite float32 values."""
    x = np.asarray(x, np.float64)
    if observed is not None:
        x = x[np.broadcast_to(observed, x.shape)]
    if not d.support.integer:
        return bool(np.all(np.isfinite(x)) and np.all(np.abs(x) <= np.finfo(np.float32).max))
    return bool(np.all(np.isfinite(x)) and np.all(x >= 0) and np.all(x < d.num_values)
                and np.all(x == np.round(x)))


CAPTIONS = ("the digit 3 is at the top left", "the digit 7 is below the digit 1",
            "an unknown zorblax word", "the digit 5 is at the bottom right of the canvas today")


def broadcasts(*shapes):
    """Whether the shapes broadcast together."""
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


@st.composite
def labels_or_captions(draw, d, batch):
    """(conditional_input or None, valid, description) for a class-label or caption model:
    right, one for all, missing, out of range / empty, the wrong dtype, a batch mismatch."""
    caption = d.conditioning.kind == "caption"
    kind = draw(st.sampled_from(["right"] * 4 + ["one", "none", "bad_value", "wrong_dtype",
                                                 "mismatch"]))
    cond_batch = {"one": (), "mismatch": (5,)}.get(kind, batch)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    size = int(np.prod(cond_batch))
    if caption:
        c = np.array(CAPTIONS)[rng.integers(0, len(CAPTIONS), size)].reshape(cond_batch)
        if kind == "bad_value" and size:
            c.flat[rng.integers(size)] = ""          # no words
        if kind == "wrong_dtype":
            c = rng.normal(size=cond_batch).astype(np.float32)
    else:
        c = rng.integers(0, d.conditioning.num_classes, size).reshape(cond_batch)
        if kind == "bad_value" and size:
            c.flat[rng.integers(size)] = d.conditioning.num_classes
        if kind == "wrong_dtype":
            c = c.astype(np.float32)
    if kind == "none":
        c = None
    valid = kind in ("right", "one") or (kind == "bad_value" and size == 0) or (
        kind == "mismatch" and broadcasts(batch, cond_batch))
    return c, valid, f"c {kind}{[] if c is None else list(np.shape(c))}"


@st.composite
def conditions(draw, d, batch):
    """(conditional_input or None, valid, description) for `d` and x's batch dims."""
    if d.conditioning is not None and d.conditioning.kind in ("caption", "class_label"):
        return draw(labels_or_captions(d, batch))
    if d.conditional_shape is None:
        kind = draw(st.sampled_from(["none"] * 5 + ["unexpected"]))
    else:
        kind = draw(st.sampled_from(["right"] * 4 + ["one", "none", "wide", "nan",
                                                     "mismatch", "int"]))
    cond_batch = {"one": (), "mismatch": (5,)}.get(kind, batch)
    width = 3 if kind == "wide" else 2
    c = np.eye(width, dtype=np.float32)[np.zeros(cond_batch, int)] if kind != "none" else None
    if kind == "nan":
        c = np.full(cond_batch + (2,), np.nan, np.float32)
    if kind == "int":
        c = c.astype(np.int32)
    valid = kind in ("right", "one", "int") or (
        kind == "none" and d.conditional_shape is None) or (
        kind == "mismatch" and broadcasts(batch, cond_batch))
    if kind == "nan" and int(np.prod(cond_batch)) == 0:
        valid = True  # an empty batch holds no NaN
    return c, valid, f"c {kind}{[] if c is None else list(c.shape)}"


def finite_of_shape(shape):
    def check(out):
        out = np.asarray(out)
        if out.shape != tuple(shape):
            return f"shape {out.shape}, expected {tuple(shape)}"
        if not np.all(np.isfinite(out)):
            return f"non-finite output {out}"
        return None
    return check


def events_of_shape(d, shape):
    def check(out):
        out = np.asarray(out)
        if out.shape != tuple(shape):
            return f"shape {out.shape}, expected {tuple(shape)}"
        if out.dtype != d.dtype.as_numpy_dtype:
            return f"dtype {out.dtype}, expected {d.dtype.name}"
        if not d.support.integer:
            return None if np.all(np.isfinite(out)) else f"non-finite samples {out}"
        if out.size and not (np.all(out >= 0) and np.all(out < d.num_values)
                             and np.all(out == np.round(out))):
            return f"values outside [0, {d.num_values}): {out}"
        return None
    return check


def broadcast_batch(d, x_batch, c):
    """The batch shape of x's and c's batch dims broadcast."""
    if c is None:
        return x_batch
    return np.broadcast_shapes(x_batch, np.shape(c)[:np.ndim(c) - d.conditional_shape.rank])


# ---------------------------------------------------------------- the properties

@pytest.mark.parametrize("key", WITH_LIKELIHOOD)
@SETTINGS
@given(data=st.data())
def test_log_prob(key, data):
    d = MODELS[key]
    x, shape_ok, x_case = data.draw(values(d))
    batch = x.shape[:x.ndim - d.event_shape.rank] if x.ndim >= d.event_shape.rank else ()
    c, c_valid, c_case = data.draw(conditions(d, tuple(batch)))
    valid = shape_ok and values_ok(d, x) and c_valid
    expected = broadcast_batch(d, tuple(batch), c) if valid else None
    result = classify(lambda: d.log_prob(x, conditional_input=c), valid,
                      finite_of_shape(expected))
    assert_ok(result, f"{key}.log_prob({x_case}, {c_case})")


SAMPLE_SHAPES = [0, 1, 3, (2, 2), -1, 2.5, (2, -1), "two", True, ((1, 2),)]


@pytest.mark.parametrize("key", sorted(MODELS))
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(n=st.sampled_from(SAMPLE_SHAPES), data=st.data())
def test_sample(key, n, data):
    d = MODELS[key]
    n_valid = n in (0, 1, 3, (2, 2)) and not isinstance(n, bool)
    shape = (n,) if isinstance(n, int) else n
    cond_batch = shape[-1:] if n_valid else (1,)
    c, c_valid, c_case = data.draw(conditions(d, tuple(cond_batch)))
    cond_shape = () if d.conditional_shape is None else tuple(d.conditional_shape.as_list())
    batched = c is not None and np.ndim(c) > len(cond_shape)
    # Sampling's rule for c's rows is not broadcasting: N must be a multiple of them
    # (sample i takes row i mod C), so 0 samples for 5 rows, or 10, are valid.
    c_valid = c_valid or (c_case.startswith("c mismatch") and c is not None
                          and np.shape(c)[np.ndim(c) - len(cond_shape):] == cond_shape)
    if batched and c_valid:
        c = c.reshape((-1,) + cond_shape)  # TFP's convention: the sample shape ends in c's batch
    valid = n_valid and c_valid and not (
        batched and n_valid and (
            int(np.prod(shape)) % max(c.shape[0], 1) or (c.shape[0] == 0 and np.prod(shape))))
    expected = (tuple(shape) + tuple(d.event_shape.as_list())) if valid else None
    result = classify(lambda: d.sample(n, seed=(1, 2), conditional_input=c), valid,
                      events_of_shape(d, expected or ()))
    assert_ok(result, f"{key}.sample({n!r}, {c_case})")


MASKS = ["right", "all", "none", "float", "wrong_shape"]


@pytest.mark.parametrize("key", COMPLETING)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(mask_kind=st.sampled_from(MASKS), data=st.data())
def test_complete(key, mask_kind, data):
    d = MODELS[key]
    event = tuple(d.event_shape.as_list())
    x, shape_ok, x_case = data.draw(values(d))
    batch = x.shape[:x.ndim - len(event)] if x.ndim >= len(event) else ()
    c, c_valid, c_case = data.draw(conditions(d, tuple(batch)))
    mask = {"right": np.arange(np.prod(event)).reshape(event) % 2 == 0,
            "all": np.ones(event, bool), "none": np.zeros(event, bool),
            "float": np.ones(event, np.float32),
            "wrong_shape": np.ones(event[:-1] + (event[-1] + 2,), bool)}[mask_kind]
    valid = shape_ok and c_valid and mask_kind in ("right", "all", "none") and values_ok(
        d, x, mask)  # values where unobserved are ignored
    expected = broadcast_batch(d, tuple(batch), c) + event if valid else ()
    result = classify(
        lambda: d.complete(x, mask, seed=(1, 2), conditional_input=c), valid,
        events_of_shape(d, expected))
    assert_ok(result, f"{key}.complete({x_case}, mask {mask_kind}, {c_case})")


# ---------------------------------------------------------------- exported signatures

@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The exported models, loaded with `tf.saved_model.load`: {key: signatures}."""
    loaded = {}
    for key in EXPORTED:
        path = tfar.export.export(MODELS[key], tmp_path_factory.mktemp(key))
        loaded[key] = (path, tf.saved_model.load(path).signatures)
    return loaded


@pytest.mark.xdist_group("bad_inputs_exported")  # one worker exports them
@pytest.mark.parametrize("key", EXPORTED)
@SETTINGS
@given(data=st.data())
def test_exported_signatures(exported, key, data):
    d = MODELS[key]
    signatures = exported[key][1]
    x, x_valid, x_case = data.draw(values(d, batch=data.draw(st.sampled_from([(0,), (1,), (3,)]))))
    x = x.astype(np.float32)  # the signature's dtype; its spec fixes the shape
    x_valid = x_valid and values_ok(d, x)
    batch = x.shape[:1]
    c_kind = "none" if d.conditional_shape is None else data.draw(
        st.sampled_from(["right", "right", "nan"]))
    extra = {} if c_kind == "none" else {
        "conditional_input": np.full(batch + COND, np.nan if c_kind == "nan" else 1.0,
                                     np.float32)}
    c_valid = c_kind != "nan" or batch[0] == 0
    c_case = f"c {c_kind}"
    signature = data.draw(st.sampled_from(["log_prob", "sample", "complete"]))
    if signature == "log_prob":
        valid = x_valid and c_valid
        result = classify(lambda: signatures["log_prob"](images=tf.constant(x), **{
            k: tf.constant(v) for k, v in extra.items()})["log_prob"], valid,
            finite_of_shape(batch))
    elif signature == "sample":
        n = data.draw(st.sampled_from([0, 3, -1, -3]))
        rows = batch[0] if extra else 1
        valid = n >= 0 and c_valid and (not extra or (rows and n % rows == 0) or n == 0)
        result = classify(lambda: signatures["sample"](
            num_samples=tf.constant(n), seed=tf.constant([1, 2]),
            **{k: tf.constant(v) for k, v in extra.items()})["samples"], valid,
            events_of_shape(d, (max(n, 0),) + EVENT))
    else:
        mask = np.ones(x.shape, bool)
        valid = x_valid and c_valid
        result = classify(lambda: signatures["complete"](
            images=tf.constant(x), observed_mask=tf.constant(mask), seed=tf.constant([1, 2]),
            num_particles=tf.constant(1), **{k: tf.constant(v) for k, v in extra.items()}
        )["images"], valid,
            events_of_shape(d, x.shape))
    assert_ok(result, f"exported {key}.{signature}({x_case}, {c_case})")


@pytest.mark.xdist_group("bad_inputs_exported")  # one worker exports them
def test_exported_nade_value_20_is_a_clear_error(exported):
    """The issue's reproduction: 20 sent to an exported NADE failed deep inside
    SparseSoftmaxCrossEntropyWithLogits; x = 2, -1 and 0.5 gave finite numbers. The
    exported graph's error names the problem and the value received, as eager does
    (issue 20)."""
    signatures = exported["NADE"][1]
    expected = r"expected integers in \[0, 3\)\. Received"
    for value, match in ((20.0, r"NADE: x holds values >= 3; .* largest value\] \[20\]"),
                         (3.0, r"NADE: x holds values >= 3; .* largest value\] \[3\]"),
                         (-1.0, r"NADE: x holds values below 0; .* smallest value\] \[-1\]"),
                         (0.5, r"NADE: x holds non-integer values; .* e\.g\.\] \[0\.5"),
                         (np.nan, r"NADE: x holds NaN or Inf; .* Received\] \[6\]")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=match) as error:
            signatures["log_prob"](images=tf.fill([1, 2, 3], value))
        assert re.search(expected, str(error.value))


@pytest.mark.xdist_group("bad_inputs_exported")  # one worker exports them
def test_exported_bad_value_through_the_tf1_loader(exported):
    """TF Serving's path: `tf.compat.v1.saved_model.loader.load` in a session."""
    path = exported["NADE"][0]
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(
            session, [tf.saved_model.SERVING], path)
        signature = meta_graph.signature_def["log_prob"]
        feed_name = signature.inputs["images"].name
        fetch = signature.outputs["log_prob"].name
        good = session.run(fetch, {feed_name: np.ones((2, 2, 3), np.float32)})
        assert good.shape == (2,) and np.all(np.isfinite(good))
        for value, received in ((20.0, r"\[20\]"), (0.5, r"\[0.5"), (-1.0, r"\[-1\]")):
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"expected integers in \[0, 3\)\. Received .*" + received):
                session.run(fetch, {feed_name: np.full((1, 2, 3), value, np.float32)})
        sample = meta_graph.signature_def["sample"]
        with pytest.raises(tf.errors.InvalidArgumentError, match="negative"):
            session.run(sample.outputs["samples"].name,
                        {sample.inputs["num_samples"].name: -1,
                         sample.inputs["seed"].name: [1, 2]})
