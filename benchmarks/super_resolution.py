"""Super-resolution with trained multiscale models: the small image x[::f, ::f] of real
test images given, the rest drawn by `complete` (Reed et al. 2017 §5; PixelRNN paper §3.5).

Input: `train_main.py` runs (`--workdirs`, comma-separated) of `multiscale_pixelcnn` or
`multiscale_pixelrnn` models; each run's `config.json` says its data and base size, and
the newest SavedModel in `workdir/export/` is called through its `complete` signature
(the model as served). The test images are the first `--num_images` of the first run's
test split, preprocessed as it saw them (`binarize`, `num_values`, `pad_to`); every run
must share that image shape and base size.

Printed per run: the seconds `complete` took, and the fraction of the drawn pixels equal
to the original's (a sample is one plausible image, not a reconstruction: this is a
sanity figure, not a likelihood; the runs' test NLLs are in their metrics.json). With
`--output`, a PNG: the originals, their small images (scaled up, nearest neighbour), then
one row of completions per run.

  python benchmarks/super_resolution.py \\
      --workdirs=runs/multiscale_pixelcnn_mnist32,runs/multiscale_pixelrnn_mnist32 \\
      --output=docs/super_resolution_mnist32.png
"""

import json
import os
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfar  # noqa: E402,F401  (sets the Keras backend first)
import tfar.export  # noqa: E402
from tfar.training import evaluation, input_pipeline  # noqa: E402

import ml_collections  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("workdirs", None, "train_main.py runs of multiscale models.")
flags.DEFINE_integer("num_images", 8, "Test images super-resolved.")
flags.DEFINE_integer("seed", 0, "Seed of the completions.")
flags.DEFINE_string("output", None, "Optional PNG of originals, small images, completions.")
flags.mark_flag_as_required("workdirs")

MODELS = ("multiscale_pixelcnn", "multiscale_pixelrnn")


def run_config(workdir):
    """(data config, model config) of a run, checked to be a multiscale model."""
    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    if config["model"]["name"] not in MODELS:
        raise ValueError(f"{workdir} trained {config['model']['name']!r}; this benchmark "
                         f"super-resolves with {MODELS}.")
    return config["data"], config["model"]


def test_images(data, count):
    """The first `count` test images as the run's evaluation saw them (its test split,
    `input_pipeline.test_batches`): float32 [N, H, W, C], and the data's value count."""
    data_config = input_pipeline.with_splits(ml_collections.ConfigDict(data))
    _, num_values = input_pipeline.describe(data_config, 1)
    images, _ = next(iter(input_pipeline.test_batches(data_config, count)))
    return images.numpy().astype(np.float32), num_values


def stride(image_shape, model):
    """f of the run's base grid x[::f, ::f]."""
    base = model["base_size"]
    base = base[0] if isinstance(base, (list, tuple)) else base
    return image_shape[0] // int(base)


def main(argv):
    del argv
    data, model = run_config(FLAGS.workdirs[0])
    images, num_values = test_images(data, FLAGS.num_images)
    f = stride(images.shape[1:], model)
    mask = np.zeros(images.shape, bool)
    mask[:, ::f, ::f] = True
    given = np.where(mask, images, 0.0).astype(np.float32)
    rows = [images, np.repeat(np.repeat(images[:, ::f, ::f], f, axis=1), f, axis=2)]
    print(f"{len(images)} test images {images.shape[1:]} of {data['source']}, "
          f"small images {images.shape[1] // f}×{images.shape[2] // f} (f = {f}) given")
    print(f"{'run':40s} {'model':22s} {'seconds':>8s} {'drawn pixels = original':>24s}")
    for workdir in FLAGS.workdirs:
        run_data, run_model = run_config(workdir)
        if stride(images.shape[1:], run_model) != f or run_data.get("pad_to") != data.get(
                "pad_to"):
            raise ValueError(f"{workdir}: another base size or image shape than "
                             f"{FLAGS.workdirs[0]}.")
        complete = tf.saved_model.load(
            tfar.export.latest(os.path.join(workdir, "export"))).signatures["complete"]
        begin = time.perf_counter()
        out = complete(images=tf.constant(given), observed_mask=tf.constant(mask),
                       seed=tf.constant([FLAGS.seed, 0], tf.int32),
                       num_particles=tf.constant(1))["images"].numpy()
        seconds = time.perf_counter() - begin
        if not np.array_equal(out[mask], images[mask]):
            raise AssertionError(f"{workdir}: complete changed the given pixels.")
        agreement = np.mean(out[~mask] == images[~mask])
        print(f"{os.path.basename(workdir.rstrip('/')):40s} {run_model['name']:22s} "
              f"{seconds:8.2f} {agreement:24.1%}")
        rows.append(out)
    if FLAGS.output:
        grid = evaluation.image_grid(np.concatenate(rows), num_values,
                                     columns=len(images))
        evaluation.write_png(grid, FLAGS.output)
        print(f"wrote {FLAGS.output}: rows = originals, small images, then "
              + ", ".join(os.path.basename(w.rstrip("/")) for w in FLAGS.workdirs))


if __name__ == "__main__":
    app.run(main)
