"""tfar: autoregressive generative models as Keras 3 layers and TFP distributions.

Every model is a `tfp.distributions.Distribution` over integer-valued vectors or images
(RNADE, and MADE with a continuous head, over real-valued vectors):

    import tfar
    d = tfar.MADE(event_shape=(28, 28, 1), num_values=2, hidden_units=(500,))
    lp = d.log_prob(x)                    # [batch] nats
    s = d.sample(16, seed=(1, 2))         # [16, 28, 28, 1]
"""

import importlib

from tfar import _startup

with _startup.quiet():  # a command's start-up: TensorFlow's banners left out of stderr
    from tfar import _backend  # noqa: F401  (sets KERAS_BACKEND first)
    from tfar import conditioning, layers, metrics, random, sampling
    from tfar.autoregressive import AutoregressiveDistribution
    from tfar.models.fvsbn import FVSBN
    from tfar.models.gated_pixelcnn import GatedPixelCNN
    from tfar.models.gmmn import GMMN
    from tfar.models.made import MADE
    from tfar.models.multiscale import MultiscalePixelCNN
    from tfar.models.multiscale_pixelrnn import MultiscalePixelRNN
    from tfar.models.nade import NADE
    from tfar.models.pixelcnn import PixelCNN
    from tfar.models.pixelcnn_autoencoder import PixelCNNAutoEncoder
    from tfar.models.pixelcnnpp import PixelCNNPlusPlus
    from tfar.models.pixelrnn import PixelRNN
    from tfar.models.pixelvae import PixelVAE
    from tfar.models.rnade import RNADE

# Imported on first use (`tfar.data.load(...)` after `import tfar`): tensorflow-datasets and
# the export code are not needed to build or sample a model.
_LAZY_MODULES = ("data", "export", "training")


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"tfar.{name}")
    raise AttributeError(f"module 'tfar' has no attribute {name!r}")


__all__ = ["AutoregressiveDistribution", "conditioning", "data", "export", "layers", "metrics",
           "random", "sampling", "training", "FVSBN", "GMMN", "GatedPixelCNN", "MADE",
           "MultiscalePixelCNN", "MultiscalePixelRNN", "NADE", "PixelCNN", "PixelCNNAutoEncoder",
           "PixelCNNPlusPlus", "PixelRNN", "PixelVAE", "RNADE"]
__version__ = "0.1.0"
