"""The diagonal Gaussian family, the paper's (Tomczak & Welling, AISTATS 2018):
q(z | x) = N(mean(x), diag exp(log_variance(x))), p(z) = N(0, I), and the VampPrior's mixture
of diagonal Gaussians with a log_prob computed by one matmul (DiagonalGaussianMixture).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import serialization
from vamp_tf.fused import side_by_side
from vamp_tf.latents.family import LatentFamily, cumulative_weights, pick_components

tfd = tfp.distributions


# Clamp of the reference implementation (Hardtanh): keeps the variances of the Gaussian
# posteriors in a trainable range.
LOG_VARIANCE_RANGE = (-6.0, 2.0)


@serialization.register
class GaussianHead(keras.layers.Layer):
    """Mean and clamped log-variance of a diagonal Gaussian: the family's head.

    Call: h [..., in] -> (mean [..., latent_dim], log_variance [..., latent_dim]), the
    log-variance clamped to LOG_VARIANCE_RANGE, in the layer's variable dtype (float32 under
    every mixed policy, float64 for a float64 layer).
    """

    def __init__(self, latent_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.linear = keras.layers.Dense(2 * latent_dim, kernel_initializer="he_normal", name="linear")

    def call(self, h):
        # The variable dtype out whatever the compute dtype: densities are float32 under mixed policies.
        mean, log_variance = tf.split(tf.cast(self.linear(h), self.dtype), 2, axis=-1)
        return mean, tf.clip_by_value(log_variance, *LOG_VARIANCE_RANGE)

    def get_config(self):
        return {**serialization.base_config(self), "latent_dim": self.latent_dim}

    def fused_parts(self):
        """The mean's and the log-variance's layers are one variable each: 2 parts (vamp_tf.fused)."""
        return side_by_side(self.linear, 2)


class DiagonalGaussianMixture(tfd.MixtureSameFamily):
    """`tfd.MixtureSameFamily` of `tfd.MultivariateNormalDiag` components with a fast log_prob.

    Component log-densities of N points under K components are computed with one matmul
    instead of an [N, K, latent_dim] broadcast, which is what makes the VampPrior cheap at
    S = 5000 importance samples:
      sum_l (z_l - m_kl)^2 / v_kl = [d*d, d] . [1/v_k, -2 e_k / v_k] + sum_l e_kl^2 / v_kl,
    with d = z - c and e_k = m_k - c for a centre c. The value does not depend on c; the
    rounding error does (it grows with |d|^2 / v and |e_k|^2 / v). So the points are
    centred per group: for x of shape [..., S, latent_dim] with S > 1, each group of S
    points (e.g. the S importance samples of one image) is centred at its own mean, where
    the components that dominate the mixture are; points given one per group ([..., 1,
    latent_dim] or [latent_dim]) form a single group. Worst case seen: 1e-4 nats from
    float64 with grouping, 3e-3 without (tests/priors_test.py). Build it with
    `gaussian_mixture(...)`.
    """

    def _log_prob(self, x):
        components = self.components_distribution
        loc, scale = components.loc, components.scale.diag
        x = tf.convert_to_tensor(x, dtype=self.dtype)
        if loc.shape.rank != 2 or scale.shape.rank != 2 or x.shape.rank is None:
            return super()._log_prob(x)  # batched mixtures or unknown rank: generic path
        out_shape = tf.shape(x)[:-1]
        latent_dim = tf.shape(loc)[-1]
        if x.shape.rank == 1 or x.shape[-2] == 1:   # independent points: one group
            groups = tf.reshape(x, [1, -1, latent_dim])
        else:
            groups = tf.reshape(x, [-1, tf.shape(x)[-2], latent_dim])       # [G, S, L]
        centre = tf.stop_gradient(tf.reduce_mean(groups, axis=1, keepdims=True))
        d = groups - centre                                                 # [G, S, L]
        e = loc[tf.newaxis] - centre                                        # [G, K, L]
        precision = tf.math.reciprocal(tf.square(scale))                    # [K, L]
        features = tf.concat([tf.square(d), d], axis=-1)                    # [G, S, 2L]
        weights = tf.concat([tf.broadcast_to(-0.5 * precision, tf.shape(e)), e * precision],
                            axis=-1)                                        # [G, K, 2L]
        log_weights = tf.math.log_softmax(self.mixture_distribution.logits_parameter())
        constant = (log_weights - tf.reduce_sum(tf.math.log(scale), axis=-1)
                    - 0.5 * tf.cast(latent_dim, self.dtype) * math.log(2.0 * math.pi)
                    - 0.5 * tf.reduce_sum(tf.square(e) * precision, axis=-1))  # [G, K]
        component_log_prob = tf.matmul(features, weights, transpose_b=True) + constant[:, tf.newaxis]
        return tf.reshape(tf.reduce_logsumexp(component_log_prob, axis=-1), out_shape)


def gaussian_mixture(loc, log_variance, logits=None) -> tfd.Distribution:
    """Mixture of K diagonal Gaussians.

    loc, log_variance: [K, latent_dim]; logits: [K] mixture logits (None: uniform).
    Returns a distribution with batch_shape [] and event_shape [latent_dim].
    """
    loc = tf.convert_to_tensor(loc)
    if logits is None:
        logits = tf.zeros(tf.shape(loc)[:1], dtype=loc.dtype)
    return DiagonalGaussianMixture(
        mixture_distribution=tfd.Categorical(logits=logits),
        components_distribution=tfd.MultivariateNormalDiag(
            loc=loc, scale_diag=tf.exp(0.5 * log_variance)))


class DiagonalGaussian(LatentFamily):
    """Parameters (mean, log_variance), each [..., latent_dim]; the log-variance is clamped to
    LOG_VARIANCE_RANGE by the head. One draw takes latent_dim normal numbers:
    z = mean + exp(log_variance / 2) * noise."""

    name = "gaussian"
    parameter_names = ("mean", "log_variance")

    def head(self, latent_dim, name):
        return GaussianHead(latent_dim, name=name)

    def noise_dim(self, latent_dim):
        return latent_dim

    def distribution(self, mean, log_variance):
        return tfd.MultivariateNormalDiag(loc=mean, scale_diag=tf.exp(0.5 * log_variance))

    def draw(self, distribution, noise):
        return distribution.loc + distribution.scale.diag * noise

    def location(self, mean, log_variance):
        return mean

    def standard(self, latent_dim, dtype=tf.float32):
        zeros = tf.zeros([latent_dim], dtype)
        return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=tf.ones_like(zeros))

    def mixture(self, parameters, logits=None):
        return gaussian_mixture(*parameters, logits=logits)

    def mixture_parameters(self, distribution):
        """(cumulative weights [K], loc [K, L], scale [K, L]); a single Gaussian is a mixture of K = 1."""
        if isinstance(distribution, tfd.MixtureSameFamily):
            components = distribution.components_distribution
            return cumulative_weights(distribution), components.loc, components.scale.diag
        return (tf.ones([1]), distribution.loc[tf.newaxis], distribution.scale.diag[tf.newaxis])

    def draw_from_mixture(self, mixture_parameters, uniform, normal):
        """Component #{k : uniform >= cdf_k}, then z = loc[k] + scale[k] * normal."""
        cumulative, loc, scale = mixture_parameters
        k = pick_components(cumulative, uniform)
        return tf.gather(loc, k) + tf.gather(scale, k) * normal
