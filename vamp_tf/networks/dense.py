"""Gated MLP networks of the VampPrior paper (Tomczak & Welling, AISTATS 2018, section 4).

Keras 3 layers; tensors in, tensors out. Turning outputs into distributions is the job
of `vamp_tf.distributions` and `vamp_tf.models`; the likelihood's own parameter
constraints (`constrain`) come from vamp_tf.distributions.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import keras
import tensorflow as tf

from vamp_tf import latents, serialization
from vamp_tf.networks.decoding import PairDecoder
from vamp_tf.fused import side_by_side
from vamp_tf.networks.heads import LikelihoodHead, posterior_head
from vamp_tf.serialization import register


def _dense(units: int, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, kernel_initializer="he_normal", name=name)


@register
class GatedDense(keras.layers.Layer):
    """Gated dense layer: h(x) * sigmoid(g(x)) (Dauphin et al., 2017).

    h and g are computed by one [in, 2 * units] matmul, which is the same function as
    two separate dense layers and faster.

    Args:
      units: output width.
      activation: optional activation applied to h.

    Call: x [..., in] float32 -> [..., units] float32.
    """

    def __init__(self, units: int, activation: Optional[Callable] = None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.linear = _dense(2 * units, name="linear")

    def call(self, x):
        h, g = tf.split(self.linear(x), 2, axis=-1)
        return self.activation(h) * tf.sigmoid(g)

    def fused_parts(self):
        """h's and g's kernels and biases are one variable each: 2 parts (vamp_tf.fused)."""
        return side_by_side(self.linear, 2)

    def get_config(self):
        return {**serialization.base_config(self), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


class _Stack(keras.layers.Layer):
    """Layers applied one after the other, x [..., in] -> [..., units[-1]], one block per width.

    The blocks are attributes (PREFIX_0, PREFIX_1, ...), not a list: tf.train.Checkpoint
    does not see inside Keras 3's tracked lists, and would silently skip their weights.
    """

    prefix = ""

    def __init__(self, units: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.units = [int(u) for u in units]
        self.num_blocks = len(units)
        for i, u in enumerate(units):
            setattr(self, f"{self.prefix}_{i}", self.block(u, f"{self.prefix}_{i}"))

    def block(self, units: int, name: str) -> keras.layers.Layer:
        raise NotImplementedError

    def call(self, x):
        for i in range(self.num_blocks):
            x = getattr(self, f"{self.prefix}_{i}")(x)
        return x

    def get_config(self):
        return {**serialization.base_config(self), "units": list(self.units)}


@register
class GatedMLP(_Stack):
    """A stack of GatedDense layers (gated_0, gated_1, ...)."""

    prefix = "gated"

    def block(self, units, name):
        return GatedDense(units, name=name)


@register
class ReluMLP(_Stack):
    """A stack of ReLU dense layers (dense_0, dense_1, ...): the S-VAE's networks (Davidson et al.,
    UAI 2018), no gates."""

    prefix = "dense"

    def block(self, units, name):
        return keras.layers.Dense(units, activation="relu", kernel_initializer="he_normal", name=name)


@register
class Encoder(keras.layers.Layer):
    """q(z | x): images -> posterior parameters.

    Args:
      latent_dim: size of z.
      hidden_units: width of the two gated layers.
      family: the latent family (vamp_tf.latents) whose head gives the posterior's
        parameters; default None: a GaussianHead, (mean, log_variance).
      body: the layer from flattened images to features; default the paper's two gated layers
        of hidden_units (GatedMLP).

    Call: x [batch, height, width, channels] float32 in [0, 1] -> the head's parameters
      (GaussianHead: (mean [batch, latent_dim], log_variance [batch, latent_dim])).
    """

    def __init__(self, latent_dim: int, hidden_units: int = 300, family=None, body=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.hidden_units = hidden_units
        self.family_name = serialization.family_to_config(family)
        self._custom_body = body is not None
        self.body = body if body is not None else GatedMLP([hidden_units, hidden_units], name="body")
        self.head = posterior_head(latent_dim, family)

    def call(self, x):
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        return self.head(self.body(x))

    def get_config(self):
        return {**serialization.base_config(self), "latent_dim": self.latent_dim, "hidden_units": self.hidden_units,
                "family": self.family_name, "body": serialization.layer_to_config(self.body if self._custom_body else None)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(family=latents.family_from_config(config.pop("family")),
                   body=serialization.layer_from_config(config.pop("body")), **config)


@register
class Decoder(keras.layers.Layer):
    """p(x | z): latents -> per-pixel likelihood parameters.

    Args:
      output_shape: (height, width, channels) of the images.
      hidden_units: width of the two gated layers.
      param_names, constrain: the likelihood's parameters, see LikelihoodHead.
      body: the layer from z to features; default the paper's two gated layers (GatedMLP).

    Call: z [batch, latent_dim] -> {param name: [batch, height, width, channels]}.
    """

    def __init__(self, output_shape, hidden_units, param_names, constrain, body=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self._custom_body = body is not None
        self.body = body if body is not None else GatedMLP([hidden_units, hidden_units], name="body")
        self.head = LikelihoodHead(output_shape, param_names, constrain, name="head")

    def call(self, z):
        return self.head(self.body(z))

    def get_config(self):
        head = self.head.get_config()
        return {**serialization.base_config(self), "output_shape": head["output_shape"],
                "hidden_units": self.hidden_units, "param_names": head["param_names"], "constrain": head["constrain"],
                "body": serialization.layer_to_config(self.body if self._custom_body else None)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(constrain=serialization.constrain_from_config(config.pop("constrain")),
                   body=serialization.layer_from_config(config.pop("body")), **config)


@register
class PairMLP(keras.layers.Layer):
    """Two inputs, each through its own GatedDense, concatenated, then one GatedDense.

    The HVAE's q(z1 | x, z2) and p(x | z1, z2) bodies. `first_features` can be computed
    once and reused when `a` is shared by many `b` (one image, many z2 samples).

    Call: (a [batch, da], b [batch, db]) -> [batch, hidden_units].
    """

    def __init__(self, hidden_units: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.first = GatedDense(hidden_units, name="first")
        self.second = GatedDense(hidden_units, name="second")
        self.joint = GatedDense(hidden_units, name="joint")

    def first_features(self, a):
        """a [batch, ...] (images are flattened) -> [batch, hidden_units]."""
        return self.first(tf.reshape(a, [tf.shape(a)[0], -1]) if a.shape.rank != 2 else a)

    def joint_features(self, first_features, b):
        return self.joint(tf.concat([first_features, self.second(b)], axis=-1))

    def call(self, a, b):
        return self.joint_features(self.first_features(a), b)

    def get_config(self):
        return {**serialization.base_config(self), "hidden_units": self.hidden_units}


@register
class DensePairDecoder(PairDecoder):
    """p(x | z1, z2) of the dense HVAE: a PairMLP body and a LikelihoodHead.

    Args: image_shape (height, width, channels), hidden_units, param_names and constrain (the
    likelihood's, see LikelihoodHead). Call: (z1 [N, L], z2 [N, L]) -> {param: [N, H, W, C]}.
    """

    def __init__(self, image_shape, hidden_units, param_names, constrain, **kwargs):
        super().__init__(**kwargs)
        self.body = PairMLP(hidden_units, name="body")
        self.head = LikelihoodHead(image_shape, param_names, constrain, name="head")

    def call(self, z1, z2, x=None):
        return self.head(self.body(z1, z2))

    def get_config(self):
        head = self.head.get_config()
        return {**serialization.base_config(self), "image_shape": head["output_shape"],
                "hidden_units": self.body.hidden_units, "param_names": head["param_names"],
                "constrain": head["constrain"]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(constrain=serialization.constrain_from_config(config.pop("constrain")), **config)
