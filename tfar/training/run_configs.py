"""A run's configs: what a rerun in the same workdir changed, what it may change, and
every config the run trained with.

A rerun of `train_main.py` in a workdir that holds checkpoints resumes from the latest.
Its config is compared with the saved `config.json`, field by field:

- a change of the model (`model.*`) or of what the model is trained on (`data.*` other
  than `RESUMABLE_DATA`) cannot resume (the checkpoint's weights would not fit, or the
  run would not be the one it continues): a ValueError naming each such field, before
  anything is written;
- any other change (`train.steps`, the learning rate, `eval.*`, …) is allowed and logged
  field by field, and the config that ran until then is kept as `config.<step>.json`
  (step: the latest checkpoint's) before `config.json` takes the new one.
"""

import json
import os
import re

import ml_collections
import tensorflow as tf
from absl import logging

CONFIG = "config.json"
# data fields a resumed run may change: where the data are read from, the test split
RESUMABLE_DATA = ("data.data_dir", "data.max_in_memory_mb", "data.test_split",
                  "data.test_seed", "data.shuffle_buffer")


def flatten(config, prefix=""):
    """{"a.b": value} of a nested dict."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def changes(saved, new):
    """[(field, saved value, new value)] of the fields that differ, sorted by field (JSON
    values: a tuple and a list compare equal). A field the saved config lacks and the new
    one holds switched off (False, None, "", 0: a field added to the configs since, at its
    default) is no change."""
    saved, new = flatten(json.loads(json.dumps(saved, default=str))), flatten(
        json.loads(json.dumps(new, default=str)))
    return [(field, saved.get(field), new.get(field)) for field in sorted(set(saved) | set(new))
            if saved.get(field) != new.get(field) and (field in saved or new[field])]


def resumable(field):
    """Whether a resumed run may change `field`."""
    return not (field.startswith("model.") or
                (field.startswith("data.") and field not in RESUMABLE_DATA))


def check_resume(workdir, config, step):
    """Before a run resumes at checkpoint `step` in `workdir`: compares `config` (a
    ConfigDict) with the saved config.json. Raises a one-line ValueError for changes that
    cannot resume; returns the changes that can (logged here), [] when there are none or
    no saved config."""
    path = os.path.join(workdir, CONFIG)
    if not tf.io.gfile.exists(path):
        return []
    with tf.io.gfile.GFile(path) as f:
        saved = json.load(f)
    found = changes(saved, config.to_dict())
    refused = [c for c in found if not resumable(c[0])]
    if refused:
        raise ValueError(
            f"{workdir} holds a run (checkpoint at step {step}) whose config differs in "
            + "; ".join(f"{f}: {old!r} -> {new!r}" for f, old, new in refused)
            + ". These cannot resume; use another --workdir (or restore_from to start a "
              "new run from its weights).")
    for field, old, new in found:
        logging.warning("Resuming at step %d with a changed config: %s: %r -> %r.", step,
                        field, old, new)
    return found


def save(workdir, config, step=None, changed=False):
    """Writes `config` to workdir/config.json; when a resumed run `changed` it, first keeps
    the one that ran until checkpoint `step` as config.<step>.json."""
    path = os.path.join(workdir, CONFIG)
    if changed:
        tf.io.gfile.copy(path, os.path.join(workdir, f"config.{step}.json"), overwrite=True)
    write_json(config.to_dict(), path)


def load(workdir, step=None):
    """The config (a ConfigDict) `workdir`'s run trained with until checkpoint `step`: the
    first `config.<s>.json` with s >= step (a rerun changed the config after checkpoint
    s), else `config.json`, which `step` None also gives.

    Raises:
      FileNotFoundError: the workdir holds no config.json.
    """
    path = os.path.join(workdir, CONFIG)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"{workdir} holds no {CONFIG}: not a train_main.py workdir.")
    if step is not None:
        pattern = re.compile(r"config\.(\d+)\.json")
        found = [pattern.fullmatch(name) for name in tf.io.gfile.listdir(workdir)]
        later = [int(m.group(1)) for m in found if m and int(m.group(1)) >= step]
        if later:
            path = os.path.join(workdir, f"config.{min(later)}.json")
    with tf.io.gfile.GFile(path) as f:
        return ml_collections.ConfigDict(json.load(f))


def write_json(value, path):
    """Writes JSON atomically (a reader never sees half a file)."""
    with tf.io.gfile.GFile(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2, default=str)
    tf.io.gfile.rename(path + ".tmp", path, overwrite=True)
