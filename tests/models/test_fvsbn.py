"""FVSBN: normalization, causality (a full triangle), sampling."""

import numpy as np
import pytest

import checks
import tfar

OPTIONS = [
    ("l2r-vector-binary", dict(event_shape=(10,))),
    ("r2l-image-4values", dict(event_shape=(2, 2, 1), num_values=4, ordering="right_to_left")),
    ("random-order-conditional", dict(event_shape=(6,), ordering="random", seed=2,
                                      conditional_shape=(3,))),
    ("explicit-order-4values", dict(event_shape=(4,), num_values=4, ordering=[2, 0, 3, 1])),
]
IDS = [o[0] for o in OPTIONS]

@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=IDS)
def test_normalized(kwargs):
    d = tfar.FVSBN(**kwargs)
    checks.assert_normalized(d, checks.condition_for(d))


@pytest.mark.parametrize("kwargs", [o[1] for o in OPTIONS], ids=IDS)
def test_causal_from_construction(kwargs):
    d = tfar.FVSBN(**kwargs)
    jac = checks.network_jacobian(d)
    checks.assert_causal(jac, d.orderings, fully_connected=True)


def test_weights_form_a_triangle():
    d = tfar.FVSBN(event_shape=(5,))
    assert d.network.hidden_layers == []
    mask = d.network.output_layer.mask[0]
    np.testing.assert_array_equal(mask, np.triu(np.ones((5, 5)), k=1))


@pytest.mark.parametrize("kwargs", [OPTIONS[2][1], OPTIONS[3][1]], ids=["binary", "4values"])
def test_samples_match_log_prob(kwargs):
    d = tfar.FVSBN(**({**kwargs, "event_shape": (3,)} if kwargs.get("num_values", 2) == 2 else kwargs))
    c = checks.condition_for(d)
    checks.train_a_few_steps(d, conditional_input=c)
    checks.assert_samples_match(d, conditional_input=c)
    checks.assert_seeded(d, conditional_input=c)
