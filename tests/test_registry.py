"""`tfar.registry`: every model module registers its models; `build` maps the data's shape
to the constructor and rejects unknown fields with the keywords the class takes."""

import pytest

import tfar
from tfar import registry


def test_every_model_is_registered_by_its_module():
    assert {"fvsbn", "made", "nade", "pixelcnn", "gated_pixelcnn", "pixelrnn",
            "multiscale_pixelcnn", "multiscale_pixelrnn", "pixelvae", "pixelcnn_autoencoder",
            "rnade"} <= set(
        registry.names())
    assert registry.get("gated_pixelcnn") is tfar.GatedPixelCNN


def test_build_maps_the_data_to_each_constructor():
    image = registry.build("pixelcnn", (4, 5, 1), 2, seed=3, num_layers=1, num_filters=4)
    assert isinstance(image, tfar.PixelCNN) and image.event_shape == (4, 5, 1)
    flat = registry.build("made", (6,), 3, seed=3, hidden_units=(8,), ordering="random")
    assert isinstance(flat, tfar.MADE) and flat.num_values == 3
    twin = registry.build("made", (6,), 3, seed=3, hidden_units=(8,), ordering="random")
    assert (flat.orderings == twin.orderings).all()  # the run's seed reaches the masks
    real = registry.build("rnade", (6,), None, seed=3, hidden_units=4, num_mixtures=2,
                          ordering="random")   # real values: the data has no num_values
    assert isinstance(real, tfar.RNADE) and real.num_values is None
    assert (real.orderings == registry.build("rnade", (6,), None, seed=3, hidden_units=4,
                                             ordering="random").orderings).all()
    mog = registry.build("made", (6,), None, hidden_units=(8,), likelihood="gaussian")
    assert mog.likelihood.name == "gaussian" and not mog.support.integer


def test_errors_name_what_is_known():
    with pytest.raises(ValueError, match=r"Unknown model 'pixelcnnn'; expected one of \["):
        registry.build("pixelcnnn", (4, 4, 1), 2)
    with pytest.raises(ValueError, match=r"\['num_filterz'\] that PixelCNN does not take; "
                                         r"it takes \[.*'num_filters'"):
        registry.build("pixelcnn", (4, 4, 1), 2, num_filterz=3)
    with pytest.raises(ValueError, match="registered already"):
        registry.register("made")(tfar.NADE)
