"""Per-dimension likelihood heads: network parameters -> log-probabilities and samples.

A head turns the `params_size` numbers a network emits for one dimension into the
distribution of that dimension's value. The discrete heads model an integer value in
`[0, num_values)`:

- `Bernoulli`   (num_values = 2, one logit): binarized images (NADE, MADE, PixelCNN papers).
- `Categorical` (any num_values, one logit per value): the 256-way softmax of PixelRNN §5.
- `DiscretizedLogisticMixture` (any num_values, one whole pixel of C channels per step):
  the PixelCNN++ head (Salimans et al., 2017, §2.1–2.2), R, G and B coupled.

The continuous heads model a real value (`num_values` is None; log_prob is a density):

- `MixtureOfGaussians` (K components, 3K params): RNADE's conditionals (Uria, Murray &
  Larochelle 2013, §2) and MADE MoG (Papamakarios et al. 2017, §4).
- `Gaussian` (K = 1, 2 params): the linear-Gaussian autoregressive model of Deep
  Learning §20.10.8 when the network is linear.

Each head owns its `support` (`tfar.inputs.IntegerValues` or `RealValues`): the values it
accepts and their checks, which the distribution's input checks and the exporter use.

`values_per_unit` says how many values one row of params models (a *unit* of
`tfar.schedule`): 1 for the per-dimension heads (values [...]), C for the mixture (values
[..., C], one pixel; `pixel_head` is True, also when C = 1). `AutoregressiveDistribution`
only ever calls `values_per_unit`, `pixel_head`, `params_size`, `support`, `log_prob` and
`sample`.
"""

import math

import numpy as np
import tensorflow as tf

from tfar import random
from tfar.inputs import IntegerValues, RealValues


class Likelihood:
    """Interface of a per-dimension head.

    Shapes: `params` [..., params_size] and values [...] -> log-probs [...]; samples [...].
    A `pixel_head` takes and draws the values of a pixel, [..., C] (C = `values_per_unit`).
    `support` is what values it accepts (integers in [0, num_values) here; real values
    for a continuous head, whose num_values is None).
    """

    def __init__(self, num_values):
        self.num_values = int(num_values)
        self.support = IntegerValues(self.num_values)

    name = "likelihood"
    params_size = None
    values_per_unit = 1
    pixel_head = False

    def log_prob(self, params, x):
        """log p(x | params) in nats, elementwise over the leading dims."""
        raise NotImplementedError

    def sample(self, params, seed):
        """One stateless draw per leading index (float values of the support)."""
        raise NotImplementedError


class Bernoulli(Likelihood):
    """p(x = 1) = sigmoid(logit); params_size 1."""

    name = "bernoulli"
    params_size = 1

    def __init__(self, num_values=2):
        if num_values != 2:
            raise ValueError(f"The Bernoulli head models num_values=2; got num_values={num_values}.")
        super().__init__(2)

    def log_prob(self, params, x):
        logits = tf.squeeze(params, -1)
        x = tf.cast(x, logits.dtype)
        # log σ(l) = -softplus(-l), log(1 - σ(l)) = -softplus(l)
        return -tf.nn.softplus(logits * (1.0 - 2.0 * x))

    def sample(self, params, seed):
        logits = tf.squeeze(params, -1)
        u = random.uniform(tf.shape(logits), seed, dtype=logits.dtype)
        return tf.cast(u < tf.sigmoid(logits), logits.dtype)


class Categorical(Likelihood):
    """A softmax over `num_values` values; params_size = num_values. `sample` draws by
    Gumbel-max (`tfar.random.categorical`: a function of the seed alone, on any number
    of CPU threads, and the same under XLA)."""

    name = "categorical"

    def __init__(self, num_values):
        if num_values < 2:
            raise ValueError(f"The Categorical head needs num_values >= 2; got {num_values}.")
        super().__init__(num_values)
        self.params_size = self.num_values

    def log_prob(self, params, x):
        shape = tf.broadcast_dynamic_shape(tf.shape(x), tf.shape(params)[:-1])
        labels = tf.broadcast_to(tf.cast(x, tf.int32), shape)
        logits = tf.broadcast_to(params, tf.concat([shape, [self.num_values]], 0))
        return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    def sample(self, params, seed):
        return tf.cast(random.categorical(params, seed), params.dtype)


class DiscretizedLogisticMixture(Likelihood):
    """A mixture of K discretized logistics over one pixel's C channels (PixelCNN++ §2.1–2.2).

    Salimans, Karpathy, Chen, Kingma, "PixelCNN++", ICLR 2017. Values x_c in {0, …, V−1} are
    rescaled to y_c = 2·x_c/(V−1) − 1 in [−1, 1]; value x_c owns the bin [y_c − h, y_c + h]
    with h = 1/(V−1), except that the edge bins take the whole tails: x_c = 0 owns
    (−∞, −1 + h], x_c = V−1 owns [1 − h, ∞). With σ the logistic sigmoid:

        p(x) = Σ_k π_k Π_c P(x_c | k, x_<c),       π = softmax(logits)
        P(x_c | k, x_<c) = σ((y_c + h − μ_kc)/s_kc) − σ((y_c − h − μ_kc)/s_kc)

    (the first term is 1 for x_c = V−1, the second 0 for x_c = 0), log s_kc = max(ℓ_kc, −7).
    For C = 3 (RGB, §2.2) the means are linear in the earlier channels of the same pixel,
    with coefficients squashed by tanh:

        μ_kR = m_kR,   μ_kG = m_kG + α_k·y_R,   μ_kB = m_kB + β_k·y_R + γ_k·y_G,
        (α_k, β_k, γ_k) = tanh(t_k0, t_k1, t_k2);

    other C have no coupling (C = 1 is the grayscale head). Computed in log space:
    the edge tails as −softplus, an interior bin as
    log σ(u) + log σ(−l) + log(1 − e^{−(u−l)}) (u, l its standardized edges; exactly
    log(σ(u) − σ(l)), without the cancellation when both are near 0 or 1), and, when the
    bin is so narrow against s (2h/s < 1e-3) that the difference underflows, PixelCNN++'s
    fallback log pdf(bin centre) + log(2h) (relative error < 5e-8 there).

    Params layout (P = params_size numbers per pixel, K components, C channels, c-major):

        [0, K)                     logits of π_k
        [K + c·K + k]              m_kc        means          (C·K numbers)
        [K + C·K + c·K + k]        ℓ_kc        log-scales     (C·K numbers)
        [K + 2·C·K + j·K + k]      t_kj        coupling, j = 0 (α), 1 (β), 2 (γ)  (C = 3 only:
                                               3·K numbers)

    so P = K·(1 + 3C) = 10K for C = 3 (PixelCNN++'s 10 per component), else K·(1 + 2C).

    Shapes: `log_prob(params [..., P], x [..., C]) -> [...]` nats (leading dims broadcast);
    `sample(params [..., P], seed) -> [..., C]` floats in {0, …, V−1}: the component by
    Gumbel-max, then each channel in order by the logistic inverse CDF around its coupled
    mean, rounded to the nearest bin and clipped; later channels couple on the *binned*
    value (y of the drawn integer), as log_prob does, so draws follow exp(log_prob) exactly.
    `seed` is a stateless seed [2], split once into the component and the value draws.
    """

    name = "logistic_mixture"
    min_log_scale = -7.0
    # Below this bin width in units of the scale (2h/s), an interior bin uses the density at
    # its centre times its width: relative error <= (2h/s)^2 / 24, about 4e-8.
    _min_standardized_width = 1e-3

    def __init__(self, num_values, num_channels=1, num_mixtures=5):
        if int(num_values) < 2:
            raise ValueError(f"The logistic mixture head needs num_values >= 2; got {num_values}.")
        if int(num_channels) < 1:
            raise ValueError(f"num_channels must be >= 1; got {num_channels}.")
        if int(num_mixtures) < 1:
            raise ValueError(f"num_mixtures must be >= 1; got {num_mixtures}.")
        super().__init__(num_values)
        self.num_channels = int(num_channels)
        self.num_mixtures = int(num_mixtures)
        self.values_per_unit = self.num_channels
        self.pixel_head = True
        self.coupled = self.num_channels == 3
        per_component = 1 + (3 if self.coupled else 2) * self.num_channels
        self.params_size = self.num_mixtures * per_component

    def _unpack(self, params):
        """params [..., P] -> logits [..., K], and lists of [..., K]: C means, C log-scales,
        3 coeffs (None uncoupled). One split: its gradient is one concat, where slices'
        gradients would each be a whole params-sized tensor."""
        if params.shape.rank is not None and params.shape[-1] not in (None, self.params_size):
            raise ValueError(f"The {self.name} head takes params [..., {self.params_size}]; "
                             f"got shape {params.shape}.")
        k, c = self.num_mixtures, self.num_channels
        pieces = tf.split(params, [k] * (self.params_size // k), axis=-1)
        means = pieces[1:1 + c]
        log_scales = [tf.maximum(p, self.min_log_scale) for p in pieces[1 + c:1 + 2 * c]]
        coeffs = [tf.tanh(p) for p in pieces[1 + 2 * c:]] if self.coupled else None
        return pieces[0], means, log_scales, coeffs

    def _mean(self, c, means, coeffs, ys):
        """μ of channel c: means, coeffs lists of [..., K'], ys [y_0, …] each [..., 1]."""
        mean = means[c]
        if coeffs is not None and c == 1:
            mean = mean + coeffs[0] * ys[0]
        if coeffs is not None and c == 2:
            mean = mean + coeffs[1] * ys[0] + coeffs[2] * ys[1]
        return mean

    def _rescale(self, x):
        return 2.0 * x / (self.num_values - 1) - 1.0

    def _log_bin_prob(self, x, mean, log_scale):
        """log P(bin x | μ, log s), elementwise: x integer-valued floats; any broadcast shapes."""
        half = 1.0 / (self.num_values - 1)
        inv_scale = tf.exp(-log_scale)
        centered = self._rescale(x) - mean
        upper = inv_scale * (centered + half)
        lower = inv_scale * (centered - half)
        log_cdf_upper = -tf.nn.softplus(-upper)                 # log σ(upper)
        log_sf_lower = -tf.nn.softplus(lower)                   # log (1 − σ(lower))
        width = (2.0 * half) * inv_scale                        # upper − lower, > 0
        wide = width > self._min_standardized_width
        safe_width = tf.where(wide, width, tf.ones_like(width))
        exact = log_cdf_upper + log_sf_lower + tf.math.log(-tf.math.expm1(-safe_width))
        centre = inv_scale * centered
        narrow = (centre - 2.0 * tf.nn.softplus(centre) - log_scale) + math.log(2.0 * half)
        interior = tf.where(wide, exact, narrow)
        return tf.where(x <= 0, log_cdf_upper,
                        tf.where(x >= self.num_values - 1, log_sf_lower, interior))

    def log_prob(self, params, x):
        params = tf.convert_to_tensor(params)
        x = tf.cast(x, params.dtype)
        if x.shape.rank is not None and x.shape[-1] not in (None, self.num_channels):
            raise ValueError(f"The {self.name} head takes values [..., {self.num_channels}]; "
                             f"got shape {x.shape}.")
        logits, means, log_scales, coeffs = self._unpack(params)
        xs = tf.split(x, self.num_channels, axis=-1)                       # C × [..., 1]
        ys = [self._rescale(x_c) for x_c in xs]
        log_probs = 0.0
        for c in range(self.num_channels):
            mean = self._mean(c, means, coeffs, ys)                        # [..., K]
            log_probs += self._log_bin_prob(xs[c], mean, log_scales[c])
        return tf.reduce_logsumexp(tf.nn.log_softmax(logits) + log_probs, axis=-1)

    def sample(self, params, seed):
        params = tf.convert_to_tensor(params)
        logits, means, log_scales, coeffs = self._unpack(params)
        component_seed, value_seed = tf.unstack(random.split(seed, 2))
        component = random.categorical(logits, component_seed)             # Gumbel-max
        chosen = tf.one_hot(component, self.num_mixtures, on_value=True, off_value=False)

        def pick(pieces):                              # R × [..., K] -> R × [..., 1]
            return [tf.reduce_sum(tf.where(chosen, t, tf.zeros_like(t)), axis=-1,
                                  keepdims=True) for t in pieces]

        means, log_scales = pick(means), pick(log_scales)
        coeffs = None if coeffs is None else pick(coeffs)
        shape = tf.concat([tf.shape(logits)[:-1], [self.num_channels]], axis=0)
        u = random.uniform(shape, value_seed, dtype=params.dtype,
                           open_interval=True)                             # [..., C] in (0, 1)
        noise = tf.split(tf.math.log(u) - tf.math.log1p(-u),  # standard logistic
                         self.num_channels, axis=-1)
        top = self.num_values - 1
        values, ys = [], []
        for c in range(self.num_channels):
            mean = self._mean(c, means, coeffs, ys)                        # [..., 1]
            y = mean + tf.math.multiply_no_nan(tf.exp(log_scales[c]), noise[c])
            y = tf.clip_by_value(y, -2.0, 2.0)                             # beyond both edges
            value = tf.clip_by_value(tf.round((y + 1.0) * (top / 2.0)), 0.0, top)
            value = tf.abs(value)                                          # −0 → 0
            values.append(value)
            ys.append(self._rescale(value))                    # couple on the binned value
        return tf.concat(values, axis=-1)


class MixtureOfGaussians(Likelihood):
    """A mixture of K Gaussians over one real value (RNADE §2; MADE MoG).

    Uria, Murray, Larochelle, "RNADE: The real-valued neural autoregressive density
    estimator", NIPS 2013, §2 (eq. 5–7); Papamakarios, Pavlakou, Murray, "Masked
    Autoregressive Flow for Density Estimation", NIPS 2017, §4 (MADE MoG). With
    z_k = (x − μ_k)/σ_k:

        p(x) = Σ_k π_k N(x; μ_k, σ_k),     π = softmax(logits),
        log p(x) = logsumexp_k(log π_k − z_k²/2 − log σ_k − log(2π)/2)      (nats, density)
        σ_k = softplus(s_k) + min_scale

    The scales: RNADE takes σ = exp(s). Here a softplus plus a floor (`min_scale`,
    1e-3 by default): σ ≥ min_scale for every s, so no component collapses onto a data
    point (a density growing without bound on all-equal data, the classic failure of
    Gaussian mixture maximum likelihood), σ grows only linearly in s (exp(s) overflows
    float32 at s > 88), and the gradient in s never vanishes (a floored exp,
    exp(max(s, log min_scale)), stops learning below its floor). The floor bounds
    each conditional's density by 1/(min_scale·√(2π)) ≈ 399; data on a much finer scale
    than 1e-3 should be rescaled (or pass a smaller `min_scale`). x − μ_k is clipped at
    ±1e15·σ_k (|z| <= 1e15, where the density is e^(−5·10^29), below anything float32
    tells from 0), so log p and its gradients (z²/σ <= 1e33) stay finite for every
    finite x, μ and s.

    Params layout (P = 3K per dimension): [0, K) logits of π, [K, 2K) means μ_k,
    [2K, 3K) the scales' pre-activations s_k.

    Shapes: `log_prob(params [..., 3K], x [...]) -> [...]` nats (leading dims
    broadcast); `sample(params [..., 3K], seed) -> [...]` floats: the component by
    Gumbel-max, then μ_k + σ_k·ε with ε ~ N(0, 1); `seed` is a stateless seed [2],
    split once into the component and the value draws.
    """

    name = "mixture_of_gaussians"
    max_standardized = 1e15

    def __init__(self, num_mixtures=10, min_scale=1e-3):
        if int(num_mixtures) < 1:
            raise ValueError(f"num_mixtures must be >= 1; got {num_mixtures}.")
        if not float(min_scale) > 0:
            raise ValueError(f"min_scale must be > 0; got {min_scale}.")
        self.num_values = None
        self.support = RealValues()
        self.num_mixtures = int(num_mixtures)
        self.min_scale = float(min_scale)
        self.params_size = 3 * self.num_mixtures

    def _check_params(self, params):
        params = tf.convert_to_tensor(params)
        if params.shape.rank is not None and params.shape[-1] not in (None, self.params_size):
            raise ValueError(f"The {self.name} head takes params [..., {self.params_size}]; "
                             f"got shape {params.shape}.")
        return params

    def components(self, params):
        """params [..., P] -> (log π [..., K], μ [..., K], σ [..., K]), σ >= min_scale."""
        params = self._check_params(params)
        k = self.num_mixtures
        return (tf.nn.log_softmax(params[..., :k]), params[..., k:2 * k],
                self.scale(params[..., 2 * k:3 * k]))

    def scale(self, s):
        """σ = softplus(s) + min_scale: >= min_scale for every s, finite for finite s."""
        return tf.nn.softplus(s) + self.min_scale

    def log_prob(self, params, x):
        log_weights, means, scales = self.components(params)
        x = tf.cast(x, means.dtype)[..., None]                             # [..., 1]
        bound = self.max_standardized * scales   # clip before dividing: finite gradients
        z = tf.clip_by_value(x - means, -bound, bound) / scales
        log_normal = -0.5 * tf.square(z) - tf.math.log(scales) - 0.5 * math.log(2 * math.pi)
        return tf.reduce_logsumexp(log_weights + log_normal, axis=-1)

    def sample(self, params, seed):
        log_weights, means, scales = self.components(params)
        component_seed, value_seed = tf.unstack(random.split(seed, 2))
        component = random.categorical(log_weights, component_seed)        # Gumbel-max
        chosen = tf.one_hot(component, self.num_mixtures, dtype=means.dtype)
        mean = tf.reduce_sum(chosen * means, axis=-1)
        scale = tf.reduce_sum(chosen * scales, axis=-1)
        noise = random.normal(tf.shape(mean), value_seed, dtype=means.dtype)
        return mean + scale * noise


class Gaussian(MixtureOfGaussians):
    """One Gaussian over a real value: `MixtureOfGaussians` with K = 1, without the
    (constant) mixture logit. Params [..., 2]: [μ, s], σ = softplus(s) + min_scale.
    With a linear network (FVSBN's masked linear map) this is the linear-Gaussian
    autoregressive model of Deep Learning §20.10.8. Shapes as `MixtureOfGaussians`;
    `sample` draws μ + σ·ε with ε ~ N(0, 1) from `seed` itself."""

    name = "gaussian"

    def __init__(self, min_scale=1e-3):
        super().__init__(num_mixtures=1, min_scale=min_scale)
        self.params_size = 2

    def components(self, params):
        params = self._check_params(params)
        return (tf.zeros_like(params[..., :1]), params[..., :1],
                self.scale(params[..., 1:2]))

    def sample(self, params, seed):
        _, means, scales = self.components(params)
        noise = random.normal(tf.shape(means)[:-1], seed, dtype=means.dtype)
        return means[..., 0] + scales[..., 0] * noise


HEADS = {"bernoulli": Bernoulli, "categorical": Categorical,
         "logistic_mixture": DiscretizedLogisticMixture,
         "mixture_of_gaussians": MixtureOfGaussians, "gaussian": Gaussian}
# The heads of real values: they take no num_values.
CONTINUOUS = ("mixture_of_gaussians", "gaussian")


def get(likelihood, num_values, **kwargs):
    """The head for a name ("bernoulli", "categorical", "logistic_mixture",
    "mixture_of_gaussians", "gaussian") or None.

    None means Bernoulli iff num_values == 2, else Categorical; num_values None means 2
    for the discrete heads. `kwargs`
    (`num_channels`, `num_mixtures`) go to the logistic mixture, (`num_mixtures`,
    `min_scale`) to the mixture of Gaussians, (`min_scale`) to the Gaussian; the other
    heads take none. The continuous heads model real values: num_values must be None.
    A head instance is returned as is, after checking that it agrees with num_values
    (None takes the head's) and kwargs.
    """
    if num_values is not None and int(num_values) < 2:
        raise ValueError(f"num_values must be >= 2; got {num_values}.")
    if isinstance(likelihood, Likelihood):
        if num_values is not None and likelihood.num_values != num_values:
            raise ValueError(f"The {likelihood.name} head models "
                             f"{likelihood.num_values or 'real'} values, not {num_values}.")
        for key, value in kwargs.items():
            if getattr(likelihood, key, None) != value:
                raise ValueError(f"The {likelihood.name} head has {key}="
                                 f"{getattr(likelihood, key, None)!r}, not {value!r}.")
        return likelihood
    if likelihood in CONTINUOUS:
        if num_values is not None:
            raise ValueError(f"The {likelihood} head models real values; num_values must be "
                             f"None, got num_values={num_values}.")
        return HEADS[likelihood](**kwargs)
    if num_values is None:   # a constructor's default: 2 values for the discrete heads
        num_values = 2
    if likelihood is None:
        likelihood = "bernoulli" if num_values == 2 else "categorical"
    if likelihood not in HEADS:
        raise ValueError(f"likelihood must be one of {sorted(HEADS)}; got {likelihood!r}.")
    if kwargs and likelihood != DiscretizedLogisticMixture.name:
        raise ValueError(f"The {likelihood} head takes no options; got {sorted(kwargs)}.")
    return HEADS[likelihood](num_values, **kwargs)
