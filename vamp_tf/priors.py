"""Priors over the latent space, each a Keras layer that builds a `tfd.Distribution`.

- `StandardPrior`: the latent family's fixed prior; `StandardNormalPrior`: N(0, I).
- `MixtureOfGaussiansPrior`: a learnable mixture of K diagonal Gaussians.
- `VampPrior`: the variational mixture of posteriors of Tomczak & Welling, "VAE with a
  VampPrior" (AISTATS 2018): p(z) = (1/K) sum_k q(z | u_k), with K learnable
  pseudo-inputs u_k pushed through the model's own encoder; optionally with learned
  mixture weights, p(z) = sum_k w_k q(z | u_k), w = softmax(logits) (not in the paper).

Every prior's `distribution()` is rebuilt from the current weights on every call (never
cached), has batch_shape [] and event_shape [latent_dim], and is in the layer's dtype (float32,
or float64 for `dtype="float64"`; a VampPrior's is its encoder's output dtype). Calling the layer,
`prior(z)`, gives log p(z) [batch]. Each prior is a built Keras layer (its weights exist from
construction) and is registered for Keras serialization (get_config / from_config). The
priors are usable by any TF model: the VampPrior only needs a callable mapping images to the
parameters of a latent family (vamp_tf.latents; by default the diagonal Gaussian's (mean,
log_variance)); to be saved the Keras way that callable must be a Keras layer.
"""

from __future__ import annotations

from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import latents, serialization
from vamp_tf.latents import DiagonalGaussian, LatentFamily, gaussian_mixture

tfd = tfp.distributions


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} is invalid; it must be an integer >= 1.")


class Prior(keras.layers.Layer):
    """Base class: `distribution()` returns p(z) with event_shape [latent_dim];
    `num_components` is K for a mixture, 0 otherwise. Call: z [..., latent_dim] -> log p(z) [...]
    (z is cast to the distribution's dtype; Keras' autocasting to a mixed policy's compute dtype is off)."""

    num_components = 0

    def __init__(self, latent_dim: int, **kwargs):
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        _check_size("latent_dim", latent_dim)
        self.latent_dim = int(latent_dim)

    def distribution(self) -> tfd.Distribution:
        raise NotImplementedError

    def call(self, z):
        p_z = self.distribution()
        return p_z.log_prob(tf.cast(z, p_z.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1]

    def get_config(self):
        return {**serialization.base_config(self), "latent_dim": self.latent_dim}

    @property
    def has_pseudo_inputs(self) -> bool:
        """True for priors built from learned images (the VampPrior's `pseudo_inputs`)."""
        return False


@serialization.register
class StandardPrior(Prior):
    """The latent family's fixed prior (the Gaussian's: N(0, I)): batch_shape [], event_shape [latent_dim]."""

    def __init__(self, latent_dim: int, family: Optional[LatentFamily] = None, **kwargs):
        super().__init__(latent_dim, **kwargs)
        self.family = family or DiagonalGaussian()
        self.built = True  # no weights

    def distribution(self):
        return self.family.standard(self.latent_dim, self.dtype)

    def get_config(self):
        return {**super().get_config(), "family": self.family.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(family=latents.family_from_config(config.pop("family")), **config)


@serialization.register
class StandardNormalPrior(StandardPrior):
    """p(z) = N(0, I): batch_shape [], event_shape [latent_dim]."""

    def __init__(self, latent_dim: int, **kwargs):
        super().__init__(latent_dim, DiagonalGaussian(), **kwargs)

    def get_config(self):
        return Prior.get_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@serialization.register
class MixtureOfGaussiansPrior(Prior):
    """A learnable mixture of `num_components` diagonal Gaussians.

    Means start at N(0, 1) draws (seeded), log-variances at 0, weights uniform; all three
    are trained. batch_shape [], event_shape [latent_dim].
    """

    def __init__(self, latent_dim: int, num_components: int, seed: int = 0, **kwargs):
        super().__init__(latent_dim, **kwargs)
        _check_size("num_components", num_components)
        self.num_components = int(num_components)
        self.seed = seed
        self.loc = self.add_weight(
            shape=(num_components, latent_dim), name="loc",
            initializer=keras.initializers.RandomNormal(0.0, 1.0, seed=seed))
        self.log_variance = self.add_weight(
            shape=(num_components, latent_dim), name="log_variance", initializer="zeros")
        self.logits = self.add_weight(shape=(num_components,), name="logits", initializer="zeros")
        self.built = True

    def distribution(self):
        return gaussian_mixture(self.loc, self.log_variance, self.logits)

    def get_config(self):
        return {**super().get_config(), "num_components": self.num_components, "seed": self.seed}


@serialization.register
class VampPrior(Prior):
    """The VampPrior: p(z) = (1/K) sum_k q(z | u_k), or sum_k w_k q(z | u_k) with learned weights.

    The pseudo-inputs are a [K, D] variable; u = hardtanh_[0, 1](variable) reshaped to
    images. (The paper's linear layer applied to a K x K identity computes the same function
    with a K x K x D matmul; a direct variable does not.) As in the paper's code, an entry
    outside [0, 1] has zero gradient and stays where it is: a start with mass below 0 holds
    those pixels at 0 for good (N(0, sqrt(2 / K)), which Exemplar VAE's code ends up with,
    holds half of them; docs/long_runs.md).

    Args:
      encoder: callable, images [K, *input_shape] -> the parameters of q(z | u) [K, ...] in
        `family` (the Gaussian's (mean [K, L], log_variance [K, L])); normally the model's own encoder.
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
      family: the latent family of the encoder's outputs (vamp_tf.latents; default Gaussian).

    distribution(): batch_shape [], event_shape [latent_dim]; sampling picks a component
    with probability w_k (1/K by default), then draws from it.
    """

    def __init__(self, encoder: Callable, latent_dim: int, input_shape, num_components: int,
                 init_mean: float = 0.05, init_std: float = 0.01,
                 initial_pseudo_inputs: Optional[np.ndarray] = None, seed: int = 0,
                 learn_weights: bool = False, family: Optional[LatentFamily] = None, **kwargs):
        super().__init__(latent_dim, **kwargs)
        _check_size("num_components", num_components)
        self.encoder = encoder
        self.family = family or DiagonalGaussian()
        self.num_components = int(num_components)
        self.init_mean, self.init_std, self.seed = float(init_mean), float(init_std), seed
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
        self.built = True  # the encoder builds on its first call

    def get_config(self):
        if not isinstance(self.encoder, keras.layers.Layer):
            raise ValueError(f"this VampPrior's encoder is a {type(self.encoder).__name__}, not a Keras layer, so the "
                             "prior cannot be written as a Keras config: build it on a Keras layer (for example "
                             "vamp_tf.networks.Encoder) to save it the Keras way, or save its weights only.")
        return {**super().get_config(), "encoder": serialization.layer_to_config(self.encoder),
                "input_shape": list(self.image_shape), "num_components": self.num_components,
                "init_mean": self.init_mean, "init_std": self.init_std, "seed": self.seed,
                "learn_weights": self.learn_weights, "family": self.family.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(encoder=serialization.layer_from_config(config.pop("encoder")),
                   family=latents.family_from_config(config.pop("family")), **config)

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

    @property
    def has_pseudo_inputs(self) -> bool:
        return True

    def components(self):
        """The K posteriors' parameters (Gaussian: (mean [K, L], log_variance [K, L]))."""
        return _check_encoder_output(self.encoder(self.pseudo_inputs), self.family, self.latent_dim)

    def distribution(self):
        return self.family.mixture(tuple(self.components()), self.logits)


def _check_encoder_output(outputs, family: LatentFamily, latent_dim: int) -> tuple:
    """The encoder's outputs as a tuple, or ValueError naming what it returned and what it must."""
    names = family.parameter_names
    wanted = (f"a tuple ({', '.join(names)}) of the {family.name} family's parameters for its "
              f"latent_dim={latent_dim}; end the encoder with the family's head (e.g. vamp_tf.networks.GaussianHead)")
    if not isinstance(outputs, (tuple, list)):
        raise ValueError(f"this VampPrior's encoder returned one {type(outputs).__name__} of shape "
                         f"{tuple(getattr(outputs, 'shape', ()))}; it must return {wanted}.")
    if len(outputs) != len(names):
        shapes = ", ".join(str(tuple(t.shape)) for t in outputs)
        raise ValueError(f"this VampPrior's encoder returned {len(outputs)} tensors of shapes {shapes}; "
                         f"it must return {wanted}.")
    return tuple(outputs)


def make_prior(config, encoder: Callable, family: Optional[LatentFamily] = None, seed: int = 0) -> Prior:
    """The prior a `ModelConfig` asks for (the one place where its name is dispatched), in the
    latent family `family` (default Gaussian; the mixture of Gaussians exists for it only).

    A VampPrior starts from random pseudo-inputs N(pseudo_mean, pseudo_std); for
    pseudo_init='data' the trainer then calls `VampPrior.initialize_from_data`.
    """
    family = family or DiagonalGaussian()
    if config.prior == "standard":
        return StandardPrior(config.latent_dim, family, name="prior")
    if config.prior == "mog":
        if not isinstance(family, DiagonalGaussian):
            raise ValueError(f"prior='mog' is a mixture of Gaussians; posterior={family.name!r} needs prior='standard' "
                             "or 'vamp'.")
        return MixtureOfGaussiansPrior(config.latent_dim, config.num_components, seed=seed, name="prior")
    return VampPrior(encoder, config.latent_dim, config.input_shape, config.num_components,
                     init_mean=config.pseudo_mean, init_std=config.pseudo_std, seed=seed,
                     learn_weights=config.component_weights == "learned", family=family, name="prior")
