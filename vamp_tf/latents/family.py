"""The contract of a latent family: what a model needs to know about q(z | x).

A family turns an encoder's outputs into a `tfd.Distribution`, draws from it with explicit
noise (so that training, importance sampling and exported graphs are deterministic given
their inputs), and builds the matching mixture for a VampPrior, p(z) = sum_k w_k q(z | u_k).
Models, priors, evaluation and export call only these methods, so a new family (a new
file in vamp_tf/latents/, one name in config.POSTERIORS) changes no other module.
"""

from __future__ import annotations

import abc

import keras
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


class LatentFamily(abc.ABC):
    """q(z | x) and its mixtures for one kind of latent variable.

    Parameters are a tuple of tensors (the encoder head's outputs), named by
    `parameter_names`; each has shape [..., d] with the same leading (batch) dimensions.
    """

    name: str = ""
    parameter_names: tuple = ()
    on_sphere: bool = False  # z lies on the unit sphere (figures draw the sphere for latent_dim 3)

    @abc.abstractmethod
    def head(self, latent_dim: int, name: str) -> keras.layers.Layer:
        """A layer from features [..., in] to the parameter tuple (float32, every precision)."""

    @abc.abstractmethod
    def noise_dim(self, latent_dim: int) -> int:
        """How many standard-normal numbers one draw of a latent_dim latent consumes."""

    @abc.abstractmethod
    def distribution(self, *parameters) -> tfd.Distribution:
        """q(z | x): batch_shape the parameters' leading dimensions, event_shape [latent_dim]."""

    @abc.abstractmethod
    def draw(self, distribution: tfd.Distribution, noise):
        """z from `distribution` with noise [..., noise_dim] N(0, 1) (reparameterized: gradients
        reach the parameters). noise broadcasts against the distribution's batch shape."""

    @abc.abstractmethod
    def location(self, *parameters):
        """The point that represents q(z | x) [..., latent_dim] (reconstructions, active units)."""

    @abc.abstractmethod
    def standard(self, latent_dim: int, dtype=tf.float32) -> tfd.Distribution:
        """The family's fixed prior in `dtype` (batch_shape [], event_shape [latent_dim])."""

    @abc.abstractmethod
    def mixture(self, parameters: tuple, logits=None) -> tfd.MixtureSameFamily:
        """sum_k w_k q(z | parameters_k) for parameters [K, ...] (w = softmax(logits), None:
        uniform): batch_shape [], event_shape [latent_dim]."""

    @abc.abstractmethod
    def mixture_parameters(self, distribution: tfd.Distribution) -> tuple:
        """Tensors that fix a prior built by `standard` or `mixture` for sampling with explicit
        noise (an exported sampler freezes them as constants)."""

    @abc.abstractmethod
    def draw_from_mixture(self, mixture_parameters: tuple, uniform, normal):
        """z [N, latent_dim] from the prior fixed by `mixture_parameters`: uniform [N] in [0, 1)
        picks the component, normal [N, noise_dim] N(0, 1) draws from it. Elementary ops only,
        so that it converts to TFLite."""


def cumulative_weights(mixture: tfd.MixtureSameFamily):
    """[K]: the running sum of a mixture's weights (the first of every family's mixture_parameters)."""
    return tf.cumsum(tf.nn.softmax(mixture.mixture_distribution.logits_parameter()))


def pick_components(cumulative, uniform):
    """[N] int32: the component #{k : uniform >= cumulative_k} for uniform [N] in [0, 1) (elementary
    ops, so that exported samplers convert to TFLite)."""
    return tf.reduce_sum(tf.cast(uniform[:, tf.newaxis] >= cumulative[tf.newaxis, :-1], tf.int32), axis=1)
