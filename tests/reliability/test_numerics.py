"""Numerical safety (issue 10): finite log-probs, losses and gradients at extreme valid
inputs, for every model and head, in float32 and under mixed_float16 / mixed_bfloat16.

For each model × dtype policy (the policy set before the model is built, float32 restored
after), with every weight setting below, at the extreme valid inputs — all 0, all
num_values − 1, alternating 0 / num_values − 1 (and, for the logistic mixture, the bins next
to the edges):

- `log_prob` is finite and ≤ 0 (these are discrete models);
- `training_loss` is finite, and so is its gradient w.r.t. every one of
  `d.trainable_variables`;
- the default sampler runs and returns integers in [0, num_values);
- every head call (log_prob and sample, the cached samplers' included) gets float32
  params: the heads compute in float32 whatever the policy.

Weight settings:

- "random": every variable N(0, 0.5²), biases included;
- "saturated": then the bias b of the layer that emits the params -> 100·b + 100·sign(b):
  logits of ~10² (σ and softmax saturate in every dtype; the test asserts |params| ≥ 30
  was reached). The bias, not the kernel: a kernel ×100 also multiplies the gradients
  flowing back into the network body by ~100, past float16's range (65504). Likewise, for
  the logistic mixture under mixed_float16 only the mixture logits and the coupling are
  saturated: means ~10² with tiny scales give a true gradient of ~|μ|/s ≈ 10⁴ per pixel,
  which float16 backprop cannot carry. Both are overflows of float16 backprop that
  training's LossScaleOptimizer detects and skips, not properties of the heads;
  The heads of real values are left out under mixed_float16 (float32 and
  mixed_bfloat16 run): far tails or scales at their floor give true gradients of
  ~|x − μ|/σ² (10⁶ at x − μ = 10³, σ = 1e-3) flowing into float16 layers, the same
  overflow of float16 backprop;
- PixelCNN++ with the logistic mixture is left out under mixed_float16: with every
  weight N(0, 0.5²) its U-Net (residual adds, concatenated ELUs doubling each block's
  input, skip concatenations) already gives mixture parameters of ~3·10² and a loss of
  ~3·10⁵ nats at zero images (measured), whose gradients overflow float16 backprop, the
  overflow of "all×30" below at ordinary random weights (float32 and mixed_bfloat16 run;
  its categorical one-channel case runs under every policy). Weight normalization is the
  paper's remedy, and the weight-normalized model runs under every policy: its kernels
  g·v/‖v‖ have norms |g| ~ 0.5 whatever v, so its activations stay O(1);
- "all×30": every variable ×30 (float32 and mixed_bfloat16 only: activations grow like
  30^depth, past float16's 65504 — the network body itself overflows there, which no head
  can undo; mixed_float16 training guards its gradients with a LossScaleOptimizer);
- logistic mixture only: the params layer's kernel zeroed and its bias set so every pixel
  gets the same extreme mixture — means at the edges (±1) or far beyond (+3), log-scales
  tiny (−50, clamped to −7) or huge (+30, +1000), coupling coefficients saturated (tanh(±50)),
  mixture logits ±100.

PixelVAE and the PixelCNN auto-encoder (`test_latent_models_finite_at_extreme_inputs`)
get the same settings on their decoder and the same checks on their estimates (IWAE,
ELBO, reconstruction), training terms and samples. `test_params_are_computed_in_float32`
checks that, under a mixed policy, the layers that emit head parameters (and the latent
models' posterior and code) compute in float32: with their kernel zeroed, the params
equal their float32 bias exactly, which float16 or bfloat16 would have rounded.

The module prints one summary line (models × dtypes, inputs tried, all finite or not).
"""

import numpy as np
import pytest
import tensorflow as tf

import keras

import tfar
from tfar.layers.weight_norm import WeightNormConv2D

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")

SMALL_IMAGE = dict(num_layers=1, num_filters=3, first_kernel_size=3, kernel_size=3)
SMALL_GATED = dict(num_layers=2, num_filters=3, first_kernel_size=3, kernel_size=3)
SMALL_RNN = dict(num_layers=1, hidden_units=3, first_kernel_size=3)
SMALL_MULTISCALE = dict(base_size=2, base_layers=1, base_filters=3, base_kernel_size=3,
                        upscale_blocks=1, upscale_filters=3)
SMALL_MULTISCALE_RNN = dict(base_size=2, base_layers=1, base_hidden_units=3, num_layers=1,
                            hidden_units=3, first_kernel_size=3, context_layers=1,
                            context_filters=3)


def _image_models():
    models = []
    for family, options in (("PixelCNN", SMALL_IMAGE), ("GatedPixelCNN", SMALL_GATED),
                            ("PixelRNN", dict(SMALL_RNN, cell="row_lstm")),
                            ("PixelRNN", dict(SMALL_RNN, cell="diagonal_bilstm"))):
        if family == "PixelRNN":
            family_id = f"PixelRNN-{options['cell']}"
        else:
            family_id = family
        for channels in (1, 3):
            for head, num_values in (("bernoulli", 2), ("categorical", 256),
                                     ("logistic_mixture", 256)):
                extra = dict(num_mixtures=2) if head == "logistic_mixture" else {}
                models.append((f"{family_id}-{head}-C{channels}", family,
                               dict(image_shape=(3, 3, channels), num_values=num_values,
                                    likelihood=head, **options, **extra)))
    for channels in (1, 3):   # the base 2×2 doubled once
        for head, num_values in (("bernoulli", 2), ("categorical", 256),
                                 ("logistic_mixture", 256)):
            extra = dict(num_mixtures=2) if head == "logistic_mixture" else {}
            models.append((f"MultiscalePixelCNN-{head}-C{channels}", "MultiscalePixelCNN",
                           dict(image_shape=(4, 4, channels), num_values=num_values,
                                likelihood=head, **SMALL_MULTISCALE, **extra)))
            models.append((f"MultiscalePixelRNN-{head}-C{channels}", "MultiscalePixelRNN",
                           dict(image_shape=(4, 4, channels), num_values=num_values,
                                likelihood=head, **SMALL_MULTISCALE_RNN, **extra)))
    for channels, head in ((1, "categorical"), (3, "logistic_mixture")):
        extra = dict(num_mixtures=2) if head == "logistic_mixture" else {}
        models.append((f"PixelCNNPlusPlus-{head}-C{channels}", "PixelCNNPlusPlus",
                       dict(image_shape=(4, 4, channels), num_values=256, likelihood=head,
                            num_resnet=1, num_hierarchies=2, num_filters=4, dropout=0.0,
                            weight_norm=False, **extra)))
    models.append(("PixelCNNPlusPlus-weight_norm-logistic_mixture-C3", "PixelCNNPlusPlus",
                   dict(image_shape=(4, 4, 3), num_values=256, num_resnet=1,
                        num_hierarchies=2, num_filters=4, dropout=0.0, num_mixtures=2,
                        weight_norm=True)))
    return models


MODELS = [
    ("FVSBN-bernoulli", "FVSBN", dict(event_shape=(4,), num_values=2)),
    ("FVSBN-categorical", "FVSBN", dict(event_shape=(2, 2, 1), num_values=5)),
    ("NADE-bernoulli", "NADE", dict(event_shape=(4,), num_values=2, hidden_units=6)),
    ("NADE-categorical-agnostic-ensemble", "NADE",
     dict(event_shape=(4,), num_values=5, hidden_units=6, ordering="random",
          num_orderings=2, order_agnostic=True, seed=1)),
    ("MADE-bernoulli", "MADE", dict(event_shape=(4,), num_values=2, hidden_units=(6, 6),
                                    direct_connections=True)),
    ("MADE-categorical", "MADE", dict(event_shape=(4,), num_values=5, hidden_units=(6,))),
    ("MADE-bernoulli-ensemble", "MADE",
     dict(event_shape=(4,), num_values=2, hidden_units=(6,), ordering="random",
          hidden_degrees="random", num_masks=3, seed=1)),
    # real values (densities): inputs far in the tails, all equal, zeros
    ("RNADE-mixture_of_gaussians", "RNADE", dict(event_shape=(4,), hidden_units=6,
                                                 num_mixtures=2)),
    ("RNADE-gaussian-agnostic-ensemble", "RNADE",
     dict(event_shape=(4,), hidden_units=6, likelihood="gaussian", ordering="random",
          num_orderings=2, order_agnostic=True, seed=1)),
    ("MADE-mixture_of_gaussians", "MADE", dict(event_shape=(4,), hidden_units=(6, 6),
                                               likelihood="mixture_of_gaussians",
                                               num_mixtures=2, direct_connections=True)),
    ("MADE-gaussian", "MADE", dict(event_shape=(4,), hidden_units=(6,), likelihood="gaussian")),
] + _image_models()

CONTINUOUS = ("mixture_of_gaussians", "gaussian")

# Tallies over the module: cases (model × dtype), inputs tried, inputs all-finite.
TALLY = {"cases": 0, "inputs": 0, "finite": 0, "failures": []}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    if not TALLY["cases"]:
        return
    verdict = ("all finite" if TALLY["finite"] == TALLY["inputs"] else
               f"{TALLY['inputs'] - TALLY['finite']} NOT finite")
    line = (f"numerics: {TALLY['cases']} model×dtype cases, {TALLY['inputs']} inputs, "
            f"{TALLY['finite']} finite ({verdict})")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


@pytest.fixture
def policy(request):
    """Sets the global dtype policy for the model's construction; float32 afterwards."""
    keras.mixed_precision.set_global_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _params_layers(d):
    """[(kernels, bias)] of every layer that emits d's head parameters: with its kernels
    zeroed, each of its params is its bias."""
    network = d.network
    if isinstance(d, tfar.NADE):
        return [([network.v], network.b)]
    if isinstance(d, tfar.MultiscalePixelCNN):  # the base's output layer, each group's head
        heads = [up.head for up in network.upscalers]
        return [([network.base.output_layer.kernel], network.base.output_layer.bias)] + [
            ([head.features.kernel] + ([head.channels.kernel] if head.channels else []),
             head.features.bias) for head in heads]
    if isinstance(d, tfar.MultiscalePixelRNN):  # both PixelRNNs' output layers
        return [([net.output_layer.kernel], net.output_layer.bias)
                for net in (network.base, network.conditional)]
    # A weight-normalized kernel g·v/‖v‖ is zero with its g.
    output = network.output_layer
    kernels = [output.g if isinstance(output, WeightNormConv2D) else output.kernel]
    if getattr(network, "direct_layer", None) is not None:
        kernels.append(network.direct_layer.kernel)
    return [(kernels, network.output_layer.bias)]


def _record_head_dtypes(d):
    """Wraps the head's log_prob and sample to record the dtype of the params they get."""
    head, seen = d.likelihood, set()

    def recording(method):
        def wrapped(params, *args, **kwargs):
            seen.add(tf.convert_to_tensor(params).dtype.name)
            return method(params, *args, **kwargs)
        return wrapped

    head.log_prob = recording(head.log_prob)
    head.sample = recording(head.sample)
    return seen


def _inputs(d):
    shape = [2] + d.event_shape.as_list()
    parity = np.indices(shape)[1:].sum(0) % 2
    if not d.support.integer:   # real values; alternating: far tails, ±1000
        far = 1e3
        return {"zeros": np.zeros(shape, np.float32),
                "all-equal": np.full(shape, 3.0, np.float32),
                "alternating": np.where(parity == 1, far, -far).astype(np.float32)}
    top = d.num_values - 1
    inputs = {"zeros": np.zeros(shape, np.float32),
              "max": np.full(shape, top, np.float32),
              "alternating": np.where(parity == 1, top, 0).astype(np.float32)}
    if d.likelihood.name == "logistic_mixture":
        inputs["next-to-edges"] = np.where(parity == 1, top - 1, 1).astype(np.float32)
    return inputs


def _mixture_settings(head):
    """(name, bias of the params layer) for the logistic-mixture edge cases: means at the
    edges and beyond, log-scales tiny (clamped to −7) and huge, component 0 dominant
    (logits ±100), coupling saturated (tanh(±50), opposite signs in the two components)."""
    k, c = head.num_mixtures, head.num_channels
    settings = []
    for mean, log_scale in ((-1.0, -50.0), (1.0, -50.0), (3.0, -50.0), (-1.0, 30.0),
                            (1.0, 1000.0)):
        logits = np.where(np.arange(k) == 0, 100.0, -100.0)
        coeffs = np.tile(np.where(np.arange(k) % 2 == 0, 50.0, -50.0), 3)
        bias = np.concatenate([logits, np.full(c * k, mean), np.full(c * k, log_scale),
                               coeffs if head.coupled else []]).astype(np.float32)
        settings.append((f"mixture(mean={mean:g}, log_scale={log_scale:g})", bias))
    return settings


def _saturate(d, policy):
    """The params layer's bias b -> 100·b + 100·sign(b): every param |·| ≥ ~100 unless
    the kernel pulls it back. For the logistic mixture under mixed_float16 only the
    mixture logits and the coupling are saturated (see the module docstring)."""
    for _, bias in _params_layers(d):
        value = bias.numpy()
        scale = np.ones_like(value)
        head = d.likelihood
        if head.name == "logistic_mixture" and policy == "mixed_float16":
            k, c = head.num_mixtures, head.num_channels
            index = np.arange(value.size) % head.params_size
            scale = ((index < k) | (index >= k + 2 * c * k)).astype(np.float32)
        bias.assign(value + scale * (99.0 * value + 100.0 * np.sign(value)))


def _check(d, weights, x_name, x, seen, failures):
    """Runs log_prob, training_loss and its gradient on x; returns True if all finite."""
    label = f"{weights}/{x_name}"
    problems = []
    log_prob = d.log_prob(x).numpy()
    if log_prob.dtype != np.float32:
        problems.append(f"log_prob dtype {log_prob.dtype}")
    if not np.all(np.isfinite(log_prob)):
        problems.append(f"log_prob {log_prob}")
    elif d.support.integer and np.any(log_prob > 1e-6):   # a density may exceed 1
        problems.append(f"log_prob > 0: {log_prob}")
    with tf.GradientTape() as tape:
        loss = d.training_loss(x, seed=(1, 2))
    if not np.isfinite(loss.numpy()):
        problems.append(f"training_loss {loss.numpy()}")
    grads = tape.gradient(loss, d.trainable_variables)
    bad = [v.name for v, g in zip(d.network.trainable_variables, grads)
           if g is None or not np.all(np.isfinite(g.numpy()))]
    if bad:
        problems.append(f"non-finite or missing gradients of {bad}")
    if problems:
        failures.append(f"{label}: " + "; ".join(problems))
    return not problems


def _check_samples(d, weights, failures):
    samples = d.sample(2, seed=(3, 4)).numpy()
    ok = (samples.shape == (2,) + tuple(d.event_shape.as_list())
          and np.all(np.isfinite(samples)))
    ok = ok and (not d.support.integer or np.all(samples >= 0)
          and np.all(samples <= d.num_values - 1) and np.all(samples == np.round(samples)))
    if not ok:
        failures.append(f"{weights}/sample out of range: {np.unique(samples)}")


def _built(family, options, policy):
    """The model built under `policy` (float32 restored after), a record of the dtypes
    its head receives, and its weights randomized N(0, 0.5²)."""
    d = getattr(tfar, family)(**options)
    keras.mixed_precision.set_global_policy("float32")   # built; the policy stays in its layers
    assert d.network.compute_dtype == keras.mixed_precision.Policy(policy).compute_dtype
    seen = _record_head_dtypes(d)
    rng = np.random.default_rng(0)
    for variable in d.network.variables:
        variable.assign(rng.normal(scale=0.5, size=variable.shape).astype(np.float32))
    return d, seen


def _settings(d, params_owner, policy):
    """The weight settings every model gets: random, params layer (of `params_owner`)
    saturated, and every weight ×30 (not under mixed_float16)."""
    settings = [("random", lambda: None), ("saturated", lambda: _saturate(params_owner, policy))]
    if policy != "mixed_float16":
        def scale_all():
            for variable in d.network.variables:
                variable.assign(variable * 30.0)
        settings.append(("all×30", scale_all))
    return settings


def _record(family, policy, tried, finite, failures, seen):
    TALLY["cases"] += 1
    TALLY["inputs"] += tried
    TALLY["finite"] += finite
    TALLY["failures"] += [f"{family} {policy} {f}" for f in failures]
    assert seen == {"float32"}, f"the head got params of dtypes {seen}"
    assert not failures, "\n".join(failures)


def _tiered(models):
    """pytest params of `models`: the multiscale models' 1-channel cases, the Multi-Scale
    PixelRNN's mixture and PixelCNN++'s mixture without weight normalization (its
    default has it) run in the slow tier (their other cases stay in the default one, and
    the mixture in every other family)."""
    def slow(name):
        return name == "PixelCNNPlusPlus-logistic_mixture-C3" or name.startswith(
            "Multiscale") and (name.endswith("-C1")
                               or name == "MultiscalePixelRNN-logistic_mixture-C3")

    return [pytest.param(*m[1:], id=m[0], marks=pytest.mark.slow) if slow(m[0])
            else pytest.param(*m[1:], id=m[0]) for m in models]


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("family, options", _tiered(MODELS))
def test_finite_at_extreme_inputs(family, options, policy):
    if policy == "mixed_float16" and (family == "RNADE"
                                      or options.get("likelihood") in CONTINUOUS):
        pytest.skip("real values under mixed_float16: see the module docstring")
    if policy == "mixed_float16" and family == "PixelCNNPlusPlus" and (
            options.get("likelihood") == "logistic_mixture"
            and not options.get("weight_norm")):
        pytest.skip("PixelCNN++'s mixture under mixed_float16: see the module docstring")
    d, seen = _built(family, options, policy)
    random_weights = [v.numpy() for v in d.network.variables]
    settings = _settings(d, d, policy)
    if d.likelihood.name == "logistic_mixture":
        for name, bias in _mixture_settings(d.likelihood):
            def edge(bias=bias):
                for kernels, layer_bias in _params_layers(d):
                    for kernel in kernels:
                        kernel.assign(tf.zeros_like(kernel))
                    layer_bias.assign(np.tile(bias, layer_bias.shape[0] // bias.size))
            settings.append((name, edge))

    failures, tried, finite = [], 0, 0
    for weights, apply in settings:
        for variable, value in zip(d.network.variables, random_weights):
            variable.assign(value)
        apply()
        if weights == "saturated":
            flat = tf.reshape(tf.constant(_inputs(d)["alternating"]), [2, -1])
            largest = float(tf.reduce_max(tf.abs(d._component_params(flat, None))))
            assert largest >= 30.0, f"saturation not reached: max |params| = {largest}"
        for x_name, x in _inputs(d).items():
            tried += 1
            finite += _check(d, weights, x_name, x, seen, failures)
        _check_samples(d, weights, failures)
    _record(family, policy, tried, finite, failures, seen)


# ------------------------------------------------------------------ latent-variable models

LATENT_MODELS = [
    ("PixelVAE-1-level", "PixelVAE",
     dict(image_shape=(3, 3, 1), num_values=2, latent_dim=2, num_layers=1, num_filters=3,
          first_kernel_size=3, encoder_filters=3, map_channels=2, num_importance_samples=3)),
    ("PixelVAE-2-levels-categorical", "PixelVAE",
     dict(image_shape=(3, 3, 1), num_values=5, latent_dim=2, num_levels=2, hidden_units=4,
          num_layers=1, num_filters=3, first_kernel_size=3, encoder_filters=3,
          map_channels=2, num_importance_samples=3, free_bits=0.5)),
    ("PixelVAE-mixture-C3", "PixelVAE",
     dict(image_shape=(3, 3, 3), num_values=256, latent_dim=2, num_layers=1, num_filters=3,
          first_kernel_size=3, encoder_filters=3, map_channels=2, likelihood="logistic_mixture",
          num_mixtures=2, num_importance_samples=3)),
    ("PixelCNNAutoEncoder", "PixelCNNAutoEncoder",
     dict(image_shape=(3, 3, 1), num_values=2, code_size=2, num_layers=1, num_filters=3,
          first_kernel_size=3, encoder_filters=3)),
]


def _check_latent(d, weights, x, failures):
    """Finite estimates, training loss and gradients, and in-range samples, for PixelVAE
    (IWAE log_prob, ELBO) or the auto-encoder (reconstruction and conditional log-probs)."""
    problems = []
    if isinstance(d, tfar.PixelVAE):
        values = {"log_prob": d.log_prob(x, seed=(1, 2)), "elbo": d.elbo(x, seed=(1, 2))}
        samples = d.sample(2, seed=(3, 4))
    else:
        code = d.encode(x)
        values = {"reconstruction_log_prob": d.reconstruction_log_prob(x),
                  "log_prob": d.log_prob(x, conditional_input=code)}
        samples = d.sample(2, seed=(3, 4), conditional_input=code)
    for name, value in values.items():
        value = value.numpy()
        if value.dtype != np.float32 or not np.all(np.isfinite(value)):
            problems.append(f"{name} {value} ({value.dtype})")
    with tf.GradientTape() as tape:
        terms = d.training_terms(x, seed=(5, 6), step=3)
    if not all(np.isfinite(float(v)) for v in terms.values()):
        problems.append(f"training terms {terms}")
    grads = tape.gradient(terms["loss"], d.trainable_variables)
    bad = [v.name for v, g in zip(d.network.trainable_variables, grads)
           if g is None or not np.all(np.isfinite(g.numpy()))]
    if bad:
        problems.append(f"non-finite or missing gradients of {bad}")
    samples = samples.numpy()
    if not (np.all(samples >= 0) and np.all(samples <= d.num_values - 1)
            and np.all(samples == np.round(samples))):
        problems.append(f"samples out of range: {np.unique(samples)}")
    if problems:
        failures.append(f"{weights}/{'; '.join(problems)}")
    return not problems


@pytest.mark.parametrize("policy", POLICIES, indirect=True)
@pytest.mark.parametrize("family, options", [m[1:] for m in LATENT_MODELS],
                         ids=[m[0] for m in LATENT_MODELS])
def test_latent_models_finite_at_extreme_inputs(family, options, policy):
    """PixelVAE and the auto-encoder under the same weight settings as the autoregressive
    models (random; the decoder's params layer saturated; every weight ×30 except under
    mixed_float16), at the extreme inputs: everything finite, samples in range, and the
    decoder's head always gets float32 params."""
    d, seen = _built(family, options, policy)
    random_weights = [v.numpy() for v in d.network.variables]
    failures, tried, finite = [], 0, 0
    for weights, apply in _settings(d, d.decoder_distribution, policy):
        for variable, value in zip(d.network.variables, random_weights):
            variable.assign(value)
        apply()
        for x_name, x in _inputs(d).items():
            tried += 1
            finite += _check_latent(d, f"{weights}/{x_name}", x, failures)
    _record(family, policy, tried, finite, failures, seen)


# ------------------------------------------------------------------ float32 parameters

FLOAT32_FAMILIES = [m for m in MODELS if m[0] in (
    "FVSBN-categorical", "NADE-bernoulli", "MADE-categorical", "PixelCNN-categorical-C3",
    "GatedPixelCNN-logistic_mixture-C3", "PixelRNN-row_lstm-categorical-C1",
    "PixelRNN-diagonal_bilstm-logistic_mixture-C3", "MultiscalePixelCNN-categorical-C3",
    "MultiscalePixelRNN-logistic_mixture-C3", "RNADE-mixture_of_gaussians",
    "MADE-mixture_of_gaussians")]


@pytest.mark.parametrize("policy", ("mixed_float16", "mixed_bfloat16"), indirect=True)
@pytest.mark.parametrize("family, options", [m[1:] for m in FLOAT32_FAMILIES + LATENT_MODELS],
                         ids=[m[0] for m in FLOAT32_FAMILIES + LATENT_MODELS])
def test_params_are_computed_in_float32(family, options, policy):
    """Under a mixed policy the layers that emit head parameters compute in float32: with
    their kernel zeroed, the params equal their float32 bias exactly, e.g. 1 + 1e-4 ·
    (i + 1), which float16 (spacing ~1e-3 near 1) and bfloat16 would round. The latent
    models' posterior (PixelVAE) and code (auto-encoder) are float32 the same way."""
    d = getattr(tfar, family)(**options)
    keras.mixed_precision.set_global_policy("float32")
    latent = family in ("PixelVAE", "PixelCNNAutoEncoder")
    target = d.decoder_distribution if latent else d
    for kernels, bias in _params_layers(target):
        for kernel in kernels:
            kernel.assign(tf.zeros_like(kernel))
        values = 1.0 + 1e-4 * (1 + np.arange(np.prod(bias.shape)))
        bias.assign(values.reshape(bias.shape).astype(np.float32))
    x = tf.reshape(tf.constant(_inputs(d)["alternating"]), [2, -1])
    condition = None
    if latent:
        images = tf.reshape(x, [2] + d.event_shape.as_list())
        encoder = d.network.encoder.output_layer
        encoder.kernel.assign(tf.zeros_like(encoder.kernel))
        encoder.bias.assign((1.0 + 1e-4 * np.arange(1, encoder.units + 1)).astype(np.float32))
        if family == "PixelVAE":   # (mean, softplus(pre-stddev) + floor) of the raw outputs
            mean, _ = d.network.posterior(images)
            raw, condition = mean, d.decode_map(mean)
            expected = encoder.bias.numpy()[:d.latent_dim]
        else:
            raw = condition = d.network.encode(images)
            expected = encoder.bias.numpy()
        assert raw.dtype == tf.float32
        np.testing.assert_array_equal(raw.numpy(), np.broadcast_to(expected, raw.shape))
    params = target._component_params(x, condition).numpy()        # [M, B, U, P]
    assert params.dtype == np.float32
    rows = bias.numpy().reshape(-1, params.shape[-1])    # a pixel's units, or every unit
    expected = rows[np.arange(params.shape[2]) % len(rows)]                     # [U, P]
    np.testing.assert_array_equal(params, np.broadcast_to(expected, params.shape))
