"""Every configs/*.py loads, names a real model and builds it on its dataset's shape."""

import glob
import importlib
import os

import pytest

from tfar import registry
from tfar.training import builders

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(os.path.splitext(os.path.basename(p))[0]
                 for p in glob.glob(os.path.join(ROOT, "configs", "*.py")))
SHAPES = {"digits": ((8, 8, 1), 17), "tfds:mnist": ((28, 28, 1), 256),
          "tfds:binarized_mnist": ((28, 28, 1), 2), "tfds:cifar10": ((32, 32, 3), 256),
          "tfds:imagenet_resized/32x32": ((32, 32, 3), 256),
          "captioned_digits": ((16, 16, 1), 17), "tfds:coco_captions": ((64, 64, 3), 256),
          "tfds:celeb_a_hq/256": ((256, 256, 3), 256), "idx:../shared/data/mnist": ((28, 28, 1), 256),
          "sklearn:wine": ((13,), None), "sklearn:breast_cancer": ((30,), None),
          "sklearn:diabetes": ((9,), None), "sklearn:california_housing": ((8,), None),
          "photos:16": ((16, 16, 3), 256)}


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds_its_model(name):
    config = importlib.import_module(f"configs.{name}").get_config()
    shape, levels = SHAPES[config.data.source]
    if config.data.get("pad_to"):
        shape = tuple(config.data.pad_to) + shape[2:]
    num_values = config.data.num_values or (2 if config.data.binarize else levels)
    if config.data.dequantize:
        num_values = None
    num_classes = config.data.num_classes if config.model.conditioning == "class" else None
    captions = (["the digit 3 is at the top left"] if config.model.conditioning == "caption"
                else None)
    distribution = builders.build_distribution(config.model, shape, num_values, num_classes,
                                               seed=config.train.seed, captions=captions)
    assert distribution.event_shape.as_list() == list(shape)
    assert config.train.steps > 0 and config.train.batch_size > 0
    builders.learning_rate_schedule(config.train)  # a known schedule
    assert config.model.name in registry.names()


def test_every_config_is_tested():
    assert {"default", "made_mnist", "nade_mnist", "fvsbn_mnist"} <= set(CONFIGS)
