"""What a model is conditioned on: one object per kind of conditional input.

van den Oord et al., "Conditional Image Generation with PixelCNN Decoders", NIPS 2016,
§2.3: a condition reaches every gate as a vector h (eq. 4) or a spatial map (eq. 5).
A `Conditioning` describes the input a user passes as `conditional_input` and how the
network turns it into those features:

    kind         input (one example)          features the network takes
    Vector       float32 [*shape]             the flattened vector [prod(shape)]
    SpatialMap   float32 [h', w', c']         the map, upsampled in the network
    ClassLabel   int32 [] in [0, classes)     one-hot [classes], or a learned embedding
    Caption      string []                    a `TextEncoder`'s summary [2·units], or
                                              maps [h', w', k] (`CaptionToMaps`)

Each one knows its input's dtype and shape (`shape`, `dtype`, `spec()` for exported
signatures, `input_name` their key), a valid example (`example`, which builds a network's
variables), how a batch is checked (`check`: clear errors, values checked by default) and
the Keras layer that makes its features (`encoder()`, None when the input is the feature).
The distribution checks and reshapes the raw input, the network encodes it once per call
(`AutoregressiveNetwork.encode_condition`), and samplers repeat it per row; nothing else
casts a condition. Constructors take `conditioning=` (a `Conditioning`), or the older
`conditional_shape=` (a `Vector`) and `spatial_conditional_shape=` (a `SpatialMap`), or
`text_encoder=` (a `Caption`): `from_arguments`.
"""

import numpy as np
import tensorflow as tf

import keras

from tfar import inputs
from tfar.layers.conditioning import CaptionFeatures, ClassEncoder, TextEncoder


class Conditioning:
    """One kind of conditional input (see the module docstring).

    Attributes:
      kind: its name ("vector", "spatial_map", "class_label", "caption").
      shape: `tf.TensorShape` of one example's input.
      dtype: the input's dtype.
      input_name: the input's key in exported signatures.
      feature_size: the width of the vector features the network takes, or None.
      map_shape: (h', w', c') of the map features the network takes, or None.
    """

    kind = None
    input_name = "conditional_input"
    feature_size = None
    map_shape = None

    def __init__(self, shape, dtype):
        self.shape = tf.TensorShape(shape)
        self.dtype = tf.as_dtype(dtype)

    def spec(self):
        """The exported signatures' `tf.TensorSpec` of a batch: [None, *shape]."""
        return tf.TensorSpec([None] + self.shape.as_list(), self.dtype, name=self.input_name)

    def example(self, rows=1):
        """A valid input batch [rows, *shape] (zeros; class 0)."""
        return tf.zeros([rows] + self.shape.as_list(), self.dtype)

    def describe(self):
        """How error messages name it, e.g. "conditional_shape=(10,)"."""
        return f"conditional_shape={tuple(self.shape.as_list())}"

    def check(self, value, owner, validate_args=False):
        """value as a tensor [..., *shape] of `dtype`, checked; clear errors otherwise."""
        raise NotImplementedError

    def encoder(self):
        """The Keras layer: a batch [B, *shape] -> features, or None (the input itself)."""
        return None

    def get_config(self):
        return {"kind": self.kind, "shape": tuple(self.shape.as_list())}

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "kind")
        return f"{type(self).__name__}({fields})"

    def _checked_float(self, value, owner, validate_args, what):
        c = inputs.convert(value, tf.float32, owner, "conditional_input",
                           "numbers (float32 by default)")
        c = inputs.check_trailing_shape(c, self.shape, owner, "conditional_input", what)
        if not c.dtype.is_floating or not inputs.CHECK_VALUES:
            return tf.cast(c, tf.float32)
        ok = tf.reduce_all(tf.math.is_finite(c))
        message = f"{owner}: conditional_input holds NaN or Inf; expected finite values."
        check = inputs.guard(ok, lambda: [inputs.fail_unless(ok, [message])], message,
                             validate_args)
        with tf.control_dependencies([check]):  # identity: a same-dtype cast drops the dep
            return tf.identity(tf.cast(c, tf.float32))


class Vector(Conditioning):
    """A float vector (or any float array, flattened) added through every gate (eq. 4).

    Args:
      shape: one example's shape, e.g. (10,) (a one-hot class or an embedding).
    """

    kind = "vector"

    def __init__(self, shape):
        super().__init__(tuple(int(s) for s in np.atleast_1d(shape)), tf.float32)
        self.feature_size = int(np.prod(self.shape.as_list()))

    def check(self, value, owner, validate_args=False):
        return self._checked_float(value, owner, validate_args, "conditional_shape")


class SpatialMap(Conditioning):
    """A float map [h', w', c'] (location-dependent conditioning, §2.3), upsampled by the
    network to the image.

    Args:
      shape: (h', w', c').
    """

    kind = "spatial_map"

    def __init__(self, shape):
        shape = tuple(int(s) for s in shape)
        if len(shape) != 3:
            raise ValueError("spatial_conditional_shape must be (height, width, channels); "
                             f"got {shape!r}.")
        super().__init__(shape, tf.float32)
        self.map_shape = shape

    def describe(self):
        return f"spatial_conditional_shape={tuple(self.shape.as_list())}"

    def check(self, value, owner, validate_args=False):
        return self._checked_float(value, owner, validate_args, "spatial_conditional_shape")


class ClassLabel(Conditioning):
    """An integer class label in [0, num_classes): one-hot through every gate, or a learned
    embedding of `embedding_dim` (`tfar.layers.ClassEncoder`).

    Args:
      num_classes: the number of classes.
      embedding_dim: None for one-hot, else the embedding's size.
    """

    kind = "class_label"

    def __init__(self, num_classes, embedding_dim=None):
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or (
                num_classes < 1):
            raise ValueError(f"num_classes must be a positive int; got {num_classes!r}.")
        super().__init__((), tf.int32)
        self.num_classes = int(num_classes)
        self.embedding_dim = None if embedding_dim is None else int(embedding_dim)
        self.feature_size = self.embedding_dim or self.num_classes

    def describe(self):
        return f"class labels in [0, {self.num_classes})"

    def check(self, value, owner, validate_args=False):
        expected = f"integer class labels in [0, {self.num_classes})"
        c = inputs.convert(value, tf.int32, owner, "conditional_input", expected)
        if c.dtype.is_floating or c.dtype.is_bool:
            raise TypeError(f"{owner}: conditional_input must be {expected}; got dtype "
                            f"{c.dtype.name}.")
        if not inputs.CHECK_VALUES:
            return tf.cast(c, tf.int32)
        ok = tf.reduce_all(tf.logical_and(c >= 0, c < tf.cast(self.num_classes, c.dtype)))
        message = f"{owner}: conditional_input holds labels outside [0, {self.num_classes})"

        def assertions():
            return [inputs.fail_unless(ok, [f"{message}; expected {expected}. Received "
                                            "smallest", tf.reduce_min(c), "largest",
                                            tf.reduce_max(c)])]
        check = inputs.guard(ok, assertions, message + f"; expected {expected}.",
                             validate_args)
        with tf.control_dependencies([check]):
            return tf.identity(tf.cast(c, tf.int32))

    def encoder(self):
        return ClassEncoder(self.num_classes, self.embedding_dim, name="condition_encoder")

    def get_config(self):
        return {"kind": self.kind, "num_classes": self.num_classes,
                "embedding_dim": self.embedding_dim}


class Caption(Conditioning):
    """A caption string, encoded by a `tfar.layers.TextEncoder` that trains with the image
    model: its summary vector through every gate, or with `map_shape` = (h', w', k) maps
    made from it by `tfar.layers.CaptionToMaps` (a spatial condition; `cells` "separate"
    or "shared", see there). Exported
    signatures take it as `caption`, a string [B].

    The checks: a string dtype (TypeError), and by default at least one token per caption
    (an empty caption, or one of punctuation only, is an InvalidArgumentError). Words not
    in the vocabulary map to its OOV token and text past `max_length` tokens is cut there
    (`TextEncoder`).

    Args:
      text_encoder: a `tfar.layers.TextEncoder` (adapted or not; `adapt` learns the
        vocabulary), or its config.
      map_shape: None for a vector condition, else (h', w', k).
      cells: with `map_shape`, `CaptionToMaps`' "separate" (default) or "shared".
    """

    kind = "caption"
    input_name = "caption"

    def __init__(self, text_encoder, map_shape=None, cells="separate"):
        if isinstance(text_encoder, dict):
            text_encoder = keras.saving.deserialize_keras_object(text_encoder)
        if not isinstance(text_encoder, TextEncoder):
            raise ValueError("text_encoder must be a tfar.layers.TextEncoder; got "
                             f"{type(text_encoder).__name__}.")
        super().__init__((), tf.string)
        self.text_encoder = text_encoder
        self.map_shape = None if map_shape is None else tuple(int(s) for s in map_shape)
        if self.map_shape is not None and len(self.map_shape) != 3:
            raise ValueError(f"caption map_shape must be (height, width, channels); got "
                             f"{map_shape!r}.")
        self.cells = cells
        self.feature_size = None if self.map_shape else text_encoder.output_size

    def describe(self):
        return "a caption (text_encoder=...)"

    def example(self, rows=1):
        return tf.fill([rows], "a")

    def check(self, value, owner, validate_args=False):
        expected = "caption strings"
        if isinstance(value, (list, tuple)) and any(not isinstance(v, (str, bytes))
                                                    for v in np.ravel(np.asarray(value, object))):
            raise TypeError(f"{owner}: conditional_input must be {expected}; got "
                            f"{type(value).__name__} of non-strings.")
        c = inputs.convert(value, tf.string, owner, "conditional_input", expected,
                           strings=True)
        if c.dtype != tf.string:
            raise TypeError(f"{owner}: conditional_input must be {expected} (a string "
                            f"array, one caption per example); got dtype {c.dtype.name}.")
        if not inputs.CHECK_VALUES:
            return c
        counts = self.text_encoder.tokens(tf.reshape(c, [-1])).row_lengths()
        ok = tf.reduce_all(counts > 0)
        message = (f"{owner}: conditional_input holds a caption with no words (empty, or "
                   "punctuation only); expected at least one word per caption.")
        check = inputs.guard(ok, lambda: [inputs.fail_unless(ok, [message])], message,
                             validate_args)
        with tf.control_dependencies([check]):
            return tf.identity(c)

    def encoder(self):
        return CaptionFeatures(self.text_encoder, self.map_shape, self.cells,
                               name="condition_encoder")

    def get_config(self):
        return {"kind": self.kind,
                "text_encoder": keras.saving.serialize_keras_object(self.text_encoder),
                "map_shape": self.map_shape, "cells": self.cells}


KINDS = {cls.kind: cls for cls in (Vector, SpatialMap, ClassLabel, Caption)}


def get(value):
    """A `Conditioning` from itself, its config (a dict with "kind") or None."""
    if value is None or isinstance(value, Conditioning):
        return value
    if isinstance(value, dict) and value.get("kind") in KINDS:
        fields = {k: v for k, v in value.items() if k != "kind"}
        return KINDS[value["kind"]](**fields)
    raise ValueError(f"conditioning must be a tfar.conditioning.Conditioning ({sorted(KINDS)}) "
                     f"or its config; got {value!r}.")


def from_arguments(conditional_shape=None, spatial_conditional_shape=None, conditioning=None,
                   text_encoder=None):
    """The `Conditioning` a constructor's arguments describe (at most one of them), or None:
    `conditional_shape` -> `Vector`, `spatial_conditional_shape` -> `SpatialMap`,
    `text_encoder` -> `Caption` (a vector), `conditioning` as given."""
    given = {name: value for name, value in (
        ("conditional_shape", conditional_shape),
        ("spatial_conditional_shape", spatial_conditional_shape),
        ("conditioning", conditioning), ("text_encoder", text_encoder)) if value is not None}
    if len(given) > 1:
        raise ValueError(f"Give at most one of conditional_shape (a vector), "
                         f"spatial_conditional_shape (a map), text_encoder (a caption) and "
                         f"conditioning; got {sorted(given)}.")
    if conditional_shape is not None:
        return Vector(conditional_shape)
    if spatial_conditional_shape is not None:
        return SpatialMap(spatial_conditional_shape)
    if text_encoder is not None:
        return Caption(text_encoder)
    return get(conditioning)
