"""The Power Spherical family on the unit sphere S^(d-1) (De Cao & Aziz, "The Power Spherical
distribution", 2020): q(z | x) = PowerSpherical(mu(x), kappa(x)), density proportional to
(1 + mu^T z)^kappa; the uniform distribution on the sphere is its fixed prior (the S-VAE's,
Davidson et al., UAI 2018), and the VampPrior on the sphere is the mixture of the K posteriors
at the pseudo-inputs, p(z) = sum_k w_k PowerSpherical(z; mu(u_k), kappa(u_k)) (PowerSphericalMixture).

A draw with explicit noise (`draw`, `draw_from_mixture`): with m = d - 1 and n the first m of
the normal numbers, v = n / |n| is uniform on S^(m-1) and Y = |n|^2 / 2 ~ Gamma(m/2), independent
of v; X ~ Gamma(m/2 + kappa) comes from Marsaglia and Tsang's sampler (2000) run on CANDIDATES
proposals from the rest of the noise (the first accepted one is taken); then B = X / (X + Y) ~
Beta(m/2 + kappa, m/2), t = 2B - 1 is the cosine to mu, z' = (t, sqrt(1 - t^2) v) and a
Householder reflection takes e_1 to mu. Gradients: to mu through the reflection, to kappa through
X by implicit reparameterization (Figurnov et al., 2018; TensorFlow's own gradient of a Gamma
draw, `RandomGammaGrad`, and above shape 1000, where that loses accuracy in float32, the
Wilson-Hilferty form's derivative), exact for the accepted draw. Every op is elementary (no loops, no
special functions), so the sampler converts to TFLite.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf.latents.family import LatentFamily, cumulative_weights, pick_components
from vamp_tf import serialization

tfd = tfp.distributions

# Marsaglia-Tsang proposals per Gamma draw. Each is accepted with probability > 0.95 for shape
# >= 1 (the shape here is m/2 + kappa, boosted below 1), so all of them fail with probability
# < 0.05^6 = 1.6e-8; the last proposal is then used.
CANDIDATES = 6
_GAMMA_NOISE = 3 * CANDIDATES + 2  # per proposal: 1 normal, and 2 for its uniform; 2 for the boost
_TINY = 1e-30


def log_normalizer(concentration, dim: int):
    """log of the Power Spherical's normalizing constant on S^(dim-1) (the log_prob subtracts it):
    (a + b) log 2 + b log pi + lgamma(a) - lgamma(a + b), a = (dim-1)/2 + kappa, b = (dim-1)/2."""
    b = (dim - 1) / 2.0
    a = concentration + b
    # lgamma(a) - lgamma(a + b) without the cancellation of two large lgammas (kappa reaches 2e4)
    return (a + b) * math.log(2.0) + b * math.log(math.pi) + tfp.math.log_gamma_difference(b, a)


def _uniform(first, second):
    """exp(-(n1^2 + n2^2) / 2) is Uniform(0, 1) for independent standard normals; returns its log."""
    return -0.5 * (tf.square(first) + tf.square(second))


def gamma_from_normals(shape, normals):
    """Gamma(shape, 1) draws [...] from normals [..., _GAMMA_NOISE] N(0, 1) (no gradient).

    Marsaglia and Tsang (2000) for shape >= 1; below 1 the draw is for shape + 1 and is boosted
    by U^(1/shape). shape broadcasts against normals[..., 0].
    """
    shape = tf.convert_to_tensor(shape)
    boost = shape < 1.0
    a = tf.where(boost, shape + 1.0, shape)
    d = a - 1.0 / 3.0
    c = tf.math.rsqrt(9.0 * d)
    x = normals[..., :CANDIDATES]
    log_u = _uniform(normals[..., CANDIDATES:2 * CANDIDATES], normals[..., 2 * CANDIDATES:3 * CANDIDATES])
    root = 1.0 + c[..., tf.newaxis] * x
    v = root * root * root
    safe_v = tf.maximum(v, _TINY)
    d_ = d[..., tf.newaxis]
    accept = (v > 0.0) & (log_u < 0.5 * tf.square(x) + d_ - d_ * safe_v + d_ * tf.math.log(safe_v))
    # The first accepted proposal (the last one when none is): position of the first True.
    order = tf.range(CANDIDATES, 0, -1, dtype=tf.float32)  # C, C-1, ..., 1: earlier wins
    score = tf.where(accept, order, 0.0)
    last = tf.one_hot(CANDIDATES - 1, CANDIDATES, dtype=tf.float32)
    best = tf.reduce_max(score, axis=-1, keepdims=True)
    chosen = tf.where(best > 0.0, tf.cast(tf.equal(score, best), tf.float32), last)
    sample = d * tf.reduce_sum(chosen * safe_v, axis=-1)
    log_boost = _uniform(normals[..., 3 * CANDIDATES], normals[..., 3 * CANDIDATES + 1]) / shape
    return tf.where(boost, sample * tf.exp(log_boost), sample)


# Above this shape TensorFlow's RandomGammaGrad loses accuracy in float32 (0.1 off at shape 1e4,
# even in float64 at 1e6); the Wilson-Hilferty form is then within 2e-5 of its float64 value.
_LARGE_SHAPE = 1000.0


def gamma_sample_derivative(shape, sample):
    """d sample / d shape of Gamma(shape) draws at a fixed quantile (implicit reparameterization,
    Figurnov et al. 2018): TensorFlow's RandomGammaGrad below _LARGE_SHAPE, above it the derivative
    of the Wilson-Hilferty form sample = shape * w^3, w = 1 - 1/(9 shape) + e / (3 sqrt(shape)), at
    fixed e."""
    large = shape >= _LARGE_SHAPE
    exact = tf.raw_ops.RandomGammaGrad(alpha=tf.where(large, 1.0, shape), sample=tf.where(large, 1.0, sample))
    a = tf.maximum(shape, _LARGE_SHAPE)
    w = tf.pow(tf.maximum(sample, _TINY) / a, 1.0 / 3.0)
    e = (w - 1.0 + 1.0 / (9.0 * a)) * 3.0 * tf.sqrt(a)
    wilson_hilferty = w * w * w + 3.0 * a * w * w * (1.0 / (9.0 * a * a) - e / (6.0 * a * tf.sqrt(a)))
    return tf.where(large, wilson_hilferty, exact)


@tf.custom_gradient
def _with_implicit_gradient(shape, sample):
    """sample (a Gamma(shape) draw) with the gradient d sample / d shape of implicit reparameterization."""
    def grad(upstream):
        return upstream * gamma_sample_derivative(shape, sample), tf.zeros_like(sample)
    return tf.identity(sample), grad


def power_spherical_draw(mean_direction, concentration, normal, differentiable: bool = True):
    """z [..., d] ~ PowerSpherical(mean_direction [..., d], concentration [...]) from normal
    [..., d - 1 + _GAMMA_NOISE] N(0, 1); shapes broadcast. differentiable=False leaves out the
    implicit gradient (an exported sampler needs none)."""
    dim = mean_direction.shape[-1]
    m = dim - 1
    n = normal[..., :m]
    squared = tf.reduce_sum(tf.square(n), axis=-1)
    direction = n * tf.math.rsqrt(tf.maximum(squared, _TINY))[..., tf.newaxis]  # uniform on S^(m-1)
    y = 0.5 * squared                                                                # Gamma(m / 2)
    shape = concentration + m / 2.0
    shape = tf.broadcast_to(shape, tf.broadcast_dynamic_shape(tf.shape(shape), tf.shape(y)))
    x = tf.stop_gradient(gamma_from_normals(shape, normal[..., m:]))
    if differentiable:
        x = _with_implicit_gradient(shape, x)
    total = x + y
    t = (x - y) / total                                            # 2 B - 1, B ~ Beta(m/2 + kappa, m/2)
    sine = 2.0 * tf.sqrt(x * y) / total                            # sqrt(1 - t^2) without cancellation
    frame = tf.concat([t[..., tf.newaxis], sine[..., tf.newaxis] * direction], axis=-1)  # around e_1
    e1 = tf.one_hot(0, dim, dtype=mean_direction.dtype)
    u = e1 - mean_direction                                         # Householder: e_1 -> mean_direction
    uu = tf.reduce_sum(tf.square(u), axis=-1, keepdims=True)
    reflect = 2.0 * tf.reduce_sum(u * frame, axis=-1, keepdims=True) / tf.maximum(uu, _TINY)
    return tf.where(uu > 1e-12, frame - reflect * u, frame)


def _log_power(concentration, cosine):
    """kappa log(1 + cosine), with a finite value and gradient where 1 + cosine is 0.

    In float32, 1 + mu^T z is 0 for every z within about 3e-4 rad of -mu; on S^2 one pair of
    (draw, component) in about 3e7 falls there, i.e. about once an epoch of MNIST with K = 500, and a
    NaN ended such a run (mnist_sphere_vamp_l3_seed1, epoch 3). There the component's density is 0,
    its gradient kappa / (1 + cosine) infinite, and the mixture weighs it by 0: 0 * inf = NaN in every
    gradient. Such a pair gets kappa log(_TINY) (about -69 kappa: still no weight in the mixture) and
    a zero gradient; every other pair keeps xlog1py's value and gradient, to the bit."""
    antipodal = cosine <= -1.0
    regular = tf.math.xlog1py(concentration, tf.where(antipodal, 0.0, cosine))
    return tf.where(antipodal, concentration * math.log(_TINY), regular)


class PowerSphericalMixture(tfd.MixtureSameFamily):
    """`tfd.MixtureSameFamily` of `tfd.PowerSpherical` components with a log_prob by one matmul:
    log p_k(z) = kappa_k log(1 + mu_k^T z) - log_normalizer(kappa_k), all [N, K] at once."""

    def _log_prob(self, x):
        components = self.components_distribution
        mu, kappa = components.mean_direction, components.concentration
        x = tf.convert_to_tensor(x, dtype=self.dtype)
        if mu.shape.rank != 2 or x.shape.rank is None:
            return super()._log_prob(x)
        dim = mu.shape[-1]
        points = tf.reshape(x, [-1, dim])
        cosine = tf.clip_by_value(tf.matmul(points, mu, transpose_b=True), -1.0, 1.0)   # [N, K]
        log_weights = tf.math.log_softmax(self.mixture_distribution.logits_parameter())
        component = _log_power(kappa, cosine) - log_normalizer(kappa, dim) + log_weights
        return tf.reshape(tf.reduce_logsumexp(component, axis=-1), tf.shape(x)[:-1])


def power_spherical_mixture(mean_direction, concentration, logits=None) -> tfd.Distribution:
    """Mixture of K Power Spherical distributions: mean_direction [K, d] (unit vectors),
    concentration [K] or [K, 1], logits [K] (None: uniform). batch_shape [], event_shape [d]."""
    mean_direction = tf.convert_to_tensor(mean_direction)
    concentration = tf.convert_to_tensor(concentration)
    if concentration.shape.rank == 2:
        concentration = concentration[:, 0]
    if logits is None:
        logits = tf.zeros(tf.shape(mean_direction)[:1], dtype=mean_direction.dtype)
    return PowerSphericalMixture(
        mixture_distribution=tfd.Categorical(logits=logits),
        components_distribution=tfd.PowerSpherical(mean_direction=mean_direction, concentration=concentration))


@serialization.register
class SphericalHead(keras.layers.Layer):
    """features [..., in] -> (mean_direction [..., d], unit length; concentration [..., 1] =
    softplus(.) + 1, as the S-VAE's), in the layer's variable dtype (float32 in every precision)."""

    def __init__(self, latent_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.linear = keras.layers.Dense(latent_dim + 1, kernel_initializer="he_normal", name="linear")

    def call(self, h):
        out = tf.cast(self.linear(h), self.dtype)
        direction, raw = out[..., :self.latent_dim], out[..., self.latent_dim:]
        return tf.math.l2_normalize(direction, axis=-1), tf.nn.softplus(raw) + 1.0

    def get_config(self):
        return {**serialization.base_config(self), "latent_dim": self.latent_dim}


class PowerSpherical(LatentFamily):
    """Parameters (mean_direction [..., d] unit vectors, concentration [..., 1] > 0). z lives on
    S^(d-1), the sphere in R^d (latent_dim = d, the ambient dimension, as the S-VAE's code
    counts it). One draw takes d - 1 + 20 normal numbers (see the module docstring)."""

    name = "power_spherical"
    parameter_names = ("mean_direction", "concentration")
    on_sphere = True

    def head(self, latent_dim, name):
        if latent_dim < 2:
            raise ValueError(f"latent_dim={latent_dim} is too small for posterior='power_spherical': the sphere "
                             "S^(d-1) needs d >= 2.")
        return SphericalHead(latent_dim, name=name)

    def noise_dim(self, latent_dim):
        return latent_dim - 1 + _GAMMA_NOISE

    def distribution(self, mean_direction, concentration):
        return tfd.PowerSpherical(mean_direction=mean_direction, concentration=concentration[..., 0])

    def draw(self, distribution, noise):
        return power_spherical_draw(distribution.mean_direction, distribution.concentration, noise)

    def location(self, mean_direction, concentration):
        return mean_direction

    def standard(self, latent_dim, dtype=tf.float32):
        return tfd.SphericalUniform(dimension=latent_dim, dtype=dtype)

    def mixture(self, parameters, logits=None):
        return power_spherical_mixture(*parameters, logits=logits)

    def mixture_parameters(self, distribution):
        """(cumulative weights [K], mean_direction [K, d], concentration [K]); the uniform prior is
        the Power Spherical with concentration 0 (K = 1)."""
        if isinstance(distribution, tfd.MixtureSameFamily):
            components = distribution.components_distribution
            return cumulative_weights(distribution), components.mean_direction, components.concentration
        if isinstance(distribution, tfd.SphericalUniform):
            dim = int(distribution.event_shape[-1])
            return tf.ones([1]), tf.constant(np.eye(1, dim, dtype=np.float32)), tf.zeros([1])
        return tf.ones([1]), distribution.mean_direction[tf.newaxis], distribution.concentration[tf.newaxis]

    def draw_from_mixture(self, mixture_parameters, uniform, normal):
        """Component #{k : uniform >= cdf_k}, then a Power Spherical draw from it (elementary ops)."""
        cumulative, mean_direction, concentration = mixture_parameters
        k = pick_components(cumulative, uniform)
        return power_spherical_draw(tf.gather(mean_direction, k), tf.gather(concentration, k), normal,
                                    differentiable=False)
