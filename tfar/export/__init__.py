"""SavedModel export for TF Serving.

    import tfar.export
    path = tfar.export.export(d, "models/mnist")   # writes models/mnist/<version>/

See `tfar.export.saved_model` for the signatures (log_prob, sample, complete).
"""

from tfar.export.saved_model import export, latest

__all__ = ["export", "latest"]
