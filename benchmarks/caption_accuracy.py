"""Do samples drawn for a caption show what it says? A judge of captioned-digit samples.

Input: a `train_main.py` run of a caption-conditional model on a captioned_digits source
(its `--workdir`): the script reads the run's `config.json` (source, composition seed,
binarization) and loads the newest SavedModel in `workdir/export/`, drawing samples
through its `sample` signature with `caption` strings (the model as served; nothing is
rebuilt from the checkpoint).

The judge: a classifier of one canvas cell's content (empty, or a digit 0–9), an RBF
support-vector machine (scikit-learn's `SVC`) fitted on the cells of real captioned-digit
images of the train split (`--judge_train_images`, preprocessed as the run's data:
`binarize`, `num_values`; `tfar.data.captions.layouts` says what is in each cell), and
validated on the cells of real images of the test split (`--judge_test_images`, composed
from digit images the judge never saw). It prints its accuracy on those cells (all, digit
cells, empty cells) and the fraction of the real test images whose caption it confirms,
the same test as the samples get: the ceiling of the figures below.

Captions judged: the forty one-digit captions "the digit d is at the <position>", 30
seen in training and the 10 `HELD_OUT` combinations (digit d at POSITIONS[d % 4]: never in
the train split, neither alone nor in a pair), `--samples_per_caption` samples each. A
sample matches its caption when the judge puts digit d in the stated cell and calls the
three other cells empty. Printed per group: the matching fraction with its count and
binomial standard error, and two parts of it: "digit right" (exactly one cell holds a
digit, and it is d, wherever it is) and "cell right" (exactly one cell holds a digit, and
it is the stated cell, whatever the digit).

Beside them, two baselines: chance, 1/40 (guessing one of the forty (digit, cell) pairs),
and the rate at which the same samples match a caption they were *not* drawn for (each
sample judged against each of the 39 other one-digit captions): a model that ignored its
caption would score that rate on its own captions too.

With `--two_digit_captions` N > 0, also N two-digit captions "the digit a is <relation>
the digit b" (digits and relation drawn with `--seed`): a sample matches when the judge
finds exactly two digits, a and b, in two cells where a stands in that relation to b
(either of the two placements the relation allows), the other cells empty. A two-digit
caption is never held out as a whole; the script prints how many of the matches put a
digit at one of its held-out cells (a placement the train split never showed).

With `--grid=PATH`, a picture: a few one-digit captions (held-out ones marked) and two
two-digit captions, each above its first `--grid_columns` samples.

  python train_main.py --config=configs/gated_pixelcnn_captioned_digits.py \\
      --workdir=runs/gated_pixelcnn_captioned_digits
  python benchmarks/caption_accuracy.py --workdir=runs/gated_pixelcnn_captioned_digits \\
      --grid=docs/samples_captions.png
"""

import json
import math
import os
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfar  # noqa: E402,F401  (sets the Keras backend first)
import tfar.data  # noqa: E402
import tfar.export  # noqa: E402
from tfar.data import captions as captioned  # noqa: E402
from tfar.training import evaluation  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "The train_main.py run's --workdir.")
flags.DEFINE_string("export", None, "A SavedModel to judge instead of the newest in "
                    "workdir/export/ (its config is still read from --workdir).")
flags.DEFINE_integer("samples_per_caption", 20, "Samples drawn per caption.")
flags.DEFINE_integer("two_digit_captions", 20, "Two-digit captions judged (0: none).")
flags.DEFINE_integer("batch_size", 400, "Samples per call of the sample signature.")
flags.DEFINE_integer("judge_train_images", 10_000, "Real train images whose cells fit the judge.")
flags.DEFINE_integer("judge_test_images", 2_000, "Real test images whose cells validate it.")
flags.DEFINE_integer("seed", 0, "Seed of the samples and of the two-digit captions.")
flags.DEFINE_string("grid", None, "Optional PNG: captions above their samples.")
flags.DEFINE_integer("grid_columns", 8, "Samples per caption in the grid.")
flags.DEFINE_string("output", None, "Optional JSON file for the figures.")
flags.mark_flag_as_required("workdir")

EMPTY = 10  # the judge's class of an empty cell; 0–9 are the digits
HELD = set(captioned.HELD_OUT)


def run_config(workdir):
    """The run's data config (config.json), checked to be a captioned_digits run."""
    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    data, model = config["data"], config["model"]
    if not str(data["source"]).startswith("captioned_digits"):
        raise ValueError(f"{workdir} trained on {data['source']!r}; this benchmark judges "
                         "runs on a captioned_digits source.")
    if model.get("conditioning") != "caption":
        raise ValueError(f"{workdir}: config.model.conditioning is "
                         f"{model.get('conditioning')!r}; expected 'caption'.")
    if data.get("image_size"):
        raise ValueError(f"{workdir} resized its images (config.data.image_size); the cells "
                         "of tfar.data.captions.cell_slices would not hold.")
    return data


def real_images(data, split):
    """(images [N, H, W, C] as the run saw them, their Layout) of a captioned_digits split."""
    dataset = tfar.data.load(data["source"], split, num_values=data.get("num_values"),
                             binarize=data.get("binarize") or None, seed=0,
                             data_dir=data.get("data_dir"),
                             compose_seed=data.get("compose_seed", 0))
    images = np.concatenate([b.numpy() for b in dataset.batch(5000)])
    return images, captioned.layouts(data["source"], split, seed=data.get("compose_seed", 0),
                                     data_dir=data.get("data_dir"))


def cell_crops(images, digit_shape):
    """images [N, H, W, C] -> [N, 4, h·w·C]: each cell's pixels, flattened."""
    crops = [images[(slice(None),) + captioned.cell_slices(k, digit_shape)] for k in range(4)]
    return np.stack([c.reshape(len(images), -1) for c in crops], axis=1)


def cell_labels(layout):
    """[N, 4]: each cell's digit, or EMPTY."""
    labels = np.full((len(layout.digits), 4), EMPTY, np.int64)
    rows = np.arange(len(labels))
    for slot in range(2):
        present = layout.cells[:, slot] >= 0
        labels[rows[present], layout.cells[present, slot]] = layout.digits[present, slot]
    return labels


class Judge:
    """Names each cell of a canvas: a digit 0–9 or EMPTY."""

    def __init__(self, crops, labels):
        x, y = crops.reshape(-1, crops.shape[-1]), labels.reshape(-1)
        # The same crop with the same label many times (every empty cell) adds nothing.
        pairs = np.unique(np.concatenate([x, y[:, None]], axis=1), axis=0)
        self.scale = max(float(x.max()), 1.0)
        self.model = SVC(C=5.0, gamma="scale").fit(pairs[:, :-1] / self.scale, pairs[:, -1])

    def __call__(self, crops):
        """crops [N, 4, D] -> [N, 4] cell classes."""
        flat = crops.reshape(-1, crops.shape[-1]) / self.scale
        return self.model.predict(flat).astype(np.int64).reshape(crops.shape[:2])


def one_digit_matches(cells, digit, cell):
    """cells [N, 4] judged classes -> [N] bool: digit `digit` in `cell`, the rest empty."""
    others = np.delete(cells, cell, axis=1)
    return (cells[:, cell] == digit) & (others == EMPTY).all(axis=1)


def parts(cells, digit, cell):
    """([N] digit right, [N] cell right): one digit on the canvas, and it is `digit`
    (anywhere) / it is in `cell` (whatever it is)."""
    occupied = cells != EMPTY
    alone = occupied.sum(axis=1) == 1
    which = np.argmax(occupied, axis=1)
    return (alone & (cells[np.arange(len(cells)), which] == digit)), (alone & (which == cell))


def two_digit_matches(cells, first, relation, second):
    """[N] bool: `first` and `second` in two cells where the first is `relation` of the
    second (either placement), the other two cells empty."""
    match = np.zeros(len(cells), bool)
    for a, b in captioned.CELL_PAIRS:
        if captioned.relation(a, b) != relation:
            continue
        rest = [k for k in range(4) if k not in (a, b)]
        match |= ((cells[:, a] == first) & (cells[:, b] == second)
                  & (cells[:, rest] == EMPTY).all(axis=1))
    return match


def shows_held_out(cells):
    """[N] bool: a digit of the canvas sits at its held-out cell (HELD_OUT)."""
    held_cell = np.full(EMPTY + 1, -1)                       # EMPTY: no cell
    for d, position in captioned.HELD_OUT:
        held_cell[d] = captioned.POSITIONS.index(position)
    return (held_cell[cells] == np.arange(4)[None, :]).any(axis=1)


def real_caption_rates(cells, layout):
    """The judge on real test images and their own captions: (one-digit seen, one-digit
    held out, two-digit) fractions confirmed, with counts."""
    confirmed = np.zeros(len(cells), bool)
    for i, ((d, e), (c, f)) in enumerate(zip(layout.digits, layout.cells)):
        if e < 0:
            confirmed[i] = one_digit_matches(cells[i:i + 1], d, c)[0]
        else:
            confirmed[i] = two_digit_matches(cells[i:i + 1], d, captioned.relation(c, f), e)[0]
    one = layout.num_digits == 1
    groups = (one & ~layout.held_out, one & layout.held_out, ~one)
    return [(confirmed[g].mean() if g.any() else float("nan"), int(g.sum())) for g in groups]


def draw(sample, caption_list, per_caption):
    """[len(caption_list) · per_caption, H, W, C]: per_caption samples of each caption, in
    caption order, drawn `FLAGS.batch_size` at a time with seeds (FLAGS.seed, chunk)."""
    wanted = np.repeat(np.asarray(caption_list, dtype=object), per_caption)
    out = []
    for chunk, start in enumerate(range(0, len(wanted), FLAGS.batch_size)):
        part = wanted[start:start + FLAGS.batch_size]
        out.append(sample(num_samples=tf.constant(len(part), tf.int32),
                          seed=tf.constant([FLAGS.seed, chunk], tf.int32),
                          caption=tf.constant(part.tolist(), tf.string))["samples"].numpy())
    return np.concatenate(out)


def rate_line(name, hits, captions_in_group):
    n = hits.size
    p = float(hits.mean()) if n else float("nan")
    se = math.sqrt(p * (1 - p) / n) if n else float("nan")
    print(f"  {name:<34} {captions_in_group:>8} {n:>8} {p:>9.1%} {se:>8.1%}")
    return {"fraction": p, "standard_error": se, "samples": n, "captions": captions_in_group}


def main(argv):
    del argv
    data = run_config(FLAGS.workdir)
    report = {"workdir": FLAGS.workdir}

    # --- the judge, fitted on real train cells, validated on real test cells
    begin = time.perf_counter()
    train_images, train_layout = real_images(data, f"train[:{FLAGS.judge_train_images}]")
    test_images, test_layout = real_images(data, f"test[:{FLAGS.judge_test_images}]")
    digit_shape = train_layout.digit_shape
    judge = Judge(cell_crops(train_images, digit_shape), cell_labels(train_layout))
    truth, judged = cell_labels(test_layout), judge(cell_crops(test_images, digit_shape))
    digit_cells = truth != EMPTY
    accuracy = {"cells": float((judged == truth).mean()),
                "digit_cells": float((judged == truth)[digit_cells].mean()),
                "empty_cells": float((judged == truth)[~digit_cells].mean())}
    seen_real, held_real, two_real = real_caption_rates(judged, test_layout)
    print(f"Judge: an RBF SVM on the cells of {len(train_images):,} real train images "
          f"({data['source']}, binarize={data.get('binarize') or 'no'}), "
          f"{time.perf_counter() - begin:.0f} s")
    print(f"judge accuracy on the cells of {len(test_images):,} real test images: "
          f"{accuracy['cells']:.1%} of {truth.size:,} cells; digit cells "
          f"{accuracy['digit_cells']:.1%} of {int(digit_cells.sum()):,}, empty cells "
          f"{accuracy['empty_cells']:.1%}")
    print(f"real test images whose caption the judge confirms: one digit, seen "
          f"{seen_real[0]:.1%} ({seen_real[1]}), held out {held_real[0]:.1%} "
          f"({held_real[1]}); two digits {two_real[0]:.1%} ({two_real[1]})")
    report["judge"] = dict(accuracy, real_confirmed={
        "one_digit_seen": seen_real[0], "one_digit_held_out": held_real[0],
        "two_digit": two_real[0]})

    # --- samples of the forty one-digit captions (and some two-digit ones)
    export = FLAGS.export or tfar.export.latest(os.path.join(FLAGS.workdir, "export"))
    sample = tf.saved_model.load(export).signatures["sample"]
    pairs = [(d, k) for d in range(10) for k in range(4)]
    one_captions = [captioned.caption_for(d, k) for d, k in pairs]
    held = np.array([(d, captioned.POSITIONS[k]) in HELD for d, k in pairs])
    rng = np.random.default_rng(FLAGS.seed)
    two = [(int(a), captioned.RELATIONS[int(r)], int(b)) for a, r, b in zip(
        rng.integers(0, 10, FLAGS.two_digit_captions),
        rng.integers(0, len(captioned.RELATIONS), FLAGS.two_digit_captions),
        rng.integers(0, 10, FLAGS.two_digit_captions))]
    two_captions = [f"the digit {a} is {r} the digit {b}" for a, r, b in two]
    n = FLAGS.samples_per_caption
    begin = time.perf_counter()
    samples = draw(sample, one_captions + two_captions, n)
    seconds = time.perf_counter() - begin
    print(f"Samples: {n} per caption from {export}, {len(samples):,} in {seconds:.0f} s")
    cells = judge(cell_crops(samples, digit_shape))
    one_cells = cells[:len(pairs) * n].reshape(len(pairs), n, 4)

    match = np.stack([one_digit_matches(one_cells[i], d, k) for i, (d, k) in enumerate(pairs)])
    digit_right, cell_right = map(np.stack, zip(*[parts(one_cells[i], d, k)
                                                  for i, (d, k) in enumerate(pairs)]))
    # Each sample against each of the 39 one-digit captions it was not drawn for.
    flat = one_cells.reshape(-1, 4)
    against = np.stack([one_digit_matches(flat, d, k) for d, k in pairs], axis=1)  # [S, 40]
    own = np.repeat(np.arange(len(pairs)), n)
    other = np.ones_like(against)
    other[np.arange(len(own)), own] = False
    mismatched = against[other]

    print(f"\n  {'one-digit captions':<34} {'captions':>8} {'samples':>8} {'match':>9} "
          f"{'± s.e.':>8}")
    report["seen"] = rate_line("seen in training", match[~held], int((~held).sum()))
    report["held_out"] = rate_line("held out (HELD_OUT)", match[held], int(held.sum()))
    report["seen_digit_right"] = rate_line("  seen: digit right", digit_right[~held],
                                           int((~held).sum()))
    report["seen_cell_right"] = rate_line("  seen: cell right", cell_right[~held],
                                          int((~held).sum()))
    report["held_out_digit_right"] = rate_line("  held out: digit right", digit_right[held],
                                               int(held.sum()))
    report["held_out_cell_right"] = rate_line("  held out: cell right", cell_right[held],
                                              int(held.sum()))
    report["mismatched"] = rate_line("baseline: judged vs another caption", mismatched, 39)
    print(f"  {'chance: 1 of 40 (digit, cell) pairs':<34} {'':>8} {'':>8} {1 / 40:>9.1%}")
    report["chance"] = 1 / 40
    print("  held out, per caption: " + ", ".join(
        f"{d}@{captioned.POSITIONS[k]} {match[i].mean():.0%}"
        for i, (d, k) in enumerate(pairs) if held[i]))

    if two:
        two_cells = cells[len(pairs) * n:].reshape(len(two), n, 4)
        two_match = np.stack([two_digit_matches(two_cells[i], a, r, b)
                              for i, (a, r, b) in enumerate(two)])
        novel = np.stack([shows_held_out(c) for c in two_cells]) & two_match
        print(f"\n  {'two-digit captions':<34} {'captions':>8} {'samples':>8} {'match':>9} "
              f"{'± s.e.':>8}")
        report["two_digit"] = rate_line("relation and both digits right", two_match, len(two))
        print(f"  ({int(novel.sum())} of the {int(two_match.sum())} matches put a digit at "
              "one of its held-out cells)")
        report["two_digit"]["matches_at_held_out_cells"] = int(novel.sum())

    if FLAGS.grid:
        rows = [(0, 0), (1, 2), (2, 2), (3, 0), (4, 0), (5, 3), (6, 2), (7, 1)]  # held, seen, …
        index = {p: i for i, p in enumerate(pairs)}
        images, titles = [], []
        for d, k in rows:
            i = index[(d, k)]
            images.append(samples[i * n:i * n + FLAGS.grid_columns])
            titles.append(one_captions[i] + ("   [held out]" if held[i] else ""))
        for j in range(min(2, len(two))):
            start = (len(pairs) + j) * n
            images.append(samples[start:start + FLAGS.grid_columns])
            titles.append(two_captions[j])
        levels = data.get("num_values") or (2 if data.get("binarize") else captioned.read(
            data["source"], "test[:1]", data_dir=data.get("data_dir")).levels)
        grid = evaluation.captioned_grid(np.concatenate(images), titles, levels,
                                         FLAGS.grid_columns)
        evaluation.write_png(grid, FLAGS.grid)
        print(f"\nwrote {FLAGS.grid}: {len(titles)} captions × {FLAGS.grid_columns} samples")
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    app.run(main)
