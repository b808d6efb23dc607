"""Text to image on the CPU: a Gated PixelCNN conditioned on captions of the embedded 8×8
digits placed on a 16×16 canvas ("the digit 3 is at the top left", "the digit 3 is above
the digit 7"; `tfar.data.captions`), binarized at half intensity. The captions go through
a `tfar.layers.TextEncoder` (a word-level bidirectional LSTM, learnt end to end) whose
summary becomes 2×2 maps of 32 features, one per 8×8 cell of the canvas: one linear map
of the summary that every cell shares plus a learned embedding of the cell
(`tfar.layers.CaptionToMaps(cells="shared")`), which lets digits and places never seen
together in training compose. `--config.model.caption_maps=separate` gives each cell its
own linear map (PixelCNN Decoders §2.3's s = m(h)); `'--config.model.caption_map_shape=()'`
puts the summary in every gate instead:

  python train_main.py --config=configs/gated_pixelcnn_captioned_digits.py

samples.png shows test captions above the samples drawn for them;
`benchmarks/caption_accuracy.py` judges samples with a digit-and-position classifier.
"""

import ml_collections
from ml_collections.config_dict import FieldReference

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
        caption_map_shape=FieldReference((2, 2, 32), field_type=tuple),  # (): a vector
        caption_maps="shared"))
    config.train.update(dict(batch_size=32, steps=4000, learning_rate=2e-3, warmup_steps=100,
                             log_every=200, checkpoint_every=1000, steps_per_loop=100))
    config.eval.batch_size = 500
    config.eval.num_samples = 32
    config.eval.sample_columns = 8
    return config
