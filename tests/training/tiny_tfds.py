"""A tiny TensorFlow Datasets dataset prepared on disk, so that tests read tfds's record
files as a real run does (mock data has no files, no split checks and no sharding).

`tfds:tiny_digits`: the first 400 of scikit-learn's 8×8 digits (17 levels) in 4 record
files per split, train 300 and test 100 images; each label is the image's index in its
split (`ClassLabel(num_classes=300)`), so a test can tell which example it was given.

`tfds:tiny_captions`: the same images without labels, each with a sequence of texts laid
out as coco_captions' (`captions/text`): CAPTIONS(split, i), the first naming the image's
index in its split, so a test can tell which example a caption came with.
"""

import numpy as np
import tensorflow_datasets as tfds

SOURCE = "tfds:tiny_digits"
CAPTIONS_SOURCE = "tfds:tiny_captions"
SIZES = {"train": 300, "test": 100}


class TinyDigits(tfds.core.GeneratorBasedBuilder):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(8, 8, 1)),
            "label": tfds.features.ClassLabel(num_classes=max(SIZES.values()))}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(0, SIZES["train"]),
                "test": self._generate_examples(SIZES["train"], sum(SIZES.values()))}

    def _generate_examples(self, begin, end):
        from sklearn.datasets import load_digits
        images = load_digits().images.astype(np.uint8)[..., None]
        for i in range(begin, end):
            yield i, {"image": images[i], "label": i - begin}


def captions(split, i):
    """The texts of example i of `split` in tiny_captions (example 0 of train has none:
    its caption is "")."""
    if split == "train" and i == 0:
        return []
    return [f"{split} example {i}", f"another caption of {split} {i}"]


class TinyCaptions(TinyDigits):
    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(8, 8, 1)),
            "captions": tfds.features.Sequence({"text": tfds.features.Text()})}))

    def _generate_examples(self, begin, end):
        from sklearn.datasets import load_digits
        images = load_digits().images.astype(np.uint8)[..., None]
        split = "train" if begin == 0 else "test"
        for i in range(begin, end):
            yield i, {"image": images[i],
                      "captions": {"text": captions(split, i - begin)}}


def prepare(data_dir):
    """Writes tiny_digits under `data_dir` (a few seconds); returns its source string.
    Other processes read it with `data_dir` alone, without this module."""
    TinyDigits(data_dir=str(data_dir)).download_and_prepare(
        download_config=tfds.download.DownloadConfig(num_shards=4))
    return SOURCE


def prepare_captions(data_dir):
    """Writes tiny_captions under `data_dir`; returns its source string."""
    TinyCaptions(data_dir=str(data_dir)).download_and_prepare(
        download_config=tfds.download.DownloadConfig(num_shards=4))
    return CAPTIONS_SOURCE
