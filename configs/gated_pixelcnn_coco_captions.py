"""Text to image on MS-COCO, GPU-sized: a Gated PixelCNN conditioned on COCO captions
(tfds:coco_captions, Karpathy's splits; the data must already be in
--config.data.data_dir), every image resized to 64×64 RGB (`config.data.image_size`;
(32, 32) for the size of alignDRAW's COCO samples), 256 values per sub-pixel under a
discretized logistic mixture (one head per pixel). Each image's first caption goes
through a word-level bidirectional LSTM `tfar.layers.TextEncoder` with attention
pooling, larger than the captioned digits' one (COCO's vocabulary is about 10,000
words), whose summary enters every gate:

  python train_main.py --config=configs/gated_pixelcnn_coco_captions.py \\
      --config.data.data_dir=/path/to/tensorflow_datasets --workdir=runs/coco

The train split (82,783 images) is streamed (tfar/training/input_pipeline.py). Not run
on the 2-CPU machines this project is developed on (tests/test_configs.py builds it).
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.data.source = "tfds:coco_captions"
    config.data.image_size = (64, 64)
    config.data.condition = "caption"
    config.data.caption_feature = "captions/text"
    config.model = ml_collections.ConfigDict(dict(
        name="gated_pixelcnn", conditioning="caption", num_layers=20, num_filters=192,
        first_kernel_size=7, likelihood="logistic_mixture", num_mixtures=10,
        text_encoder=ml_collections.ConfigDict(dict(
            max_tokens=10_000, embedding_dim=128, units=256, max_length=32,
            pooling="attention")),
        caption_map_shape=None))
    config.train.update(dict(batch_size=32, steps=300_000, learning_rate=1e-3,
                             warmup_steps=1000, grad_clip_norm=1.0, ema_decay=0.9995,
                             log_every=1000, checkpoint_every=5000, steps_per_loop=100))
    config.eval.batch_size = 64
    config.eval.num_samples = 32
    config.eval.sample_columns = 8
    return config
