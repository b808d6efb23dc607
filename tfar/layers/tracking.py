"""Layers and variables that Keras 3 holds in lists, visible to `tf.train.Checkpoint`.

On the TensorFlow backend Keras 3 wraps list attributes in its own tracked lists, which
TensorFlow's object graph does not follow (keras-team/keras#18398): a
`tf.train.Checkpoint(network=net)` of a network whose layers sit in `self.blocks = [...]`
saves none of their weights, and restoring it reports no error. `ListsInCheckpoints` adds
each trackable held in a public list (or list of lists) attribute as a checkpoint child
named `<attribute>_<index>[_<index>…]`.
"""

import tensorflow as tf

_Trackable = tf.__internal__.tracking.Trackable


def _trackables_in(path, value):
    """(name, trackable) pairs of a possibly nested list/tuple, depth first."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _trackables_in(f"{path}_{i}", item)
    elif isinstance(value, _Trackable):
        yield path, value


class ListsInCheckpoints:
    """Mixin for a `keras.layers.Layer` / `keras.Model` (put it first in the bases)."""

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        children = super()._trackable_children(save_type, **kwargs)
        if save_type == "checkpoint":
            for name, value in list(vars(self).items()):
                if not name.startswith("_") and isinstance(value, (list, tuple)):
                    for path, item in _trackables_in(name, value):
                        children.setdefault(path, item)
        return children
