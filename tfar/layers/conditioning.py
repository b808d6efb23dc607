"""Keras layers that turn a model's conditional input into the features its network takes.

van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu, "Conditional Image
Generation with PixelCNN Decoders", NIPS 2016, §2.3: a condition enters every gate as a
vector h (eq. 4), or as a spatial map s = m(h) (eq. 5); for text, h is what a text
encoder makes of the caption. The specs these layers serve are `tfar.conditioning`.

- `ClassEncoder`: class labels int [B] -> one-hot [B, num_classes] or a learned embedding.
- `TextEncoder`: captions string [B] -> a summary vector [B, 2·units]: standardize and
  split (words or characters), a vocabulary learnt by `adapt`, an embedding, a
  bidirectional LSTM or GRU, its last states (or attention pooling over all of them).
- `CaptionToMaps`: a summary vector [B, D] -> maps [B, H', W', K] by a linear map and a
  reshape (a 128-d state and a 128 × 4096 matrix give one 64 × 64 map), or by one linear
  map every cell shares plus a learned embedding of each cell (`cells="shared"`).
- `CaptionFeatures`: a `TextEncoder`, then `CaptionToMaps` for a spatial condition.
"""

import collections
import os

import numpy as np
import tensorflow as tf

import keras

SPLITS = ("word", "character")
CELLS = ("lstm", "gru")
POOLINGS = ("last", "attention")
MAP_CELLS = ("separate", "shared")
PAD, OOV = 0, 1                      # token ids: padding, and any word not in the vocabulary
_PUNCTUATION = r"[!\"#$%&()\*\+,\-\./:;<=>?@\[\\\]\^_`{|}~']"
_VOCABULARY_FILE = "vocabulary.txt"


@keras.saving.register_keras_serializable(package="tfar")
class ClassEncoder(keras.layers.Layer):
    """labels int [B] in [0, num_classes) -> one-hot [B, num_classes] (no weights), or a
    learned embedding [B, embedding_dim] when `embedding_dim` is set.

    Args:
      num_classes: the number of classes.
      embedding_dim: None for one-hot, else the embedding's size.
    """

    def __init__(self, num_classes, embedding_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.embedding_dim = None if embedding_dim is None else int(embedding_dim)
        self.embedding = (None if self.embedding_dim is None else
                          keras.layers.Embedding(self.num_classes, self.embedding_dim,
                                                 name="embedding"))

    @property
    def output_size(self):
        return self.num_classes if self.embedding_dim is None else self.embedding_dim

    def build(self, input_shape):
        if self.embedding is not None:
            self.embedding.build(input_shape)

    def call(self, labels):
        labels = tf.cast(labels, tf.int32)
        if self.embedding is None:
            return tf.one_hot(labels, self.num_classes, dtype=self.compute_dtype)
        return self.embedding(labels)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, embedding_dim=self.embedding_dim)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class TextEncoder(keras.layers.Layer):
    """captions string [B] -> a summary vector [B, 2·units], in the layer's compute dtype.

        enc = tfar.layers.TextEncoder(max_tokens=5000, embedding_dim=64, units=128)
        enc.adapt(captions)            # a list, array or tf.data.Dataset of strings
        h = enc(tf.constant(["the digit 3 is at the top left"]))        # [1, 256]

    Text: lower-cased, punctuation removed, split on whitespace (`split="word"`) or into
    Unicode characters ("character"), the first `max_length` tokens kept (longer
    captions are truncated there), each mapped to its id in the vocabulary (id 1, the OOV
    token, for a token not in it; 0 pads). The vocabulary, the `max_tokens` − 2 most
    frequent tokens of the captions given to `adapt` (ties in token order), lives in a
    `tf.lookup.experimental.MutableHashTable`, which `tf.train.Checkpoint` and SavedModels
    save and restore (Keras' `TextVectorization` keeps its vocabulary in a static table
    that a checkpoint does not hold) and `.keras` files keep as an asset. Then an
    embedding, a bidirectional `cell` over the tokens (padding masked), and either the
    last states of both directions (`pooling="last"`) or attention pooling over every
    state (`"attention"`: softmax of a learned score per token).

    Args:
      max_tokens: vocabulary size, the padding and OOV ids included.
      embedding_dim: size of the token embedding.
      units: units of each direction; the output has 2·units.
      max_length: tokens kept per caption.
      split: "word" or "character".
      cell: "lstm" or "gru".
      pooling: "last" or "attention".
    """

    def __init__(self, max_tokens=5000, embedding_dim=64, units=128, max_length=32,
                 split="word", cell="lstm", pooling="last", **kwargs):
        super().__init__(**kwargs)
        for name, value, allowed in (("split", split, SPLITS), ("cell", cell, CELLS),
                                     ("pooling", pooling, POOLINGS)):
            if value not in allowed:
                raise ValueError(f"TextEncoder: {name} must be one of {allowed}; got {value!r}.")
        for name, value in (("max_tokens", max_tokens), ("embedding_dim", embedding_dim),
                            ("units", units), ("max_length", max_length)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"TextEncoder: {name} must be a positive int; got {value!r}.")
        if max_tokens < 3:
            raise ValueError(f"TextEncoder: max_tokens must be >= 3 (padding, OOV and one "
                             f"token); got {max_tokens}.")
        self.max_tokens, self.embedding_dim = int(max_tokens), int(embedding_dim)
        self.units, self.max_length = int(units), int(max_length)
        self.split, self.cell, self.pooling = split, cell, pooling
        self.table = tf.lookup.experimental.MutableHashTable(
            tf.string, tf.int64, default_value=OOV, name=f"{self.name}_vocabulary")
        self.embedding = keras.layers.Embedding(self.max_tokens, self.embedding_dim,
                                                mask_zero=True, name="embedding")
        rnn = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
        self.rnn = keras.layers.Bidirectional(
            rnn(self.units, return_sequences=pooling == "attention"), name="rnn")
        self.score = (keras.layers.Dense(1, name="attention_score")
                      if pooling == "attention" else None)

    @property
    def output_size(self):
        return 2 * self.units

    @property
    def lookup_tables(self):
        """The vocabulary table, a resource a SavedModel must track (`tfar.export`)."""
        return (self.table,)

    # ---------------------------------------------------------------- text -> tokens

    def tokens(self, captions):
        """captions string [B] -> the tokens kept, a ragged string [B, (<= max_length)]."""
        text = tf.strings.regex_replace(tf.strings.lower(captions), _PUNCTUATION, " ")
        if self.split == "word":
            tokens = tf.strings.split(text)
        else:
            tokens = tf.strings.unicode_split(
                tf.strings.regex_replace(tf.strings.strip(text), r"\s+", " "), "UTF-8")
        return tokens[:, :self.max_length]

    def token_ids(self, captions):
        """captions string [B] -> ids int32 [B, max_length] (0 pads, 1 is OOV)."""
        tokens = self.tokens(captions)
        ids = tf.ragged.map_flat_values(self.table.lookup, tokens)
        return tf.cast(ids.to_tensor(default_value=PAD, shape=[None, self.max_length]),
                       tf.int32)

    def adapt(self, data):
        """Learns the vocabulary from captions: a list, NumPy array, tensor or
        `tf.data.Dataset` of strings (scalars or batches). Replaces any earlier one."""
        if isinstance(data, tf.data.Dataset):
            batches = (np.reshape(b, [-1]) for b in data.as_numpy_iterator())
        else:
            batches = [np.reshape(np.asarray(data, dtype=object), [-1])]
        counts = collections.Counter()
        for batch in batches:
            if len(batch):
                counts.update(t.decode() if isinstance(t, bytes) else t for t in
                              self.tokens(tf.constant(batch, tf.string)).flat_values.numpy())
        if not counts:
            raise ValueError("TextEncoder.adapt: no tokens in the captions given.")
        ranked = sorted(counts, key=lambda token: (-counts[token], token))
        self.set_vocabulary(ranked[:self.max_tokens - 2])

    def set_vocabulary(self, tokens):
        """Sets the vocabulary: token i of `tokens` gets id i + 2 (ids 0 and 1 are the
        padding and OOV tokens)."""
        tokens = [t.decode() if isinstance(t, bytes) else str(t) for t in tokens]
        if len(tokens) > self.max_tokens - 2:
            raise ValueError(f"TextEncoder: {len(tokens)} tokens do not fit max_tokens="
                             f"{self.max_tokens} (two ids are padding and OOV).")
        keys, _ = self.table.export()
        self.table.remove(keys)
        if tokens:
            self.table.insert(tf.constant(tokens, tf.string),
                              tf.range(2, len(tokens) + 2, dtype=tf.int64))

    def get_vocabulary(self):
        """The vocabulary in id order, from id 2 (a list of str)."""
        keys, values = self.table.export()
        order = np.argsort(values.numpy())
        return [keys.numpy()[i].decode() for i in order]

    # ---------------------------------------------------------------- tokens -> vector

    def build(self, input_shape):
        ids_shape = (None, self.max_length)
        self.embedding.build(ids_shape)
        self.rnn.build((None, self.max_length, self.embedding_dim))
        if self.score is not None:
            self.score.build((None, self.max_length, 2 * self.units))

    def call(self, captions, training=False):
        ids = self.token_ids(tf.reshape(captions, [-1]))
        mask = tf.not_equal(ids, PAD)
        states = self.rnn(self.embedding(ids), mask=mask, training=training)
        if self.score is None:
            return states                                            # [B, 2·units]
        scores = tf.squeeze(self.score(states), -1)                   # [B, T]
        scores = tf.where(mask, tf.cast(scores, tf.float32), -1e9)
        weights = tf.cast(tf.nn.softmax(scores, axis=-1), states.dtype)
        return tf.reduce_sum(weights[..., None] * states, axis=1)

    # ---------------------------------------------------------------- saving

    def save_assets(self, dir_path):
        """`.keras` files: the vocabulary as a text file, one token per line."""
        with open(os.path.join(dir_path, _VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(self.get_vocabulary()))

    def load_assets(self, dir_path):
        with open(os.path.join(dir_path, _VOCABULARY_FILE), encoding="utf-8") as f:
            text = f.read()
        self.set_vocabulary(text.split("\n") if text else [])

    def get_config(self):
        config = super().get_config()
        config.update(max_tokens=self.max_tokens, embedding_dim=self.embedding_dim,
                      units=self.units, max_length=self.max_length, split=self.split,
                      cell=self.cell, pooling=self.pooling)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class CaptionToMaps(keras.layers.Layer):
    """A summary vector [B, D] -> maps [B, H', W', K] (PixelCNN Decoders §2.3: s = m(h),
    location-dependent conditioning).

    `cells="separate"`: one linear map to H'·W'·K numbers, reshaped; each cell has its own
    weights, so what a cell receives can be any function of the caption's summary.
    `cells="shared"`: s[i, j] = A·h + b + P[i, j], one linear map to K numbers that every
    cell shares, plus a learned embedding P[i, j] of the cell: what the caption says and
    where a cell is enter side by side, and the image network combines them. On the
    captioned digits this composes digits and places never seen together in training
    (docs/results.md, "Text to image"), where separate weights learn only the seen pairs.

    Args:
      map_shape: (H', W', K).
      cells: "separate" or "shared".
    """

    def __init__(self, map_shape, cells="separate", **kwargs):
        super().__init__(**kwargs)
        self.map_shape = tuple(int(s) for s in map_shape)
        if len(self.map_shape) != 3 or min(self.map_shape) < 1:
            raise ValueError(f"CaptionToMaps: map_shape must be (height, width, channels) of "
                             f"positive ints; got {map_shape!r}.")
        if cells not in MAP_CELLS:
            raise ValueError(f"CaptionToMaps: cells must be one of {MAP_CELLS}; got {cells!r}.")
        self.cells = cells
        size = self.map_shape[-1] if cells == "shared" else int(np.prod(self.map_shape))
        self.linear = keras.layers.Dense(size, name="linear")

    def build(self, input_shape):
        self.linear.build(input_shape)
        if self.cells == "shared":
            self.position = self.add_weight(shape=self.map_shape, name="position",
                                            initializer="random_normal")

    def call(self, summary):
        if self.cells == "shared":
            return self.linear(summary)[:, None, None, :] + tf.cast(self.position[None],
                                                                    self.compute_dtype)
        return tf.reshape(self.linear(summary), (-1,) + self.map_shape)

    def get_config(self):
        config = super().get_config()
        config.update(map_shape=self.map_shape, cells=self.cells)
        return config


@keras.saving.register_keras_serializable(package="tfar")
class CaptionFeatures(keras.layers.Layer):
    """captions string [B] -> the text encoder's vector [B, 2·units], or with `map_shape`
    its maps [B, H', W', K] (`CaptionToMaps`).

    Args:
      text_encoder: a `TextEncoder` (or its config).
      map_shape: None for a vector condition, else (H', W', K).
      cells: the maps' `CaptionToMaps` cells, "separate" or "shared".
    """

    def __init__(self, text_encoder, map_shape=None, cells="separate", **kwargs):
        super().__init__(**kwargs)
        if isinstance(text_encoder, dict):
            text_encoder = keras.saving.deserialize_keras_object(text_encoder)
        if not isinstance(text_encoder, TextEncoder):
            raise ValueError("text_encoder must be a tfar.layers.TextEncoder; got "
                             f"{type(text_encoder).__name__}.")
        self.text_encoder = text_encoder
        self.map_shape = None if map_shape is None else tuple(int(s) for s in map_shape)
        self.cells = cells
        self.to_maps = (None if map_shape is None else
                        CaptionToMaps(map_shape, cells=cells, name="to_maps"))

    @property
    def lookup_tables(self):
        return self.text_encoder.lookup_tables

    def build(self, input_shape):
        self.text_encoder.build(input_shape)
        if self.to_maps is not None:
            self.to_maps.build((None, self.text_encoder.output_size))

    def call(self, captions, training=False):
        summary = self.text_encoder(captions, training=training)
        return summary if self.to_maps is None else self.to_maps(summary)

    def get_config(self):
        config = super().get_config()
        config.update(text_encoder=keras.saving.serialize_keras_object(self.text_encoder),
                      map_shape=self.map_shape, cells=self.cells)
        return config
