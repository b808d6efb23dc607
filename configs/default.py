"""The default run: NADE on scikit-learn's 8×8 digits (17 gray levels, a 17-way softmax per
pixel), about a minute on 2 CPU cores. The other configs start from this one.

  python train_main.py                                   # this config
  python train_main.py --config.train.steps=500          # any field can be overridden
"""

import ml_collections
from ml_collections.config_dict import placeholder


def get_config():
    config = ml_collections.ConfigDict()

    config.data = ml_collections.ConfigDict()
    config.data.source = "digits"  # a tfar.data.load source: digits, idx:<dir>, tfds:<name>,
    #                                captioned_digits[:<digit source>], …
    # None: the source's train and test splits; an idx: folder holding only the t10k files
    # (../shared/data/mnist) splits them as test[:8000] / test[8000:] (data/README.md).
    config.data.train_split = placeholder(str)   # e.g. "train[:90%]"
    config.data.test_split = placeholder(str)    # e.g. "train[90%:]" for validation
    config.data.num_values = placeholder(int)    # None: the source's levels (17 for digits)
    config.data.binarize = ""                    # "", "fixed" or "dynamic"
    config.data.data_dir = placeholder(str)      # tfds data_dir
    config.data.image_size = placeholder(tuple)  # (H, W) to resize to (None: keep)
    config.data.pad_to = placeholder(tuple)      # (H, W) to pad to with zeros (MNIST in 32×32)
    config.data.dequantize = False               # real values (k + u) / L for RNADE, MADE MoG
    config.data.test_seed = 0                    # the test split's binarization (not train.seed)
    config.data.max_in_memory_mb = 1024          # tfds splits above: streamed (input_pipeline)
    config.data.shuffle_buffer = 10_000          # streamed splits: permuted in windows of this many
    config.data.num_classes = 10         # labels, for model.conditioning="class"
    config.data.condition = "label"      # what a batch holds beside the images: "label" or
    #                                      "caption" (strings [B], for a caption-conditional model)
    config.data.caption_feature = placeholder(str)  # tfds: the captions' text feature, e.g.
    #                                      "captions/text" (None: tfar.data.CAPTION_FEATURES)
    config.data.compose_seed = 0         # captioned_digits: which digits, where (not train.seed)

    config.model = ml_collections.ConfigDict()
    config.model.name = "nade"           # nade, made, fvsbn; other fields: its keywords
    config.model.conditioning = ""       # "" or "class" (one-hot label as conditional_input)
    config.model.hidden_units = 200

    config.train = ml_collections.ConfigDict()
    config.train.seed = 0
    config.train.batch_size = 64         # global: split across replicas
    config.train.steps = 3000
    config.train.steps_per_loop = 100    # steps per tf.function call
    config.train.learning_rate = 1e-3
    config.train.schedule = "cosine"     # constant, cosine (with warmup), exponential
    config.train.warmup_steps = 100
    config.train.decay_steps = 10_000    # exponential schedule
    config.train.decay_rate = 0.5
    config.train.beta_1 = 0.9
    config.train.beta_2 = 0.999
    config.train.grad_clip_norm = 0.0    # 0: no clipping
    config.train.ema_decay = 0.0         # 0: no Polyak averaging of weights
    config.train.mixed_precision = ""    # "", "mixed_float16" (GPU), "mixed_bfloat16"
    config.train.jit_compile = False     # the loss and gradients compiled with XLA
    config.train.log_every = 500
    config.train.checkpoint_every = 1000
    config.train.keep_checkpoints = 3

    config.eval = ml_collections.ConfigDict()
    config.eval.batch_size = 500
    config.eval.seed = 0                 # of stochastic test figures (PixelVAE's estimate)
    config.eval.num_samples = 64         # drawn for samples.png
    config.eval.mmd_samples = placeholder(int)  # samples for the test MMD² (None: the
    #                                      num_samples of samples.png; 0: none)
    config.eval.sample_columns = 8

    config.export = ml_collections.ConfigDict()
    config.export.enabled = True
    return config


def on_binarized_mnist(config):
    """`config` (an MNIST config) moved to tfds:binarized_mnist, the papers' benchmark:
    Larochelle & Murray's fixed stochastic binarization, 50,000 train / 10,000
    validation / 10,000 test images; 100 epochs of batch 100. Published test NLLs:
    ../shared/REFERENCES.md."""
    config.data.source = "tfds:binarized_mnist"
    config.data.binarize = ""          # already binary
    config.train.steps = 50_000
    config.train.checkpoint_every = 5000
    return config


# The real-valued models of benchmarks/real_valued.py (width 100, 10 Gaussians per
# conditional), for configs/rnade_*.py and configs/made_mog_*.py.
RNADE = dict(name="rnade", conditioning="", hidden_units=100, num_mixtures=10)
MADE_MOG = dict(name="made", conditioning="", hidden_units=(100, 100),
                likelihood="mixture_of_gaussians", num_mixtures=10)


def on_real_values(config, model, source, steps):
    """`config` moved to real values: `model` (RNADE or MADE_MOG) on `source` (an
    sklearn:<set>, standardized, its test split; or "digits", dequantized), `steps` of
    batch 64 at a constant Adam rate of 1e-3: the setting of benchmarks/real_valued.py,
    whose validation scores chose `steps` (a tabular set this small overfits soon after).
    The test figure is the log-likelihood per example (digits: also the bound on the
    integer images' NLL in bits/dim)."""
    config.model = ml_collections.ConfigDict(model)
    config.data.source = source
    config.data.dequantize = source == "digits"
    config.train.update(dict(steps=steps, schedule="constant", learning_rate=1e-3,
                             warmup_steps=0, batch_size=64, log_every=min(steps, 500),
                             checkpoint_every=min(steps, 1000)))
    return config
