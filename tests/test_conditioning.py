"""One conditioning abstraction (issue 18): class labels and captions through every path.

A caption-conditional model (PixelCNN, Gated PixelCNN with a vector or with maps, PixelRNN
with either cell) carries DESIGN's properties for each caption: normalized, causal,
samplers equal to the naive loop, samples following log_prob; different captions give
different distributions; the text encoder trains with the image model; the same caption
gives the same log_prob after a `.keras` round trip and a checkpoint round trip (which
restores the vocabulary); bad captions get clear errors or documented behaviour. Class
labels are the one-hot vector condition they stand for.
"""

import numpy as np
import pytest
import tensorflow as tf

import checks
import tfar
from tfar.conditioning import Caption, ClassLabel, SpatialMap, Vector, from_arguments, get
from tfar.layers import TextEncoder

SMALL = dict(num_layers=2, num_filters=4, first_kernel_size=3)
RNN = dict(num_layers=1, hidden_units=4, first_kernel_size=3)


def caption_models():
    """name: (constructor of a text encoder -> model, whether it has no blind spot)."""
    return {
        "GatedPixelCNN": (lambda enc: tfar.GatedPixelCNN(
            image_shape=(2, 2, 1), num_values=3, text_encoder=enc, **SMALL), True),
        "GatedPixelCNN_maps_rgb": (lambda enc: tfar.GatedPixelCNN(
            image_shape=(2, 2, 3), num_values=2, likelihood="bernoulli",
            conditioning=Caption(enc, map_shape=(1, 1, 3)), num_layers=2, num_filters=6,
            first_kernel_size=3), True),
        "GatedPixelCNN_shared_maps": (lambda enc: tfar.GatedPixelCNN(
            image_shape=(2, 2, 1), num_values=3,
            conditioning=Caption(enc, map_shape=(2, 2, 2), cells="shared"), **SMALL), True),
        "PixelCNN": (lambda enc: tfar.PixelCNN(
            image_shape=(2, 2, 1), num_values=3, text_encoder=enc, **SMALL), False),
        "PixelRNN_row_lstm": (lambda enc: tfar.PixelRNN(
            image_shape=(2, 2, 1), num_values=3, cell="row_lstm", text_encoder=enc, **RNN),
            False),
        "PixelRNN_diagonal_bilstm": (lambda enc: tfar.PixelRNN(
            image_shape=(2, 2, 1), num_values=3, text_encoder=enc, **RNN), True),
    }


def build(name, encoder=None):
    make, _ = caption_models()[name]
    d = make(encoder or checks.caption_encoder())
    checks.randomize_weights(d)
    return d


@pytest.mark.parametrize("name", sorted(caption_models()))
def test_normalized_causal_and_different_per_caption(name):
    d = build(name)
    no_blind_spot = caption_models()[name][1]
    x = checks.all_configurations(d)
    log_probs = []
    for caption in checks.CAPTIONS[:2]:
        checks.assert_normalized(d, conditional_input=caption)
        log_probs.append(d.log_prob(x, conditional_input=caption).numpy())
    assert np.max(np.abs(log_probs[0] - log_probs[1])) > 1e-2, "captions change nothing"
    checks.assert_image_causal(d, no_blind_spot=no_blind_spot)


@pytest.mark.parametrize("name", sorted(caption_models()))
def test_cached_samplers_equal_the_naive_loop(name):
    d = build(name)
    captions = checks.random_conditions(d, 5)
    if "cached" in d.sampling_methods:
        checks.assert_cached_equals_naive(d, num_samples=5, conditional_input=captions)
    checks.assert_seeded(d, conditional_input=captions[:2])


def test_samples_follow_log_prob_given_a_caption():
    d = build("GatedPixelCNN")
    checks.train_a_few_steps(d, steps=10, conditional_input=np.array(checks.CAPTIONS[:4] * 16))
    checks.assert_samples_match(d, num_samples=12000, conditional_input=checks.CAPTIONS[2])


def test_the_text_encoder_trains_with_the_image_model():
    d = build("GatedPixelCNN")
    encoder = d.network.condition_encoder.text_encoder
    x = checks.all_configurations(d)[:6]
    with tf.GradientTape() as tape:
        loss = d.training_loss(x, conditional_input=np.array(checks.CAPTIONS))
    gradients = dict(zip([v.path for v in d.network.trainable_variables],
                         tape.gradient(loss, d.trainable_variables)))
    for variable in encoder.trainable_variables:
        gradient = gradients[variable.path]
        assert gradient is not None and np.any(tf.convert_to_tensor(gradient).numpy()), \
            variable.path


def test_keras_file_and_checkpoint_keep_the_vocabulary(tmp_path):
    import keras
    d = build("GatedPixelCNN")
    x = checks.all_configurations(d)
    caption = checks.CAPTIONS[1]
    expected = d.log_prob(x, conditional_input=caption).numpy()

    path = str(tmp_path / "network.keras")
    d.network.save(path)
    loaded = keras.models.load_model(path)
    encoder = loaded.condition_encoder.text_encoder
    assert encoder.get_vocabulary() == d.network.condition_encoder.text_encoder.get_vocabulary()
    twin = tfar.GatedPixelCNN(image_shape=(2, 2, 1), num_values=3, text_encoder=encoder,
                              network=loaded, **SMALL)
    np.testing.assert_array_equal(twin.log_prob(x, conditional_input=caption), expected)

    # A checkpoint restores the vocabulary table too: into a twin adapted to other text.
    checkpoint = tf.train.Checkpoint(network=d.network).save(str(tmp_path / "ckpt"))
    other = checks.caption_encoder()
    other.adapt(["an entirely different vocabulary of words", "the digit"])
    fresh = caption_models()["GatedPixelCNN"][0](other)
    assert fresh.network.condition_encoder.text_encoder.get_vocabulary() != encoder.get_vocabulary()
    tf.train.Checkpoint(network=fresh.network).restore(checkpoint).assert_consumed()
    assert fresh.network.condition_encoder.text_encoder.get_vocabulary() == encoder.get_vocabulary()
    np.testing.assert_array_equal(fresh.log_prob(x, conditional_input=caption), expected)


def test_bad_captions_get_clear_errors_or_documented_behaviour():
    d = build("GatedPixelCNN", checks.caption_encoder(max_length=6))
    x = checks.all_configurations(d)[:2]
    for empty in ("", "  ,.!  "):
        with pytest.raises(tf.errors.InvalidArgumentError, match="no words"):
            d.log_prob(x, conditional_input=[empty, "the digit 3"])
        with pytest.raises(tf.errors.InvalidArgumentError, match="no words"):
            d.sample(1, seed=(1, 2), conditional_input=[empty])
    for not_text in (np.array([1.0, 2.0]), np.array([3, 4]), [3, "the digit"]):
        with pytest.raises(TypeError, match="caption strings"):
            d.log_prob(x, conditional_input=not_text)
    # Unknown words are the OOV token: two unknown words give the same distribution.
    np.testing.assert_array_equal(d.log_prob(x, conditional_input="the digit 3 is zorblax"),
                                  d.log_prob(x, conditional_input="the digit 3 is quux"))
    # Text past max_length tokens (6 here) is cut: only the first 6 words count.
    np.testing.assert_array_equal(
        d.log_prob(x, conditional_input="the digit 3 is at the top left of the canvas"),
        d.log_prob(x, conditional_input="the digit 3 is at the"))
    # A caption batch must divide the sample count (TFP's convention), never broadcast.
    with pytest.raises(tf.errors.InvalidArgumentError, match="conditional rows"):
        d.sample(4, seed=(1, 2), conditional_input=list(checks.CAPTIONS[:3]))
    assert d.sample(6, seed=(1, 2), conditional_input=list(checks.CAPTIONS[:3])).shape == (
        6, 2, 2, 1)
    with pytest.raises(ValueError, match="do not broadcast"):
        d.log_prob(checks.all_configurations(d)[:3], conditional_input=list(checks.CAPTIONS[:2]))
    with pytest.raises(ValueError, match="pass conditional_input"):
        d.log_prob(x)


# ------------------------------------------------------------------ the text encoder

def test_text_encoder_vocabulary_tokens_and_pooling():
    encoder = TextEncoder(max_tokens=6, embedding_dim=3, units=2, max_length=4)
    captions = ["The digit 3, at the top!", "the digit 7", "a digit"]
    encoder.adapt(captions)
    # The 4 most frequent tokens (ties in token order); ids from 2.
    assert encoder.get_vocabulary() == ["digit", "the", "3", "7"]
    for data in (np.array(captions), tf.data.Dataset.from_tensor_slices(captions).batch(2)):
        other = TextEncoder(max_tokens=6, embedding_dim=3, units=2, max_length=4)
        other.adapt(data)
        assert other.get_vocabulary() == encoder.get_vocabulary()
    ids = encoder.token_ids(tf.constant(["the digit 9 at the top left", "digit", ""]))
    np.testing.assert_array_equal(ids, [[3, 2, 1, 1], [2, 0, 0, 0], [0, 0, 0, 0]])
    assert encoder(tf.constant(captions)).shape == (3, 4)
    for options in (dict(pooling="attention"), dict(cell="gru"), dict(split="character")):
        variant = TextEncoder(max_tokens=40, embedding_dim=3, units=2, max_length=10, **options)
        variant.adapt(captions)
        out = variant(tf.constant(captions)).numpy()
        assert out.shape == (3, 4) and np.all(np.isfinite(out))
    characters = TextEncoder(max_tokens=40, max_length=5, split="character")
    assert characters.tokens(tf.constant(["ab  c"])).to_list() == [[b"a", b"b", b" ", b"c"]]
    with pytest.raises(ValueError, match="do not fit"):
        encoder.set_vocabulary(["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="split must be one of"):
        TextEncoder(split="bytes")
    with pytest.raises(ValueError, match="no tokens"):
        TextEncoder().adapt(["", " . "])


# ------------------------------------------------------------------ the abstraction

def test_constructor_arguments_map_to_one_conditioning():
    encoder = checks.caption_encoder()
    assert from_arguments(conditional_shape=(3,)) == Vector((3,))
    assert from_arguments(spatial_conditional_shape=(2, 2, 1)) == SpatialMap((2, 2, 1))
    assert isinstance(from_arguments(text_encoder=encoder), Caption)
    assert from_arguments(conditioning={"kind": "class_label", "num_classes": 4,
                                        "embedding_dim": None}) == ClassLabel(4)
    assert from_arguments() is None
    with pytest.raises(ValueError, match="at most one of"):
        from_arguments(conditional_shape=(3,), text_encoder=encoder)
    with pytest.raises(ValueError, match="conditioning must be"):
        get("caption")
    specs = {c.kind: c.spec() for c in (Vector((3,)), SpatialMap((2, 2, 1)), ClassLabel(4),
                                        Caption(encoder))}
    assert specs["vector"] == tf.TensorSpec([None, 3], tf.float32, name="conditional_input")
    assert specs["class_label"] == tf.TensorSpec([None], tf.int32, name="conditional_input")
    assert specs["caption"] == tf.TensorSpec([None], tf.string, name="caption")
    with pytest.raises(ValueError, match="takes a vector condition"):
        tfar.PixelCNN(image_shape=(2, 2, 1), num_values=2, conditioning=SpatialMap((1, 1, 2)),
                      **SMALL)


@pytest.mark.parametrize("family", ["MADE", "GatedPixelCNN"])
def test_class_labels_are_their_one_hot_vectors(family):
    """A `ClassLabel(4)` model equals the same network with a one-hot `Vector((4,))`
    condition fed one_hot(label): the label's only path is the one-hot."""
    options = (dict(event_shape=(4,), num_values=2, hidden_units=(6,)) if family == "MADE"
               else dict(image_shape=(2, 2, 1), num_values=2, **SMALL))
    d = getattr(tfar, family)(conditioning=ClassLabel(4), **options)
    vector = getattr(tfar, family)(conditional_shape=(4,), **options)
    checks.randomize_weights(d)
    vector.network.set_weights(d.network.get_weights())
    x = checks.all_configurations(d)
    for label in range(4):
        np.testing.assert_allclose(d.log_prob(x, conditional_input=label),
                                   vector.log_prob(x, conditional_input=tf.one_hot(label, 4)),
                                   atol=1e-6)
        checks.assert_normalized(d, conditional_input=label)
    labels = np.array([0, 3, 1], np.int32)
    np.testing.assert_array_equal(d.sample(3, seed=(1, 2), conditional_input=labels),
                                  vector.sample(3, seed=(1, 2),
                                                conditional_input=tf.one_hot(labels, 4)))
    with pytest.raises(TypeError, match="integer class labels"):
        d.log_prob(x[:1], conditional_input=np.float32(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"outside \[0, 4\)"):
        d.log_prob(x[:2], conditional_input=[1, 4])
    embedded = getattr(tfar, family)(conditioning=ClassLabel(4, embedding_dim=3), **options)
    checks.assert_normalized(embedded, conditional_input=2)


def test_caption_maps_with_separate_or_shared_cells():
    """`CaptionToMaps(cells="shared")`: every cell gets the same linear map of the summary,
    plus its own learned embedding; "separate" gives each cell its own weights."""
    import keras
    from tfar.layers import CaptionToMaps
    summary = tf.random.stateless_normal([3, 5], seed=(1, 2))
    shared = CaptionToMaps((2, 3, 4), cells="shared")
    maps = shared(summary)
    assert maps.shape == (3, 2, 3, 4)
    caption_term = maps - shared.position[None]
    np.testing.assert_allclose(caption_term, np.broadcast_to(caption_term[:, :1, :1], maps.shape),
                               atol=1e-6)
    assert np.std(shared.position.numpy()) > 0                       # cells differ
    assert shared.linear.kernel.shape == (5, 4)
    separate = CaptionToMaps((2, 3, 4))
    assert separate(summary).shape == (3, 2, 3, 4) and separate.linear.kernel.shape == (5, 24)
    twin = CaptionToMaps.from_config(shared.get_config())
    twin(summary)
    twin.set_weights(shared.get_weights())
    np.testing.assert_array_equal(twin(summary), maps)
    assert keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(shared)).cells == "shared"
    with pytest.raises(ValueError, match=r"cells must be one of \('separate', 'shared'\)"):
        CaptionToMaps((2, 2, 1), cells="tied")
    c = Caption(checks.caption_encoder(), map_shape=(2, 2, 1), cells="shared")
    assert get(c.get_config()).cells == "shared"
