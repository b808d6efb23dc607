"""tfar.data.captions: captioned digits whose captions are true of their pixels, held-out
(digit, position) combinations, determinism; captions of tfds sets with a text feature."""

import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfar import data
from tfar.data import captions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist")
SINGLE = re.compile(r"^the digit (\d) is at the (top left|top right|bottom left|bottom right)$")
PAIR = re.compile(r"^the digit (\d) is (above|below|left of|right of) the digit (\d)$")


def check_captions_match_pixels(source, split, **kwargs):
    """Every caption of `split`, read from its text alone, is true of the image: each named
    digit's cell holds, pixel for pixel, a digit image of that class from the digit split
    (the one `layouts` names), every other cell is blank, and a relation holds between the
    two cells' places on the canvas. Returns the split and its layout."""
    composed = data.read(source, split, **kwargs)
    layout = captions.layouts(source, split, **kwargs)
    digits = data.read(layout.digit_source, layout.digit_split)
    h, w = layout.digit_shape
    assert composed.shape == (2 * h, 2 * w, digits.shape[-1]) and composed.levels == digits.levels
    assert composed.has_captions and not composed.has_labels
    np.testing.assert_array_equal(composed.captions, layout.captions)
    for image, caption, cells, indices in zip(composed.images, composed.captions,
                                              layout.cells, layout.digit_indices):
        single, pair = SINGLE.match(caption), PAIR.match(caption)
        assert single or pair, caption
        named = [int(single[1])] if single else [int(pair[1]), int(pair[3])]
        if single:  # the cell the caption names, from its words
            assert cells[0] == captions.POSITIONS.index(single[2]) and cells[1] == -1
        drawn = np.zeros(image.shape, bool)
        for digit, cell, index in zip(named, cells, indices):
            rows, columns = captions.cell_slices(cell, (h, w))
            np.testing.assert_array_equal(image[rows, columns], digits.images[index])
            assert digits.labels[index] == digit
            drawn[rows, columns] = True
        assert not image[~drawn].any()  # nothing outside the named digits' cells
        if pair:  # the relation, from the cells' pixel offsets
            (top, left), (other_top, other_left) = (
                (captions.cell_slices(c, (h, w))[0].start, captions.cell_slices(c, (h, w))[1].start)
                for c in cells)
            expected = {"above": top < other_top and left == other_left,
                        "below": top > other_top and left == other_left,
                        "left of": left < other_left and top == other_top,
                        "right of": left > other_left and top == other_top}
            assert expected[pair[2]], (caption, cells)
    return composed, layout


def test_captions_match_the_pixels_of_the_embedded_digits():
    for split in ("train[:5000]", "test"):
        composed, layout = check_captions_match_pixels("captioned_digits", split)
        assert composed.shape == (16, 16, 1) and composed.levels == 17
        assert layout.digit_source == "digits" and layout.digit_split == split[:5]
        assert 0.45 < np.mean(layout.num_digits == 2) < 0.55
    assert data.read("captioned_digits", "train").size == captions.SIZES["train"] == 50_000
    assert data.read("captioned_digits", "test").size == captions.SIZES["test"] == 10_000
    assert data.source_levels("captioned_digits") == 17


def test_any_labelled_digit_source(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x_train=rng.integers(1, 256, (30, 3, 5), np.uint8),
             y_train=np.arange(30) % 10, x_test=rng.integers(1, 256, (20, 3, 5), np.uint8),
             y_test=np.arange(20) % 10)
    source = f"captioned_digits:npz:{tmp_path / 'd.npz'}"
    composed, layout = check_captions_match_pixels(source, "test[:2000]")
    assert composed.shape == (6, 10, 1) and composed.levels == 256
    assert layout.digit_source == f"npz:{tmp_path / 'd.npz'}" and layout.digit_split == "test"


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="the MNIST test set is not beside the project")
def test_mnist_digits_on_a_56_by_56_canvas():
    """../shared/data/mnist holds only the t10k files: train is composed from its first
    8,000 digits, test from its last 2,000, so no test image reuses a training digit."""
    source = f"captioned_digits:idx:{MNIST}"
    train, train_layout = check_captions_match_pixels(source, "train[:1000]")
    test, test_layout = check_captions_match_pixels(source, "test[:1000]")
    assert train.shape == (56, 56, 1) and train.levels == 256
    assert (train_layout.digit_split, test_layout.digit_split) == ("test[:8000]", "test[8000:]")
    full_train = captions.layouts(source, "train")
    assert full_train.digit_indices.max() < 8000 and test_layout.digit_indices.max() < 2000


def test_held_out_combinations_never_in_train_and_flagged_in_test():
    held = set(captions.HELD_OUT)
    assert len(held) == 10 and held == {(d, captions.POSITIONS[d % 4]) for d in range(10)}

    def combinations(layout):
        """[(digit, position name, held_out flag of its image)] of every digit shown."""
        return [(int(d), captions.POSITIONS[c], flag)
                for digits, cells, flag in zip(layout.digits, layout.cells, layout.held_out)
                for d, c in zip(digits, cells) if d >= 0]

    train = captions.layouts("captioned_digits", "train")
    seen = {(d, p) for d, p, _ in combinations(train)}
    assert not seen & held and len(seen) == 30  # every other pair is trained on
    assert not train.held_out.any()
    assert not any(f"the digit {d} is at the {p}" in train.captions for d, p in held)

    test = captions.layouts("captioned_digits", "test")
    shown = combinations(test)
    assert {(d, p) for d, p, _ in shown} == held | seen  # all forty
    for (d, p, flag) in shown:  # an image with a held-out pair is flagged
        assert flag or (d, p) not in held
    flagged = np.array([any((int(d), captions.POSITIONS[c]) in held
                            for d, c in zip(digits, cells) if d >= 0)
                        for digits, cells in zip(test.digits, test.cells)])
    np.testing.assert_array_equal(test.held_out, flagged)
    one, two = test.num_digits == 1, test.num_digits == 2
    print(f"test images with a held-out combination: {test.held_out[one].mean():.3f} of one-digit "
          f"images, {test.held_out[two].mean():.3f} of two-digit images")
    assert 0.2 < test.held_out[one].mean() < 0.3 and 0.39 < test.held_out[two].mean() < 0.49
    relations = {PAIR.match(c)[2] for c in test.captions[two]}
    assert relations == set(captions.RELATIONS)


def digest(split):
    return hashlib.sha256(split.images.tobytes() + "\n".join(split.captions).encode()).hexdigest()


def test_deterministic_given_the_seed_in_a_fresh_process_too():
    first = data.read("captioned_digits", "test", compose_seed=3)
    again = data.read("captioned_digits", "test", compose_seed=3)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.captions, again.captions)
    other = data.read("captioned_digits", "test", compose_seed=4)
    assert not np.array_equal(first.images, other.images)
    assert np.mean(first.captions != other.captions) > 0.9
    part = data.read("captioned_digits", "test[100:200]", compose_seed=3)
    np.testing.assert_array_equal(part.images, first.images[100:200])
    # Image i's draws are stateless_uniform([4], fold_in((seed, crc32(...)), i)), whatever
    # the split's size: the first rows of a shorter draw are the longer draw's.
    np.testing.assert_array_equal(captions._draws(3, "test", 50),
                                  captions._draws(3, "test", 10_000)[:50])
    code = ("from tfar import data; import hashlib; s = data.read('captioned_digits', 'test', "
            "compose_seed=3); print(hashlib.sha256(s.images.tobytes() + "
            "'\\n'.join(s.captions).encode()).hexdigest())")
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    fresh = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           check=True).stdout.split()[-1]
    assert fresh == digest(first)


def test_load_yields_captions():
    pairs = list(data.load("captioned_digits", "test[:5]", with_captions=True, binarize="fixed"))
    layout = captions.layouts("captioned_digits", "test[:5]")
    assert [c.numpy().decode() for _, c in pairs] == list(layout.captions)
    assert pairs[0][0].shape == (16, 16, 1) and set(np.unique(pairs[0][0])) <= {0.0, 1.0}


def test_captions_and_relations_helpers():
    assert captions.caption_for(3, 0) == "the digit 3 is at the top left"
    assert captions.caption_for(3, 0, 7, 2) == "the digit 3 is above the digit 7"
    assert captions.caption_for(3, 3, 7, 2) == "the digit 3 is right of the digit 7"
    assert [captions.relation(a, b) for a, b in captions.CELL_PAIRS] == [
        "above", "below", "above", "below", "left of", "right of", "left of", "right of"]
    with pytest.raises(ValueError, match="share no row or column"):
        captions.relation(0, 3)


def test_clear_errors(tmp_path):
    for digits in ("mnist", "captioned_digits", "captioned_digits:digits"):
        with pytest.raises(ValueError, match=f"unknown digit source '{digits}'; expected one of"):
            data.read(f"captioned_digits:{digits}")
    with pytest.raises(ValueError, match="Unknown dataset source 'captioned_digitz'"):
        data.read("captioned_digitz")
    with pytest.raises(ValueError, match=r"captioned_digits has splits \['test', 'train'\]"):
        data.read("captioned_digits", "validation")
    with pytest.raises(FileNotFoundError, match="has no test images"):  # nor train images
        data.read(f"captioned_digits:idx:{tmp_path}")
    np.savez(tmp_path / "unlabelled.npz", x_train=np.ones((4, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="has no labels; captioned_digits needs"):
        data.read(f"captioned_digits:npz:{tmp_path / 'unlabelled.npz'}")
    np.savez(tmp_path / "letters.npz", x_train=np.ones((4, 2, 2), np.uint8),
             y_train=np.arange(8, 12))
    with pytest.raises(ValueError, match=r"has labels 8…11; captioned_digits needs digit"):
        data.read(f"captioned_digits:npz:{tmp_path / 'letters.npz'}")
    with pytest.raises(ValueError, match="digits test has no captions; a caption-conditional"):
        data.load("digits", "test", with_captions=True)
    with pytest.raises(ValueError, match="pass one of them"):
        data.load("captioned_digits", "test", with_labels=True, with_captions=True)
    with pytest.raises(ValueError, match="caption_feature applies to tfds"):
        data.read("captioned_digits", caption_feature="text")


def test_tfds_text_feature_with_mock_data():
    """coco_captions (mock data: random images of varying sizes, 1 or more random captions
    each) loads through the same path: the first text of captions/text per image."""
    with tfds.testing.mock_data(num_examples=5, policy=tfds.testing.MockPolicy.USE_CODE):
        split = data.read("tfds:coco_captions", "train")
        assert split.has_captions and split.stream is not None  # images of varying sizes
        firsts = [e["captions"]["text"].numpy()[:1] for e in
                  tfds.builder("coco_captions").as_dataset(split="train")]
        pairs = list(data.load("tfds:coco_captions", "train", with_captions=True,
                               image_size=(8, 8), caption_feature="captions/text"))
        with pytest.raises(ValueError, match=r"no text feature 'objects/label'.*'captions/text'"):
            data.read("tfds:coco_captions", "train", caption_feature="objects/label")
        assert not data.read("tfds:mnist", "train").has_captions
        with pytest.raises(ValueError, match="mnist train has no captions"):
            data.load("tfds:mnist", "train", with_captions=True)
    # (caption_texts, which skips decoding the images, is tested on real files in
    # tests/training/test_input_pipeline.py: the mock's random Sequence lengths fail there.)
    assert [c.numpy() for _, c in pairs] == [f[0] if len(f) else b"" for f in firsts]
    assert all(x.shape == (8, 8, 3) for x, _ in pairs)
