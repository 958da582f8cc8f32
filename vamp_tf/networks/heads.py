"""The heads of vamp_tf's networks: features -> a distribution's parameters (Tomczak & Welling,
AISTATS 2018, section 4). GaussianHead gives q(z | x)'s mean and clamped log-variance;
LikelihoodHead an image likelihood's per-pixel parameters, constrained by the likelihood's own
`constrain` (vamp_tf.distributions.Constraint). Outputs are in the layer's variable dtype.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from vamp_tf.networks import serialization
from vamp_tf.networks.fused import side_by_side
from vamp_tf.networks.serialization import register


def _dense(units: int, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, kernel_initializer="he_normal", name=name)


# Clamp of the reference implementation (Hardtanh): keeps the variances of the Gaussian
# posteriors in a trainable range.
LOG_VARIANCE_RANGE = (-6.0, 2.0)

@register
class GaussianHead(keras.layers.Layer):
    """Mean and clamped log-variance of a diagonal Gaussian.

    Call: h [..., in] -> (mean [..., latent_dim], log_variance [..., latent_dim]), the
    log-variance clamped to LOG_VARIANCE_RANGE, in the layer's variable dtype (float32 under
    every mixed policy, float64 for a float64 layer).
    """

    def __init__(self, latent_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.linear = _dense(2 * latent_dim, name="linear")

    def call(self, h):
        # The variable dtype out whatever the compute dtype: densities are float32 under mixed policies.
        mean, log_variance = tf.split(tf.cast(self.linear(h), self.dtype), 2, axis=-1)
        return mean, tf.clip_by_value(log_variance, *LOG_VARIANCE_RANGE)

    def get_config(self):
        return {**serialization.base_config(self), "latent_dim": self.latent_dim}

    def fused_parts(self):
        """The mean's and the log-variance's layers are one variable each: 2 parts (networks.fused)."""
        return side_by_side(self.linear, 2)


def posterior_head(latent_dim: int, family=None, name: str = "head") -> keras.layers.Layer:
    """The layer that gives q(z | x)'s parameters: the latent family's head (vamp_tf.latents), or
    without a family a GaussianHead, (mean, log_variance)."""
    return family.head(latent_dim, name) if family is not None else GaussianHead(latent_dim, name=name)


def likelihood_parameters(raw, param_names, constrain, shape=None, dtype=tf.float32) -> dict:
    """A decoder's raw output -> the likelihood's constrained parameters in `dtype` (the decoder's
    variable dtype: float32 in every precision, float64 for a float64 decoder).

    raw [..., P * k]: the P = len(param_names) parameters side by side on the last axis;
    each piece is reshaped to `shape` when given, then `constrain` makes them valid.
    """
    raw = tf.cast(raw, dtype)
    pieces = tf.split(raw, len(param_names), axis=-1) if len(param_names) > 1 else [raw]
    if shape is not None:
        pieces = [tf.reshape(p, shape) for p in pieces]
    return constrain(dict(zip(param_names, pieces)))


@register
class LikelihoodHead(keras.layers.Layer):
    """Maps features to the (constrained) parameters of an image likelihood.

    Args:
      output_shape: (height, width, channels) of the images.
      param_names: names of the per-pixel parameters, e.g. ('logits',) or
        ('loc', 'log_scale').
      constrain: maps the dict of raw parameters to the dict of constrained ones (a
        distributions.Constraint, or a callable registered with keras.saving).

    Call: h [batch, in] -> {name: [batch, height, width, channels]}.
    """

    def __init__(self, output_shape, param_names, constrain, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(output_shape)
        self.param_names = tuple(param_names)
        self.constrain = constrain
        size = 1
        for d in self.image_shape:
            size *= d
        self.linear = _dense(size * len(self.param_names), name="linear")

    def call(self, h):
        shape = tf.concat([tf.shape(h)[:-1], self.image_shape], axis=0)
        return likelihood_parameters(self.linear(h), self.param_names, self.constrain, shape, self.dtype)

    def get_config(self):
        return {**serialization.base_config(self), "output_shape": list(self.image_shape),
                "param_names": list(self.param_names), "constrain": serialization.constrain_to_config(self.constrain)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(constrain=serialization.constrain_from_config(config.pop("constrain")), **config)

    def fused_parts(self):
        """Each likelihood parameter's layer side by side in one kernel and bias (networks.fused)."""
        return side_by_side(self.linear, len(self.param_names))


