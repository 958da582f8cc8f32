"""The heads of vamp_tf's networks: features -> a distribution's parameters (Tomczak & Welling,
AISTATS 2018, section 4). posterior_head gives q(z | x)'s, from the latent family's own head
(vamp_tf.latents: the Gaussian's GaussianHead, mean and clamped log-variance); LikelihoodHead
an image likelihood's per-pixel parameters, constrained by the likelihood's own `constrain`
(vamp_tf.distributions.Constraint). Outputs are in the layer's variable dtype.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from vamp_tf import serialization
from vamp_tf.latents import GaussianHead
from vamp_tf.fused import side_by_side
from vamp_tf.serialization import register


def _dense(units: int, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, kernel_initializer="he_normal", name=name)


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
        """Each likelihood parameter's layer side by side in one kernel and bias (vamp_tf.fused)."""
        return side_by_side(self.linear, len(self.param_names))


