"""Sampling time and peak memory: tfar's cached samplers vs its naive loop vs TFP's PixelCNN.

For each image configuration it measures, side by side in one run, the seconds to draw
--batch_size images with

  cached   `d.sample(n, seed=…, method="cached")`: every layer computed at the new pixel
           only, from row and pixel caches (`tfar.sampling.gated_pixelcnn`,
           `tfar.sampling.pixelcnn`, `tfar.sampling.pixelrnn`, `tfar.sampling.pixelcnnpp`;
           Ramachandran et al. 2017;
           the Diagonal BiLSTM's right-to-left stream: a row of every layer per row);
  compiled `d.sample(n, seed=…, method="cached", jit_compile=True)`: the cached sampler's
           whole loop compiled with XLA (`tfar.random` keeps the samples the same); its
           XLA compilation is part of the first call;
  naive    `d.sample(n, seed=…, method="naive")`: one full network pass per step;
  TFP      `tfd.PixelCNN(...).sample(n, seed=…)` with the same filters and the same number
           of gated layers (a U-net of H levels × R resnet layers has 2HR + H − 1; the
           nearest to --num_layers, fewer levels on ties), its own (naive) loop;

each a `tf.function` traced first (timed apart), called once (the first call, which also
pays TF's graph optimizations, is printed apart) and then timed: the median of 5 more
calls, or of as many as 5 seconds allow (at least one: a naive loop is timed once).
Each measurement runs in its own process; its peak memory is the process's peak
resident set during the timed calls (Linux VmHWM, reset just before them through
/proc/self/clear_refs), printed beside the resident set before it.

Configurations (batch 16 by default):
  28x28x1   binary (Bernoulli head; TFP: high=1), Gated PixelCNN, PixelCNN and the Row
            LSTM and Diagonal BiLSTM PixelRNNs, --num_layers × --num_filters (7 × 32;
            PixelRNN: h = 32; the PixelRNN paper's MNIST model is 7 Diagonal BiLSTM
            layers of h = 16: --num_filters=16)
  32x32x3   256 values, logistic mixture (--num_mixtures 5), Gated PixelCNN, and
            PixelCNN++ with TFP's layout (the same levels, resnet blocks and filters: TFP's
            PixelCNN is a PixelCNN++, so this row is the same network in both libraries)
  784       binary vectors, MADE with --made_hidden_units (500) (`tfar.sampling.made`) and
            NADE with --made_hidden_units[0] hidden units (`tfar.sampling.nade`)

The multiscale PixelCNN (`multiscale:…`, 28x28x1 and 32x32x3) has a base of 7×7 or 8×8
by a Gated PixelCNN of --num_layers × --num_filters and upscaling ResNets of 2 blocks ×
--num_filters (`tfar.sampling.multiscale`).

  python benchmarks/sampling.py [--configs 28x28x1,32x32x3,784] [--batch_size 16]
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
CALLS, CALLS_SECONDS = 5, 5.0      # timed calls: at most 5, fewer past 5 seconds
flags.DEFINE_list("configs", ["28x28x1", "32x32x3", "784"], "Configurations to measure.")
flags.DEFINE_list("contenders", ["gated:compiled", "gated:cached", "gated:naive", "tfp",
                                 "pixelcnn:compiled", "pixelcnn:cached", "pixelcnn:naive",
                                 "row_lstm:compiled", "row_lstm:cached", "row_lstm:naive",
                                 "diagonal_bilstm:compiled", "diagonal_bilstm:cached",
                                 "diagonal_bilstm:naive", "made:compiled", "made:cached",
                                 "made:naive", "nade:compiled", "nade:cached", "nade:naive",
                                 "pixelcnnpp:compiled", "pixelcnnpp:cached",
                                 "pixelcnnpp:naive", "multiscale:compiled",
                                 "multiscale:cached", "multiscale:naive"],
                  "What to time, each on the configurations it fits (see the docstring).")
flags.DEFINE_list("made_hidden_units", ["500"], "MADE's hidden layers (784 configuration).")
flags.DEFINE_integer("batch_size", 16, "Images per sample call.")
flags.DEFINE_integer("num_layers", 7, "Gated layers (PixelCNN: residual blocks).")
flags.DEFINE_integer("num_filters", 32, "Filters of every model.")
flags.DEFINE_integer("num_mixtures", 5, "Logistic mixture components (3-channel config).")
flags.DEFINE_integer("size", None, "Override the images' height and width (smoke tests).")
flags.DEFINE_string("one", None, "Internal: measure one contender (JSON) and print JSON.")
flags.DEFINE_string("output", None, "Write the results as JSON here.")

CONFIGS = {"28x28x1": dict(shape=(28, 28, 1), num_values=2, likelihood="bernoulli",
                      models=("gated", "tfp", "pixelcnn", "row_lstm", "diagonal_bilstm",
                              "multiscale")),
           "32x32x3": dict(shape=(32, 32, 3), num_values=256, likelihood="logistic_mixture",
                      models=("gated", "tfp", "pixelcnnpp", "multiscale")),
           "784": dict(shape=(784,), num_values=2, likelihood="bernoulli",
                       models=("made", "nade"))}


def tfp_layout(num_layers):
    """(num_hierarchies, num_resnet) whose 2HR + H − 1 gated layers are nearest num_layers."""
    options = [(abs(2 * h * r + h - 1 - num_layers), h, r)
               for h in range(1, 4) for r in range(1, num_layers + 1)]
    _, h, r = min(options)
    return h, r


def memory_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def build(spec):
    """The distribution and a zero-argument sampling function for one contender."""
    import tensorflow as tf
    import tfar
    config = CONFIGS[spec["config"]]
    n, seed = spec["batch_size"], tf.constant([1, 2], tf.int32)
    options = ({"method": "cached", "jit_compile": True} if spec["method"] == "compiled"
               else {"method": spec["method"]})
    if spec["model"] in ("made", "nade"):
        size = spec["size"] ** 2 if spec["size"] else config["shape"][0]
        d = (tfar.MADE(event_shape=(size,), num_values=2, hidden_units=spec["hidden_units"])
             if spec["model"] == "made" else
             tfar.NADE(event_shape=(size,), num_values=2, hidden_units=spec["hidden_units"][0]))
        return d, lambda: d.sample(n, seed=seed, **options), {}
    shape = config["shape"] if not spec["size"] else (spec["size"], spec["size"],
                                                       config["shape"][-1])
    if spec["model"] == "tfp":
        import tensorflow_probability as tfp
        h, r = tfp_layout(spec["num_layers"])
        d = tfp.distributions.PixelCNN(
            image_shape=shape, num_resnet=r, num_hierarchies=h,
            num_filters=spec["num_filters"], num_logistic_mix=spec["num_mixtures"],
            dropout_p=0.0, high=config["num_values"] - 1, low=0)
        # An int seed: TFP's PixelCNN fails on stateless (tensor) seeds.
        return d, lambda: d.sample(n, seed=1), {"num_hierarchies": h, "num_resnet": r}
    if spec["model"] == "pixelcnnpp":
        h, r = tfp_layout(spec["num_layers"])
        d = tfar.PixelCNNPlusPlus(image_shape=shape, num_values=config["num_values"],
                                  num_resnet=r, num_hierarchies=h,
                                  num_filters=spec["num_filters"],
                                  num_mixtures=spec["num_mixtures"], dropout=0.0,
                                  weight_norm=False)
        return (d, lambda: d.sample(n, seed=seed, **options),
                {"num_hierarchies": h, "num_resnet": r})
    if spec["model"] == "multiscale":
        mixtures = ({"num_mixtures": spec["num_mixtures"]}
                    if config["likelihood"] == "logistic_mixture" else {})
        d = tfar.MultiscalePixelCNN(image_shape=shape, num_values=config["num_values"],
                                    likelihood=config["likelihood"], base_size=shape[0] // 4,
                                    base_layers=spec["num_layers"],
                                    base_filters=spec["num_filters"], upscale_blocks=2,
                                    upscale_filters=spec["num_filters"], **mixtures)
        return d, lambda: d.sample(n, seed=seed, **options), {}
    if spec["model"] in ("row_lstm", "diagonal_bilstm"):
        d = tfar.PixelRNN(image_shape=shape, num_values=config["num_values"], cell=spec["model"],
                          likelihood=config["likelihood"], num_layers=spec["num_layers"],
                          hidden_units=spec["num_filters"])
        return d, lambda: d.sample(n, seed=seed, **options), {}
    model = tfar.GatedPixelCNN if spec["model"] == "gated" else tfar.PixelCNN
    mixtures = ({"num_mixtures": spec["num_mixtures"]}
                if config["likelihood"] == "logistic_mixture" else {})
    d = model(image_shape=shape, num_values=config["num_values"],
              likelihood=config["likelihood"], num_layers=spec["num_layers"],
              num_filters=spec["num_filters"], **mixtures)
    return d, lambda: d.sample(n, seed=seed, **options), {}


def measure_one(spec):
    import tensorflow as tf
    begin = time.perf_counter()
    d, sample_fn, layout = build(spec)
    sample = tf.function(sample_fn)
    sample.get_concrete_function()
    trace = time.perf_counter() - begin
    begin = time.perf_counter()
    sample()
    first_call = time.perf_counter() - begin
    rss_before = memory_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                   # resets VmHWM to the current RSS
    times = []
    while not times or (len(times) < CALLS and sum(times) < CALLS_SECONDS):
        begin = time.perf_counter()
        images = sample().numpy()
        times.append(time.perf_counter() - begin)
    return dict(spec, seconds=float(np.median(times)), timed_calls=len(times),
                build_and_trace_seconds=trace,
                first_call_seconds=first_call,
                rss_before_mb=rss_before / 1024, peak_rss_mb=memory_kib("VmHWM") / 1024,
                shape=list(images.shape), values=[float(images.min()), float(images.max())],
                **layout)


def run_one(spec):
    """Measures one contender in a fresh process (its own peak memory)."""
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), f"--one={json.dumps(spec)}"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if result.returncode != 0:
        raise RuntimeError(f"{spec} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def contenders_for(config):
    for item in FLAGS.contenders:
        model, _, method = item.partition(":")
        if model not in CONFIGS[config]["models"]:
            continue
        yield model, method or None


def label(row):
    names = {"gated": "tfar GatedPixelCNN", "pixelcnn": "tfar PixelCNN", "tfp": "TFP PixelCNN",
             "row_lstm": "tfar PixelRNN Row LSTM",
             "diagonal_bilstm": "tfar PixelRNN Diagonal BiLSTM", "made": "tfar MADE",
             "pixelcnnpp": "tfar PixelCNN++", "nade": "tfar NADE",
             "multiscale": "tfar MultiscalePixelCNN"}
    return names[row["model"]] + (f" {row['method']}" if row["method"] else "")


def report(config, rows):
    size = (f"hidden units {','.join(FLAGS.made_hidden_units)}" if config == "784" else
            f"{FLAGS.num_layers} layers × {FLAGS.num_filters} filters")
    print(f"\n{config}: batch {FLAGS.batch_size}, {size}, "
          f"{CONFIGS[config]['likelihood']} head")
    print(f"{'sampler':40s} {'seconds':>9s} {'first call':>11s} {'peak RSS MB':>12s} "
          f"{'RSS before MB':>14s}")
    for row in rows:
        print(f"{label(row):40s} {row['seconds']:9.3f} {row['first_call_seconds']:11.3f} "
              f"{row['peak_rss_mb']:12.0f} {row['rss_before_mb']:14.0f}")
    by_label = {label(row): row for row in rows}
    ratios = {}
    for model in ("tfar GatedPixelCNN", "tfar PixelCNN", "tfar PixelRNN Row LSTM",
                  "tfar PixelRNN Diagonal BiLSTM", "tfar MADE", "tfar NADE",
                  "tfar PixelCNN++", "tfar MultiscalePixelCNN"):
        cached = by_label.get(f"{model} cached")
        if cached is None:
            continue
        for other in (f"{model} naive", "TFP PixelCNN"):
            if other in by_label:
                ratio = by_label[other]["seconds"] / cached["seconds"]
                ratios[f"{other} / {model} cached"] = ratio
                print(f"speed-up of {model} cached over {other}: {ratio:.1f}x")
        compiled = by_label.get(f"{model} compiled")
        if compiled is not None:
            ratio = cached["seconds"] / compiled["seconds"]
            ratios[f"{model} cached / {model} compiled"] = ratio
            print(f"speed-up of {model} compiled over cached: {ratio:.2f}x")
    return ratios


def main(argv):
    del argv
    if FLAGS.one:
        print(json.dumps(measure_one(json.loads(FLAGS.one))))
        return
    results = {}
    for config in FLAGS.configs:
        rows = []
        for model, method in contenders_for(config):
            spec = dict(config=config, model=model, method=method, size=FLAGS.size,
                        batch_size=FLAGS.batch_size, num_layers=FLAGS.num_layers,
                        num_filters=FLAGS.num_filters, num_mixtures=FLAGS.num_mixtures,
                        hidden_units=[int(h) for h in FLAGS.made_hidden_units])
            rows.append(run_one(spec))
            print(f"  measured {label(rows[-1])} on {config}: {rows[-1]['seconds']:.3f} s",
                  flush=True)
        results[config] = {"rows": rows, "ratios": report(config, rows)}
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
