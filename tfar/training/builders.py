"""Distribution and optimizer from a config (`configs/*.py`, an `ml_collections.ConfigDict`).

`config.model.name` picks a model of `tfar.registry` (each model module registers its
own); every other field of `config.model` is passed to its constructor as a keyword (so
`--config.model.hidden_units=(1000,1000)` works for any keyword the class takes).
`config.model.conditioning="class"` makes a class-conditional model: the integer label is
its `conditional_input` (`tfar.conditioning.ClassLabel`: one-hot in the network);
`"caption"` a caption-conditional one (`tfar.conditioning.Caption`: a text encoder,
adapted to the training captions, trained with the model).
"""

import keras

import tfar  # noqa: F401  (imports every model module, which registers its models)
from tfar import registry
from tfar.conditioning import Caption, ClassLabel
from tfar.layers import TextEncoder

SCHEDULES = ("constant", "cosine", "exponential")
CONDITIONINGS = ("", "class", "caption")
# Model fields that describe the conditioning, not constructor keywords.
_NOT_KWARGS = ("name", "conditioning", "class_embedding_dim", "text_encoder",
               "caption_map_shape", "caption_maps")


def build_distribution(model_config, event_shape, num_values, num_classes=None, seed=None,
                       captions=None, restoring=False):
    """The `tfar` distribution that `model_config` describes.

    Args:
      model_config: a dict or ConfigDict with `name` (a `tfar.registry` name), optional
        `conditioning` ("", "class" or "caption") and the model's constructor keywords.
        "class": the integer label is the condition (`tfar.conditioning.ClassLabel`,
        one-hot, or an embedding of `class_embedding_dim`). "caption": the caption string
        is (`tfar.conditioning.Caption`): a `tfar.layers.TextEncoder` of the
        `text_encoder` fields (its keywords), adapted to `captions`, its summary in every
        gate (`caption_map_shape` None or ()), or maps of `caption_map_shape` (h', w', k)
        for a Gated PixelCNN, made with
        `caption_maps` "separate" (default) or "shared" cells (`tfar.layers.CaptionToMaps`).
      event_shape: the images' [H, W, C].
      num_values: values per dimension of the data.
      num_classes: the number of labels, for `conditioning="class"`.
      seed: the model's `seed` (masks, orders) unless the config sets one, so a resumed
        run rebuilds the same masks.
      captions: the training captions (anything `TextEncoder.adapt` takes), for
        `conditioning="caption"`; the vocabulary is deterministic in them, and a resumed
        run restores it from the checkpoint anyway.
      restoring: the model's weights and vocabulary will be restored from a checkpoint,
        so a caption-conditional model needs no `captions` (its encoder is not adapted).
    """
    config = dict(model_config)
    registry.get(config.get("name"))  # an unknown name fails first
    kwargs = {k: v for k, v in config.items() if k not in _NOT_KWARGS}
    conditioning = config.get("conditioning", "")
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"config.model.conditioning must be one of {CONDITIONINGS}; got "
                         f"{conditioning!r}.")
    if conditioning == "class":
        if not num_classes:
            raise ValueError("conditioning='class' needs a dataset with labels (num_classes).")
        kwargs["conditioning"] = ClassLabel(int(num_classes), config.get("class_embedding_dim"))
    elif conditioning == "caption":
        if captions is None and not restoring:
            raise ValueError("conditioning='caption' needs the training captions to learn the "
                             "text encoder's vocabulary from.")
        encoder = TextEncoder(**dict(config.get("text_encoder") or {}))
        if captions is not None:
            encoder.adapt(captions)
        map_shape = config.get("caption_map_shape")        # None or () for a vector
        kwargs["conditioning"] = Caption(encoder, tuple(map_shape) if map_shape else None,
                                         config.get("caption_maps") or "separate")
    for key, value in kwargs.items():  # ConfigDict gives lists where constructors take tuples
        if isinstance(value, list):
            kwargs[key] = tuple(value)
    configured_seed = kwargs.pop("seed", None)
    return registry.build(config["name"], event_shape, num_values,
                          seed if configured_seed is None else configured_seed, **kwargs)


def learning_rate_schedule(train_config):
    """A constant, cosine (with linear warmup) or exponential learning rate."""
    rate, steps, warmup = train_config.learning_rate, train_config.steps, train_config.warmup_steps
    if train_config.schedule == "constant":
        return rate
    if train_config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else rate, decay_steps=max(steps - warmup, 1),
            warmup_target=rate if warmup else None, warmup_steps=warmup)
    if train_config.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            rate, decay_steps=train_config.decay_steps, decay_rate=train_config.decay_rate)
    raise ValueError(f"Unknown schedule {train_config.schedule!r}; expected one of {SCHEDULES}.")


def build_optimizer(train_config):
    """Adam with the config's schedule, optional global-norm clipping and EMA of weights.

    `ema_decay` > 0 keeps a Polyak average of the weights in the optimizer (Keras'
    `use_ema`); the trainer swaps it in for evaluation, sampling and export. Under a
    float16 policy the optimizer is wrapped in a `LossScaleOptimizer`.
    """
    optimizer = keras.optimizers.Adam(
        learning_rate_schedule(train_config),
        beta_1=train_config.beta_1, beta_2=train_config.beta_2,
        global_clipnorm=train_config.grad_clip_norm or None,
        use_ema=train_config.ema_decay > 0,
        ema_momentum=train_config.ema_decay or 0.99)
    if keras.config.dtype_policy().name == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
