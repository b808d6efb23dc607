"""The model registry: the names `config.model.name` takes, each declared by its module.

    @registry.register("made")
    class MADE(AutoregressiveDistribution): ...

    d = registry.build("made", event_shape=(28, 28, 1), num_values=2, seed=0,
                       hidden_units=(500,))

`build` calls the class's `from_data(event_shape, num_values, seed, **fields)`, which says
how the data's shape and values map to its constructor (`image_shape=` for image models,
`event_shape=` otherwise) and whether it takes the run's seed; every other field is a
constructor keyword. `tfar/training/builders.py` reads configs through it, so a new model
is one module that registers itself, with no edit to the trainer.
"""

import inspect

_MODELS = {}


def register(name):
    """Class decorator: makes the class buildable as `config.model.name = name`."""
    def decorator(cls):
        if _MODELS.get(name, cls) is not cls:
            raise ValueError(f"Model name {name!r} is registered already, by "
                             f"{_MODELS[name].__name__}.")
        if not callable(getattr(cls, "from_data", None)):
            raise TypeError(f"{cls.__name__} needs a classmethod from_data(event_shape, "
                            "num_values, seed, **fields) to be registered.")
        _MODELS[name] = cls
        return cls
    return decorator


def names():
    """The registered names, sorted."""
    return sorted(_MODELS)


def get(name):
    """The class registered as `name`, or a ValueError listing the names."""
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name!r}; expected one of {names()}.")
    return _MODELS[name]


def build(name, event_shape, num_values, seed=None, **fields):
    """The model `name` for data of `event_shape` and `num_values` values (None: real
    values), with the
    constructor keywords `fields`; a field the class does not take is a ValueError that
    lists those it takes."""
    cls = get(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(fields) - accepted)
    if unknown:
        data = {"image_shape", "event_shape", "num_values"}
        raise ValueError(f"config.model has keys {unknown} that {cls.__name__} does not take; "
                         f"it takes {sorted(accepted - data)}.")
    return cls.from_data(tuple(event_shape), None if num_values is None else int(num_values),
                         seed, **fields)
