"""Selects the TensorFlow backend for Keras 3 before anything imports keras.

tfar's layers run on Keras 3 with the TensorFlow backend (TFP distributions wrap them).
`KERAS_BACKEND` is set to "tensorflow" when unset; any other backend is refused here,
before a confusing error deep inside TFP.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402  (must come after the environment variable)

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        "tfar needs the Keras 3 TensorFlow backend, but Keras is running on "
        f"{keras.backend.backend()!r} (KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}). "
        "Set KERAS_BACKEND=tensorflow before importing keras or tfar."
    )
