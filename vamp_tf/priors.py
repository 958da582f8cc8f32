"""Priors over the latent space, each a Keras layer that builds a `tfd.Distribution`.

- `StandardNormalPrior`: N(0, I).
- `MixtureOfGaussiansPrior`: a learnable mixture of K diagonal Gaussians.
- `VampPrior`: the variational mixture of posteriors of Tomczak & Welling, "VAE with a
  VampPrior" (AISTATS 2018): p(z) = (1/K) sum_k q(z | u_k), with K learnable
  pseudo-inputs u_k pushed through the model's own encoder; optionally with learned
  mixture weights, p(z) = sum_k w_k q(z | u_k), w = softmax(logits) (not in the paper).

Every prior's `distribution()` is rebuilt from the current weights on every call (never
cached), has batch_shape [] and event_shape [latent_dim]. The priors are usable by any TF
model: the VampPrior only needs a callable mapping images to (mean, log_variance).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


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


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} is invalid; it must be an integer >= 1.")


class Prior(keras.layers.Layer):
    """Base class: `distribution()` returns p(z) with event_shape [latent_dim]."""

    def __init__(self, latent_dim: int, **kwargs):
        super().__init__(**kwargs)
        _check_size("latent_dim", latent_dim)
        self.latent_dim = int(latent_dim)

    def distribution(self) -> tfd.Distribution:
        raise NotImplementedError


class StandardNormalPrior(Prior):
    """p(z) = N(0, I): batch_shape [], event_shape [latent_dim]."""

    def distribution(self):
        zeros = tf.zeros([self.latent_dim])
        return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=tf.ones_like(zeros))


class MixtureOfGaussiansPrior(Prior):
    """A learnable mixture of `num_components` diagonal Gaussians.

    Means start at N(0, 1) draws (seeded), log-variances at 0, weights uniform; all three
    are trained. batch_shape [], event_shape [latent_dim].
    """

    def __init__(self, latent_dim: int, num_components: int, seed: int = 0, **kwargs):
        super().__init__(latent_dim, **kwargs)
        _check_size("num_components", num_components)
        self.num_components = int(num_components)
        self.loc = self.add_weight(
            shape=(num_components, latent_dim), name="loc",
            initializer=keras.initializers.RandomNormal(0.0, 1.0, seed=seed))
        self.log_variance = self.add_weight(
            shape=(num_components, latent_dim), name="log_variance", initializer="zeros")
        self.logits = self.add_weight(shape=(num_components,), name="logits", initializer="zeros")

    def distribution(self):
        return gaussian_mixture(self.loc, self.log_variance, self.logits)


class VampPrior(Prior):
    """The VampPrior: p(z) = (1/K) sum_k q(z | u_k), or sum_k w_k q(z | u_k) with learned weights.

    The pseudo-inputs are a [K, D] variable; u = hardtanh_[0, 1](variable) reshaped to
    images. (The paper's linear layer applied to a K x K identity computes the same function
    with a K x K x D matmul; a direct variable does not.)

    Args:
      encoder: callable, images [K, *input_shape] -> (mean [K, L], log_variance [K, L]);
        normally the VAE's own q(z | x).
      latent_dim: L.
      input_shape: (height, width, channels) of the pseudo-inputs.
      num_components: K.
      init_mean, init_std: random initialisation N(init_mean, init_std) of the variable.
      initial_pseudo_inputs: optional [K, *input_shape] array used instead. To start
        from training images ("VampPrior data"), build the prior as usual and call
        `initialize_from_data` (a checkpoint restore then needs no examples).
      seed: seed of the random initialisation.
      learn_weights: also learn mixture weights w = softmax(logits), logits starting at 0
        (uniform). A component that no data point is near gets gradient -w_k on its logit
        (responsibility 0 minus its weight), so it loses its mass instead of keeping 1/K.
        The paper's VampPrior has uniform weights (learn_weights=False).

    distribution(): batch_shape [], event_shape [latent_dim]; sampling picks a component
    with probability w_k (1/K by default), then draws from it.
    """

    def __init__(self, encoder: Callable, latent_dim: int, input_shape, num_components: int,
                 init_mean: float = 0.05, init_std: float = 0.01,
                 initial_pseudo_inputs: Optional[np.ndarray] = None, seed: int = 0,
                 learn_weights: bool = False, **kwargs):
        super().__init__(latent_dim, **kwargs)
        _check_size("num_components", num_components)
        self.encoder = encoder
        self.num_components = int(num_components)
        self.image_shape = tuple(int(d) for d in input_shape)
        size = int(np.prod(self.image_shape))
        if initial_pseudo_inputs is not None:
            init = np.asarray(initial_pseudo_inputs, dtype=np.float32).reshape(-1, size)
            if init.shape[0] != num_components:
                raise ValueError(
                    f"initial_pseudo_inputs has {init.shape[0]} images; num_components={num_components} "
                    "needs exactly that many.")
            initializer = keras.initializers.Constant(init)
        else:
            initializer = keras.initializers.RandomNormal(init_mean, init_std, seed=seed)
        self.pseudo_inputs_variable = self.add_weight(
            shape=(num_components, size), name="pseudo_inputs", initializer=initializer)
        self.learn_weights = bool(learn_weights)
        self.logits = (self.add_weight(shape=(num_components,), name="logits", initializer="zeros")
                       if self.learn_weights else None)

    def initialize_from_data(self, images: np.ndarray, noise_std: float, seed: int = 0) -> None:
        """Sets the pseudo-inputs to K of `images` plus N(0, noise_std) noise ("VampPrior data").

        images: [N, *input_shape] in [0, 1]. K of them are chosen, and the noise drawn, by two
        numpy generators seeded with `seed` (choice without replacement when N >= K).
        """
        images = np.asarray(images, np.float32)
        if images.ndim < 2 or images.shape[1:] != self.image_shape:
            raise ValueError(f"images have shape {images.shape}; expected [N, {', '.join(map(str, self.image_shape))}].")
        choice = np.random.default_rng(seed).choice(len(images), self.num_components,
                                                    replace=len(images) < self.num_components)
        chosen = images[choice]
        noisy = chosen + noise_std * np.random.default_rng(seed).standard_normal(chosen.shape, dtype=np.float32)
        self.pseudo_inputs_variable.assign(noisy.reshape(self.num_components, -1))

    @property
    def pseudo_inputs(self):
        """u: [K, height, width, channels] in [0, 1]."""
        u = tf.clip_by_value(self.pseudo_inputs_variable, 0.0, 1.0)
        return tf.reshape(u, (self.num_components,) + self.image_shape)

    def components(self):
        """The K posteriors' parameters: (mean [K, L], log_variance [K, L])."""
        return self.encoder(self.pseudo_inputs)

    def distribution(self):
        mean, log_variance = self.components()
        return gaussian_mixture(mean, log_variance, self.logits)


def make_prior(config, encoder: Callable, seed: int = 0) -> Prior:
    """The prior a `ModelConfig` asks for (the one place where its name is dispatched).

    A VampPrior starts from random pseudo-inputs N(pseudo_mean, pseudo_std); for
    pseudo_init='data' the trainer then calls `VampPrior.initialize_from_data`.
    """
    if config.prior == "standard":
        return StandardNormalPrior(config.latent_dim, name="prior")
    if config.prior == "mog":
        return MixtureOfGaussiansPrior(config.latent_dim, config.num_components, seed=seed, name="prior")
    if config.prior == "vamp":
        return VampPrior(encoder, config.latent_dim, config.input_shape, config.num_components,
                         init_mean=config.pseudo_mean, init_std=config.pseudo_std, seed=seed,
                         learn_weights=config.component_weights == "learned", name="prior")
    raise ValueError(f"prior={config.prior!r} is not supported; allowed: standard, mog, vamp.")


def mixture_parameters(distribution: tfd.Distribution):
    """(cumulative weights [K], loc [K, L], scale [K, L]) of a prior built here.

    A single Gaussian is a mixture of K = 1. Used to sample with explicit noise (export).
    """
    if isinstance(distribution, tfd.MixtureSameFamily):
        probs = tf.nn.softmax(distribution.mixture_distribution.logits_parameter())
        components = distribution.components_distribution
        return tf.cumsum(probs), components.loc, components.scale.diag
    return (tf.ones([1]), distribution.loc[tf.newaxis], distribution.scale.diag[tf.newaxis])


def sample_with_noise(cumulative_weights, loc, scale, uniform, normal):
    """z from a mixture of diagonal Gaussians, with all randomness given as inputs.

    cumulative_weights: [K], the mixture CDF (last entry 1); loc, scale: [K, L];
    uniform: [N] in [0, 1) picks component #{k : uniform >= cdf_k}; normal: [N, L] N(0, 1)
    noise. Returns z [N, L] = loc[k] + scale[k] * normal. Only elementary ops, so it
    converts to TFLite and gives the same numbers on every runtime.
    """
    k = tf.reduce_sum(tf.cast(uniform[:, tf.newaxis] >= cumulative_weights[tf.newaxis, :-1], tf.int32),
                      axis=1)
    return tf.gather(loc, k) + tf.gather(scale, k) * normal
