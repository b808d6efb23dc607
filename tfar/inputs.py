"""Input checks of tfar's distributions: every value a user passes is checked by default.

`InputChecks` is the mixin `tfar.autoregressive.AutoregressiveDistribution` inherits:
dtypes and trailing shapes are always checked (TypeError / ValueError, or an in-graph
check when only the run-time shape can tell); values are checked by default with one
fused reduction per tensor (`guard`): the events' values by the distribution's `Support`
(the head's: integers in [0, num_values) for the discrete heads, finite floats for the
continuous ones; `IntegerValues`, `RealValues`), finite conditional inputs, non-negative integer sample shapes, bool observed
masks. The checks that name the problem and the values received run eagerly once the
fused one fails, and in graphs with `validate_args=True` (TFP's costlier checks).
`unless_empty` lets empty batches through networks that fail on them.
"""

import numpy as np
import tensorflow as tf

COMPUTE_DTYPE = tf.float32  # networks compute in float32; `dtype=` sets the events' dtype

# A switch for benchmarks: False skips the default value checks of `_check_values` and of
# conditional inputs (shape and dtype checks stay), to time what they cost
# (benchmarks/validation_cost.py). Leave it True.
CHECK_VALUES = True


def fail_unless(ok, data):
    """Raises InvalidArgumentError with `data` (strings and tensors, joined) unless ok:
    at once when eager (a readable message), else an in-graph `tf.debugging.Assert`."""
    if tf.executing_eagerly():
        if not bool(ok):
            parts = [d if isinstance(d, str) else np.array2string(np.asarray(d), threshold=10)
                     for d in data]
            raise tf.errors.InvalidArgumentError(None, None, " ".join(parts))
        return tf.no_op()
    return tf.debugging.Assert(ok, data, summarize=10)


def guard(ok, assertions, message, validate_args=False):
    """The default input checks: `ok` is one cheap fused reduction (a bool scalar).

    Eagerly, a False `ok` runs `assertions()` (the checks that name the problem and the
    values received; the first failing one raises). In a graph (`tf.function`, exported
    signatures) they sit in the false branch of one `tf.cond` on `ok`, so they name the
    values there too (the largest or smallest received, the first non-integers) and the
    happy path runs no extra reduction; with `validate_args=True` they run always (TFP's
    costlier checks). `message` is the error when none of them fails. Returns an op or
    tensor to hang control dependencies on."""
    if tf.executing_eagerly():
        if not bool(ok):
            assertions()
            raise tf.errors.InvalidArgumentError(None, None, message)
        return ok
    if validate_args:
        return tf.group(assertions())

    def name_the_values():
        with tf.control_dependencies(assertions()):
            with tf.control_dependencies([tf.debugging.Assert(ok, [message])]):
                return tf.identity(ok)

    return tf.cond(ok, lambda: tf.identity(ok), name_the_values)


def unless_empty(x, compute, empty):
    """compute() for a batch x [B, ...] with rows, else empty(): some networks (Keras
    convolutions) fail on B = 0. Free when B is static; a `tf.cond` only when B is
    unknown (e.g. an exported signature's [None, ...] input)."""
    rows = tf.compat.dimension_value(x.shape[0]) if x.shape.rank else None
    if rows is None and tf.executing_eagerly():
        rows = int(tf.shape(x)[0])
    if rows is not None:
        return compute() if rows > 0 else empty()
    return tf.cond(tf.shape(x)[0] > 0, compute, empty)


def convert(value, dtype_hint, owner, name, expected, strings=False):
    """value as a tensor of a numeric or bool dtype (or string, with `strings`), or a
    TypeError naming `expected`. NumPy arrays keep their own dtype: with dtype_hint=int32
    TF would truncate 0.5 to 0 silently, before any value check could see it."""
    try:
        if isinstance(value, (np.ndarray, np.generic)):
            value = tf.convert_to_tensor(value)
        else:
            value = tf.convert_to_tensor(value, dtype_hint=dtype_hint)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{owner}: {name} must be a tensor of {expected}; got "
                        f"{type(value).__name__} ({error}).") from None
    numeric = value.dtype.is_floating or value.dtype.is_integer or value.dtype.is_bool
    if not (numeric or (strings and value.dtype == tf.string)):
        raise TypeError(f"{owner}: {name} must be a tensor of {expected}; got dtype "
                        f"{value.dtype.name}.")
    return value


def check_trailing_shape(t, shape, owner, name, what):
    """t, whose shape must end in `shape`: a ValueError when the static shape says it
    does not; an in-graph check only when the static shape cannot tell."""
    rank = shape.rank
    expected = (f"{owner}: {name} must have shape [..., "
                f"{', '.join(map(str, shape.as_list()))}] (batch dims + {what} {shape})")
    if rank == 0:
        return t
    if t.shape.rank is not None and (
            t.shape.rank < rank or not shape.is_compatible_with(t.shape[t.shape.rank - rank:])):
        raise ValueError(f"{expected}; got shape {t.shape}.")
    if t.shape.rank is not None and t.shape[t.shape.rank - rank:].is_fully_defined():
        return t
    actual, want = tf.shape(t), tf.constant(shape.as_list(), tf.int32)
    if t.shape.rank is not None:
        ok = tf.reduce_all(tf.equal(actual[t.shape.rank - rank:], want))
    else:
        ok = tf.cond(tf.size(actual) >= rank,
                     lambda: tf.reduce_all(tf.equal(actual[tf.size(actual) - rank:], want)),
                     lambda: tf.constant(False))
    with tf.control_dependencies([fail_unless(ok, [f"{expected}; got shape", actual])]):
        return tf.identity(t)


class Support:
    """The values an event's dimensions may hold, and their checks: what a likelihood
    head accepts (`Likelihood.support`), so that the input checks come from the head and
    no model branches on its kind.

    `describe()` names the values for messages ("integers in [0, 4)", "finite floats");
    `check(x, owner, name, validate_args)` takes x of a numeric or bool dtype (shape
    already checked) and returns it as float32 after the value checks (one fused
    reduction, the naming checks behind `guard`); `integer` says whether the values are
    integers (the exporter's per-dtype signatures); `exact_dtypes` lists the dtypes that
    hold every value exactly; `check_dtype(dtype, owner)` rejects an event dtype that
    cannot."""

    integer = True
    num_values = None
    exact_dtypes = ()

    def describe(self):
        raise NotImplementedError

    def check(self, x, owner, name, validate_args=False):
        raise NotImplementedError

    def check_dtype(self, dtype, owner):
        """A ValueError unless events of `dtype` can hold these values."""


class IntegerValues(Support):
    """Integers in [0, num_values): the support of the discrete heads (Bernoulli,
    Categorical, the discretized logistic mixture).

    The fused check is `all(x == clip(round(x), 0, num_values - 1))`; when it fails,
    `guard` runs the checks that name the problem (NaN/Inf, below 0, >= num_values,
    non-integer) with the values received (InvalidArgumentError); in a graph only with
    validate_args=True, else one message lists the possible problems. Bool events are
    0/1, valid for every num_values >= 2."""

    integer = True

    def __init__(self, num_values):
        self.num_values = int(num_values)
        # uint8 holds [0, 256); every integer dtype, and float32 below 2**24, holds the rest
        self.exact_dtypes = tuple(
            dtype for dtype in (tf.uint8, tf.int32, tf.int64, tf.float32)
            if self.num_values <= dtype.max + 1 or dtype.is_floating)

    def describe(self):
        return f"integers in [0, {self.num_values})"

    def check(self, x, owner, name, validate_args=False):
        if x.dtype.is_bool:
            return tf.cast(x, COMPUTE_DTYPE)
        top = self.num_values - 1
        if x.dtype.is_integer:
            top = min(top, x.dtype.max)
            in_range = tf.equal(x, tf.clip_by_value(x, tf.zeros([], x.dtype),
                                                    tf.cast(top, x.dtype)))
        else:
            in_range = tf.equal(x, tf.clip_by_value(tf.round(x), 0.0, float(top)))
        v = self.num_values
        message = (f"{owner}: {name} holds values that are not integers in [0, {v}): "
                   f"NaN or Inf, values below 0, values >= {v} or non-integer values; "
                   f"expected integers in [0, {v}).")
        check = guard(tf.reduce_all(in_range), lambda: self._assertions(x, owner, name),
                      message, validate_args)
        with tf.control_dependencies([check]):  # identity: a same-dtype cast drops the dep,
            return tf.identity(tf.cast(x, COMPUTE_DTYPE))  # and the check must come first

    def _assertions(self, x, owner, name):
        """The checks behind the fused one, in order, each naming what it expected and
        what it received; run only once the fused check has failed."""
        expected = f"expected integers in [0, {self.num_values})."
        low, high = tf.reduce_min(x), tf.reduce_max(x)
        checks = []
        if x.dtype.is_floating:
            finite = tf.math.is_finite(x)
            checks.append((tf.reduce_all(finite), [
                f"{owner}: {name} holds NaN or Inf; {expected} Received",
                tf.reduce_sum(tf.cast(tf.logical_not(finite), tf.int32)),
                "non-finite values."]))
        checks += [
            (low >= 0, [f"{owner}: {name} holds values below 0; {expected} "
                        "Received smallest value", low]),
            (high < tf.cast(self.num_values, x.dtype) if high.dtype.max >= self.num_values
             else tf.constant(True),
             [f"{owner}: {name} holds values >= {self.num_values}; {expected} "
              "Received largest value", high]),
        ]
        if x.dtype.is_floating:
            fraction = tf.not_equal(x, tf.round(x))
            checks.append((tf.logical_not(tf.reduce_any(fraction)), [
                f"{owner}: {name} holds non-integer values; {expected} Received e.g.",
                tf.boolean_mask(x, fraction)[:3]]))
        return _in_order(checks)


class RealValues(Support):
    """Finite real numbers: the support of the continuous heads (`Gaussian`,
    `MixtureOfGaussians`). Any numeric or bool x is a real value; the one check is that
    x is finite as float32 (NaN, ±Inf, and float64 values beyond the float32 range are
    rejected, the message naming the first few received). Events must have a float
    dtype (`check_dtype`)."""

    integer = False
    exact_dtypes = (tf.float32,)

    def describe(self):
        return "finite floats"

    def check(self, x, owner, name, validate_args=False):
        values = tf.cast(x, COMPUTE_DTYPE)
        if not x.dtype.is_floating:
            return values
        finite = tf.math.is_finite(values)
        message = (f"{owner}: {name} holds NaN, Inf or values beyond the float32 range; "
                   "expected finite floats.")

        def assertions():
            return _in_order([(tf.reduce_all(finite), [
                f"{owner}: {name} holds NaN, Inf or values beyond the float32 range; expected "
                "finite floats. Received e.g.",
                tf.boolean_mask(x, tf.logical_not(finite))[:3]])])

        check = guard(tf.reduce_all(finite), assertions, message, validate_args)
        with tf.control_dependencies([check]):
            return tf.identity(values)

    def check_dtype(self, dtype, owner):
        if not tf.as_dtype(dtype).is_floating:
            raise ValueError(f"{owner}: events of real values need a float dtype; got "
                             f"dtype={tf.as_dtype(dtype).name}.")


def _in_order(checks):
    """`fail_unless` ops of (ok, data) pairs, each after the previous: the first that
    fails names the problem."""
    ops = []
    for ok, data in checks:
        with tf.control_dependencies(ops[-1:]):
            ops.append(fail_unless(ok, data))
    return ops


class InputChecks:
    """The checks of a distribution's inputs (see the module docstring); the class using it
    provides `name`, `dtype`, `validate_args`, `_support` (a `Support`: the values an
    event may hold), `_static_event_shape` and `_conditioning` (a
    `tfar.conditioning.Conditioning` or None)."""

    def _check_conditional(self, conditional_input):
        """conditional_input as its conditioning's dtype [..., *shape] (`tfar.conditioning`:
        float32 vectors and maps, int32 class labels, string captions), or None; clear
        errors for a missing or unexpected one, and the conditioning's own checks."""
        if self._conditioning is None:
            if conditional_input is not None:
                raise ValueError(
                    f"{self.name} was built without a conditional input "
                    "(conditional_shape=None), but conditional_input was given; build the "
                    "model with conditional_shape=... to condition it.")
            return None
        if conditional_input is None:
            raise ValueError(
                f"{self.name} was built with {self._conditioning.describe()}; pass "
                "conditional_input=... of that shape (plus batch dims).")
        return self._conditioning.check(conditional_input, self.name, self.validate_args)

    def _convert(self, value, dtype_hint, name, expected):
        """value as a tensor of a numeric or bool dtype, or a TypeError naming `expected`."""
        return convert(value, dtype_hint, self.name, name, expected)

    def _check_trailing_shape(self, t, shape, name, what):
        """t, whose shape must end in `shape` (`check_trailing_shape`)."""
        return check_trailing_shape(t, shape, self.name, name, what)

    def _check_values(self, x, name="x"):
        """x [..., *event_shape] as float32 (what the networks compute in), checked.

        Always: a numeric or bool dtype (TypeError) and the trailing shape (ValueError).
        By default (and in exported signatures, which call these methods), also the
        values, by the distribution's `support` (the head's: `IntegerValues` for the
        discrete heads, `RealValues` for the continuous ones; see `Support`)."""
        support = self._support
        x = self._convert(x, self.dtype, name, support.describe())
        x = self._check_trailing_shape(x, self._static_event_shape, name, "event_shape")
        if not CHECK_VALUES:
            return tf.cast(x, COMPUTE_DTYPE)
        return support.check(x, self.name, name, self.validate_args)

    def _check_sample_shape(self, sample_shape):
        expected = "expected a non-negative int or a 1-D list of them, e.g. 16 or [4, 5]"
        if isinstance(sample_shape, (bool, np.bool_)):
            raise TypeError(f"{self.name}: sample shape must be integers; {expected}; got "
                            f"{sample_shape!r}.")
        try:
            shape = tf.convert_to_tensor(sample_shape, dtype_hint=tf.int32)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{self.name}: sample shape {sample_shape!r} is not a shape; "
                            f"{expected} ({error}).") from None
        if shape.dtype.is_bool or not (shape.dtype.is_integer or shape.dtype.is_floating) or (
                shape.shape.rank is not None and shape.shape.rank > 1):
            raise TypeError(f"{self.name}: sample shape must be integers; {expected}; got "
                            f"{sample_shape!r} (dtype {shape.dtype.name}, shape {shape.shape}).")
        value = tf.get_static_value(shape)
        if value is not None:
            value = np.asarray(value)
            if np.any(value != np.round(value)) or np.any(value < 0) or (
                    shape.dtype.is_floating and np.any(np.abs(value) > 2**31 - 1)):
                raise ValueError(f"{self.name}: sample shape {sample_shape!r} is not a shape; "
                                 f"{expected}.")
            return tf.constant(value.astype(np.int32))
        if shape.dtype.is_floating:
            raise TypeError(f"{self.name}: sample shape must be an integer tensor; {expected}; "
                            f"got dtype {shape.dtype.name}.")
        with tf.control_dependencies([fail_unless(
                tf.reduce_all(shape >= 0),
                [f"{self.name}: the sample shape holds a negative number; {expected}. Got",
                 shape])]):
            return tf.identity(shape)

    def _check_observed_mask(self, observed_mask, x):
        """observed_mask as bool, broadcastable to x (a bool or integer mask, nonzero =
        observed); clear errors for another dtype or shape."""
        mask = self._convert(observed_mask, tf.bool, "observed_mask", "bools")
        if mask.dtype.is_floating:
            raise TypeError(f"{self.name}: observed_mask must be bools (True where x is "
                            f"observed); got dtype {mask.dtype.name}.")
        try:
            tf.broadcast_static_shape(mask.shape, x.shape)
        except ValueError:
            raise ValueError(f"{self.name}: observed_mask must broadcast to the shape of x; "
                             f"got shapes {mask.shape} and {x.shape}.") from None
        return tf.cast(mask, tf.bool)
