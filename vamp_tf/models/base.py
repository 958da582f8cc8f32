"""The contract of vamp_tf's latent-variable models (Tomczak & Welling, AISTATS 2018).

Every model defines `log_densities(x, noise, prior)`: the per-image, per-sample terms
log p(x|z), log p(z), log q(z|x) for S samples; the ELBO is its S = 1 case (`call`) and the
importance-sampled log-likelihood (vamp_tf.evaluation) its S = 5000 case. Randomness is an
input: `noise` is standard normal, [batch, S, noise_dim]. Evaluation, export and the trainer
rely on this contract only; models.vae and models.hvae implement it.

A model is built from parts, each made by one factory and injected: the likelihood
(vamp_tf.distributions), the latent family of q(z | x) (vamp_tf.latents), the networks
(vamp_tf.networks) and the prior (vamp_tf.priors).
"""

from __future__ import annotations

import abc
import dataclasses

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import distributions, latents, networks
from vamp_tf.config import ModelConfig
from vamp_tf.models.fit import FitAdapter
from vamp_tf import serialization

tfd = tfp.distributions


def _key(seed, salt: int):
    """A shape [2] int32 stateless seed: an int seed paired with `salt`, or the given key."""
    if np.ndim(seed) == 0:
        return tf.stack([tf.cast(seed, tf.int32), tf.constant(salt, tf.int32)])
    return tf.convert_to_tensor(seed, tf.int32)


class LatentVariableModel(FitAdapter, keras.Model, metaclass=abc.ABCMeta):
    """Shared machinery; subclasses define the abstract members below (`noise_dim`,
    `log_densities`, `posterior_means`, `prior_latent`, `latent_width`, `decode`, `generate`,
    `reconstruct`). Nothing is stored on the model inside `call`.

    Attributes: config (ModelConfig), likelihood (distributions.Likelihood), family (the latent
    family of every q and conditional p, latents.LatentFamily), prior (a priors.Prior layer),
    precision (the Keras dtype policy of the networks' layers).

    Args:
      config: ModelConfig.
      prior_seed: seed of the prior's initialisation (pseudo-inputs, mixture means).
      noise_seed: seeds the noise of calls and fit batches that bring none.
      precision: the dtype policy the parts are built under ('float32', 'mixed_bfloat16',
        'mixed_float16'; see models.build_model). The model itself computes its densities in float32.
    Keras serialization: registered as vamp_tf>VAE / vamp_tf>HVAE; get_config holds the ModelConfig
    as a dict, the seeds and the precision, and from_config builds every weight, so `model.save(
    "m.keras")` and `keras.models.load_model("m.keras")` round-trip a trained model.
    """

    def __init__(self, config: ModelConfig, prior_seed: int = 0, noise_seed: int = 0, precision: str = "float32",
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.config = config
        self.prior_seed, self.precision = int(prior_seed), precision
        self.likelihood = distributions.get_likelihood(config.likelihood, config.probability_clamp)
        self.family = latents.make_family(config.posterior)
        self._init_fit(noise_seed)
        with serialization.global_policy(precision):  # the parts take the policy; the model stays float32
            self.build_parts(config, self.prior_seed)

    @abc.abstractmethod
    def build_parts(self, config: ModelConfig, prior_seed: int) -> None:
        """Creates the networks and the prior (as attributes), in the order that fixes the initial weights."""

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "dtype": keras.dtype_policies.serialize(self.dtype_policy),
                "config": {**dataclasses.asdict(self.config), "input_shape": list(self.config.input_shape)},
                "prior_seed": self.prior_seed, "noise_seed": self.noise_seed, "precision": self.precision}

    @classmethod
    def from_config(cls, config):
        """The model a get_config describes, with every weight created (and, for initialization='reference',
        drawn the paper's code's way from prior_seed, as build_model does); load_model then sets them."""
        config = dict(config)
        model = cls(ModelConfig.from_dict(config.pop("config")), **config)
        model.build_weights()
        if model.config.initialization == "reference":
            networks.initialize_like_reference(model, model.prior_seed)
        return model

    # --- inputs ---------------------------------------------------------------------
    def check_images(self, x):
        """Validates images: shape [batch, *input_shape] always; finite and in [0, 1]
        when executing eagerly (a traced graph cannot raise on values)."""
        x = tf.convert_to_tensor(x, dtype=tf.float32)
        expected = tuple(self.config.input_shape)
        if x.shape.rank != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"x has shape {tuple(x.shape)}; expected [batch, {', '.join(map(str, expected))}] "
                "(batch of height x width x channels images in [0, 1]).")
        if tf.executing_eagerly():
            values = x.numpy()
            if not np.all(np.isfinite(values)):
                raise ValueError("x contains NaN or infinite pixels; pixels must be finite, in [0, 1].")
            if values.size and (values.min() < 0.0 or values.max() > 1.0):
                raise ValueError(
                    f"x has pixels in [{values.min():g}, {values.max():g}]; pixels must be in [0, 1] "
                    "(divide 8-bit images by 255).")
        return x

    # --- the contract ---------------------------------------------------------------
    @property
    @abc.abstractmethod
    def noise_dim(self) -> int:
        """How many N(0, 1) numbers one sample of every latent takes (the last axis of `noise`)."""

    @abc.abstractmethod
    def log_densities(self, x, noise, prior: tfd.Distribution) -> dict:
        """Per-image, per-sample log-densities.

        x: [batch, height, width, channels] in [0, 1]; noise: [batch, S, noise_dim] N(0, 1);
        prior: p(z) (pass `self.prior.distribution()`; build it once for many calls).
        Returns {'reconstruction': log p(x|z), 'log_prior': log p(z),
        'log_posterior': log q(z|x), ...}, each [batch, S].
        """

    @abc.abstractmethod
    def posterior_means(self, x) -> dict:
        """{'z' or 'z1', 'z2': the posterior's location [batch, latent_dim] (family.location)},
        for active units and reconstructions."""

    @property
    @abc.abstractmethod
    def prior_latent(self) -> str:
        """The key of `posterior_means` for the latent that the prior is on."""

    @property
    @abc.abstractmethod
    def latent_width(self) -> int:
        """Width of the z that `decode` takes (HVAE: [z1, z2] concatenated)."""

    @abc.abstractmethod
    def decode(self, z) -> tfd.Distribution:
        """p(x | z) for z [N, latent_width]: batch_shape [N], event_shape [H, W, C]."""

    @abc.abstractmethod
    def generate(self, uniform, normal, prior_parameters=None) -> tfd.Distribution:
        """p(x | z) at z drawn from the prior with the given noise.

        uniform: [N] in [0, 1), picks the mixture component; normal: [N, noise_dim].
        prior_parameters: the prior's tensors, as returned by prior_parameters(); None computes
          them from the current weights (an exported sampler passes them frozen, so pseudo-inputs
          are not re-encoded).
        """

    def legacy_checkpoint_children(self) -> dict:
        """{name: layer} under which checkpoints of an older layout hold the model's layers, where
        that layout differs from today's; {} when it does not (vamp_tf.checkpoints.ModelCheckpoint)."""
        return {}

    def prior_parameters(self):
        """The current prior's tensors for sampling with explicit noise (the family's
        mixture_parameters; Gaussian: (cumulative weights [K], loc [K, L], scale [K, L]))."""
        return self.family.mixture_parameters(self.prior.distribution())

    @property
    def autoregressive(self) -> bool:
        """True when p(x | z) is autoregressive over pixels (the PixelHVAE): images are then
        generated pixel by pixel, and generation takes per-pixel uniform noise."""
        return False

    def decode_images(self, z, pixel_uniform=None):
        """Images from p(x | z), z [N, latent_width] -> [N, H, W, C]: E[x | z] (decode(z).mean()).

        Autoregressive models draw pixel i with pixel_uniform[:, i] (inverse CDF) given the
        pixels drawn before it, and return at every pixel the mean of its conditional
        E[x_i | x_<i, z]; pixel_uniform [N, H, W, C] in [0, 1) is required then, ignored otherwise.
        """
        return self.decode(z).mean()

    def generate_images(self, uniform, normal, pixel_uniform=None, prior_parameters=None):
        """Images generated from the prior with the given noise: decode_images at z drawn by
        `generate`'s rule (uniform [N], normal [N, noise_dim], prior_parameters as there)."""
        return self.generate(uniform, normal, prior_parameters).mean()

    def encode(self, x) -> dict:
        """The parameters of q(z | x) for the latent the prior is on (the HVAE's: q(z2 | x)), by the
        latent family's names: {'mean', 'log_variance'} [batch, latent_dim] for the Gaussian. The
        same as the exported SavedModel's `encode` signature. x: images [batch, *input_shape] in [0, 1]."""
        return dict(zip(self.family.parameter_names, self.encoder(self.check_images(x))))

    @abc.abstractmethod
    def reconstruct(self, x, seed=0):
        """Images decoded at the posterior mean(s): [batch, height, width, channels]: the mean
        of p(x | z) (autoregressive models: decode_images with pixel noise from `seed`)."""

    # --- derived --------------------------------------------------------------------
    def __call__(self, x, *args, **kwargs):
        # Bad images are refused here, before Keras' __call__, which would wrap the error in "Exception
        # encountered when calling VAE.call()" with terminal colours and every argument, passed or not.
        if not isinstance(x, keras.KerasTensor):
            x = self.check_images(x)
        return super().__call__(x, *args, **kwargs)

    def call(self, x, noise=None, seed=None, training=False):
        """One-sample ELBO terms, per image.

        x: [batch, height, width, channels] in [0, 1] (numpy array or tensor).
        noise: [batch, noise_dim] N(0, 1); or seed: a shape [2] int seed from which
          tf.random.stateless_normal draws it (neither: the seed (noise_seed, 0), so the
          same call gives the same numbers).
        Returns {'reconstruction': log p(x|z), 'kl': log q(z|x) - log p(z),
        'elbo': reconstruction - kl, ...}, each [batch]. Warm-up (beta) is applied by the
        loss (vamp_tf.objectives), not here.
        """
        x = self.check_images(x)
        if noise is None:
            if seed is None:
                seed = tf.constant([self.noise_seed, 0], tf.int64)
            noise = tf.random.stateless_normal([tf.shape(x)[0], self.noise_dim], seed=seed)
        terms = self.log_densities(x, noise[:, tf.newaxis, :], self.prior.distribution())
        out = {name: value[:, 0] for name, value in terms.items()}
        out["kl"] = out["log_posterior"] - out["log_prior"]
        out["elbo"] = out["reconstruction"] - out["kl"]
        return out

    def _prior_noise(self, num_samples: int, key):
        """(uniform [N], normal [N, noise_dim]): the noise that draws z ~ p(z) for a shape [2] key."""
        uniform_seed, normal_seed = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        return (tf.random.stateless_uniform([num_samples], seed=uniform_seed),
                tf.random.stateless_normal([num_samples, self.noise_dim], seed=normal_seed))

    def sample(self, num_samples: int, seed=0):
        """Images drawn from the model, x ~ p(x | z), z ~ p(z) (TFP's meaning of `sample`): binary
        images for the Bernoulli, values on the grid p / 255 for the discretized logistic.

        seed: an int or a shape [2] int tensor. Returns [num_samples, height, width, channels].
        The z of a seed are those of `mean_images` with the same seed.
        """
        key = _key(seed, 0x5eed)
        uniform, normal = self._prior_noise(num_samples, key)
        return self.draw_images(uniform, normal, self._pixel_noise(num_samples, key))

    def draw_images(self, uniform, normal, pixel_uniform, prior_parameters=None):
        """x ~ p(x | z) [N, H, W, C] at z drawn by `generate`'s rule (uniform [N], normal [N, noise_dim]),
        every pixel drawn by the likelihood's inverse CDF from pixel_uniform [N, H, W, C] in [0, 1)
        (autoregressive models: pixel by pixel)."""
        pixels = self.generate(uniform, normal, prior_parameters).distribution  # per pixel, under tfd.Independent
        return self.likelihood.from_uniform({name: getattr(pixels, name) for name in self.likelihood.param_names},
                                            pixel_uniform)

    def prior_z(self, uniform, normal, prior_parameters=None):
        """z [N, latent_width] drawn from the prior by `generate`'s rule: uniform [N] in [0, 1) picks the
        mixture component, normal [N, noise_dim] drives z (and, in the HVAE, z1 given z2)."""
        raise NotImplementedError

    def images_at(self, z, pixel_uniform):
        """(drawn, means) at z [N, latent_width]: x ~ p(x | z), each pixel drawn by the likelihood's inverse
        CDF from pixel_uniform [N, H, W, C] in [0, 1), and E[x | z] (autoregressive models: pixel by pixel,
        the means of each pixel's conditional given the pixels drawn before it)."""
        likelihood = self.decode(z)
        pixels = likelihood.distribution
        drawn = self.likelihood.from_uniform({name: getattr(pixels, name) for name in self.likelihood.param_names},
                                             pixel_uniform)
        return drawn, likelihood.mean()

    def mean_images(self, num_samples: int, seed=0):
        """The mean images E[x | z] of z ~ p(z), [num_samples, height, width, channels] (autoregressive
        models: E[x_i | x_<i drawn, z] at every pixel); what the samples figures show.

        seed: an int or a shape [2] int tensor.
        """
        key = _key(seed, 0x5eed)
        uniform, normal = self._prior_noise(num_samples, key)
        return self.generate_images(uniform, normal, self._pixel_uniform(num_samples, key))

    def _pixel_noise(self, n, seed):
        """[n, H, W, C] uniform noise of each pixel's draw from an int or shape [2] seed."""
        key = tf.random.experimental.stateless_fold_in(_key(seed, 0x9e1), 0x9e1)
        return tf.random.stateless_uniform(tf.concat([[n], self.config.input_shape], 0), seed=key)

    def _pixel_uniform(self, n, seed):
        """_pixel_noise for autoregressive decoding; None for other models (their means need no pixel noise)."""
        return self._pixel_noise(n, seed) if self.autoregressive else None

    def _likelihood(self, params) -> tfd.Distribution:
        """The likelihood p(x | z) from decoder outputs {param: [..., H, W, C]}."""
        return self.likelihood.make(**params)

    def build(self, input_shape=None):  # pylint: disable=unused-argument
        # Sub-layers create their weights on first use; there is nothing else to build.
        self.built = True

    def build_weights(self):
        """Creates every variable (a call on one blank image); returns self."""
        self(tf.zeros((1,) + tuple(self.config.input_shape)), noise=tf.zeros([1, self.noise_dim]))
        return self
