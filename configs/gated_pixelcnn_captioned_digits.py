"""Text to image on the CPU: a Gated PixelCNN conditioned on captions of the embedded 8×8
digits placed on a 16×16 canvas ("the digit 3 is at the top left", "the digit 3 is above
the digit 7"; `tfar.data.captions`), binarized at half intensity. The captions go through
a `tfar.layers.TextEncoder` (a word-level bidirectional LSTM, learnt end to end) whose
summary enters every gate:

  python train_main.py --config=configs/gated_pixelcnn_captioned_digits.py

samples.png shows test captions above the samples drawn for them;
`benchmarks/caption_accuracy.py` judges samples with a digit-and-position classifier.
"""

import ml_collections
from ml_collections.config_dict import placeholder

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "captioned_digits"
    config.data.binarize = "fixed"
    config.data.condition = "caption"
    config.model = ml_collections.ConfigDict(dict(
        name="gated_pixelcnn", conditioning="caption", num_layers=6, num_filters=32,
        first_kernel_size=5, likelihood="bernoulli",
        text_encoder=ml_collections.ConfigDict(dict(
            max_tokens=64, embedding_dim=32, units=32, max_length=12, split="word",
            cell="lstm", pooling="last")),
        caption_map_shape=placeholder(tuple)))  # e.g. '(2, 2, 8)': the caption as maps
    config.train.update(dict(batch_size=32, steps=4000, learning_rate=2e-3, warmup_steps=100,
                             log_every=200, checkpoint_every=1000, steps_per_loop=100))
    config.eval.batch_size = 500
    config.eval.num_samples = 32
    config.eval.sample_columns = 8
    return config
