"""VAE and two-level HVAE with standard, mixture or VampPrior priors.

Tomczak & Welling, "VAE with a VampPrior", AISTATS 2018: the one-layer VAE (section 2)
and the hierarchical model of section 3.2 (q(z2|x) q(z1|x,z2), p(z2) p(z1|z2) p(x|z1,z2),
with the prior on z2).

Both models share one contract, `log_densities(x, noise, prior)`, which returns the
per-image, per-sample terms log p(x|z), log p(z), log q(z|x) for S samples; the ELBO is
its S = 1 case and the importance-sampled log-likelihood (vamp_tf.evaluation) its
S = 5000 case. Randomness is an input: `noise` is standard normal, [batch, S, noise_dim].

The models train with vamp_tf's trainer (trainers/main.py) or, inside other Keras code,
with `model.compile(optimizer); model.fit(dataset, callbacks=[KLWarmup(100)])`: both run
vamp_tf.step.train_step, the one definition of a step.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import distributions, networks, objectives, priors, step
from vamp_tf.config import ModelConfig

tfd = tfp.distributions


def _diagonal_gaussian(mean, log_variance):
    return tfd.MultivariateNormalDiag(loc=mean, scale_diag=tf.exp(0.5 * log_variance))


def _reparameterize(q, noise):
    """z = loc + scale * noise for a diagonal Gaussian q (gradients flow to loc and scale)."""
    return q.loc + q.scale.diag * noise


def _key(seed, salt: int):
    """A shape [2] int32 stateless seed: an int seed paired with `salt`, or the given key."""
    if np.ndim(seed) == 0:
        return tf.stack([tf.cast(seed, tf.int32), tf.constant(salt, tf.int32)])
    return tf.convert_to_tensor(seed, tf.int32)


FIT_TERMS = ("elbo", "reconstruction", "kl")  # metrics of fit / evaluate, besides 'loss'


class KLWarmup(keras.callbacks.Callback):
    """KL warm-up for `model.fit`: sets model.kl_weight to min(1, epoch / warmup_epochs)
    at the start of every (1-based) epoch, the schedule of the paper and of vamp_tf's trainer."""

    def __init__(self, warmup_epochs: int = 100):
        super().__init__()
        self.warmup_epochs = warmup_epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.kl_weight.assign(objectives.warmup_beta(epoch + 1, self.warmup_epochs))


class _FitState:
    """What compile / fit / evaluate keep between steps: the KL weight and the metrics."""

    def __init__(self):
        self.kl_weight = tf.Variable(1.0, trainable=False, name="kl_weight")
        self.metrics = [keras.metrics.Mean(name=name) for name in ("loss",) + FIT_TERMS]


class LatentVariableModel(keras.Model):
    """Shared machinery; subclasses define `noise_dim`, `log_densities`, `posterior_means`,
    `reconstruct` and `generate`. Nothing is stored on the model inside `call`.
    """

    def __init__(self, config: ModelConfig, noise_seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.likelihood = distributions.get_likelihood(config.likelihood, config.probability_clamp)
        self.noise_seed = int(noise_seed)  # seeds the noise of fit/evaluate batches that bring none
        self._fit = _FitState()  # a plain object: its state is not part of the model's checkpoints

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
    def noise_dim(self) -> int:
        raise NotImplementedError

    def log_densities(self, x, noise, prior: tfd.Distribution) -> dict:
        """Per-image, per-sample log-densities.

        x: [batch, height, width, channels] in [0, 1]; noise: [batch, S, noise_dim] N(0, 1);
        prior: p(z) (pass `self.prior.distribution()`; build it once for many calls).
        Returns {'reconstruction': log p(x|z), 'log_prior': log p(z),
        'log_posterior': log q(z|x), ...}, each [batch, S].
        """
        raise NotImplementedError

    def posterior_means(self, x) -> dict:
        """{'z' or 'z1', 'z2': posterior mean [batch, latent_dim]}, for active units."""
        raise NotImplementedError

    @property
    def prior_latent(self) -> str:
        """The key of `posterior_means` for the latent that the prior is on."""
        raise NotImplementedError

    @property
    def latent_width(self) -> int:
        """Width of the z that `decode` takes (HVAE: [z1, z2] concatenated)."""
        raise NotImplementedError

    def decode(self, z) -> tfd.Distribution:
        """p(x | z) for z [N, latent_width]: batch_shape [N], event_shape [H, W, C]."""
        raise NotImplementedError

    def generate(self, uniform, normal, prior_parameters=None) -> tfd.Distribution:
        """p(x | z) at z drawn from the prior with the given noise.

        uniform: [N] in [0, 1), picks the mixture component; normal: [N, noise_dim].
        prior_parameters: (cumulative weights, loc, scale) of the prior, as returned by
          priors.mixture_parameters; None computes them from the current weights (an
          exported sampler passes them frozen, so pseudo-inputs are not re-encoded).
        """
        raise NotImplementedError

    def prior_parameters(self):
        """(cumulative weights [K], loc [K, L], scale [K, L]) of the current prior."""
        return priors.mixture_parameters(self.prior.distribution())

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

    def reconstruct(self, x, seed=0):
        """Images decoded at the posterior mean(s): [batch, height, width, channels]: the mean
        of p(x | z) (autoregressive models: decode_images with pixel noise from `seed`)."""
        raise NotImplementedError

    # --- derived --------------------------------------------------------------------
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

    def sample(self, num_samples: int, seed=0):
        """Images generated from the prior: the mean of p(x | z), z ~ p(z).

        seed: an int or a shape [2] int tensor. Returns [num_samples, height, width, channels].
        """
        key = _key(seed, 0x5eed)
        uniform_seed, normal_seed = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        uniform = tf.random.stateless_uniform([num_samples], seed=uniform_seed)
        normal = tf.random.stateless_normal([num_samples, self.noise_dim], seed=normal_seed)
        return self.generate_images(uniform, normal, self._pixel_uniform(num_samples, key))

    def _pixel_uniform(self, n, seed):
        """[n, H, W, C] uniform noise for autoregressive decoding from an int or shape [2] seed;
        None for other models (the pixel noise is drawn only where it is used)."""
        if not self.autoregressive:
            return None
        key = tf.random.experimental.stateless_fold_in(_key(seed, 0x9e1), 0x9e1)
        return tf.random.stateless_uniform(tf.concat([[n], self.config.input_shape], 0), seed=key)

    # --- Keras compile / fit ----------------------------------------------------------
    def compile(self, optimizer="adam", **kwargs):
        """Prepares `fit` / `evaluate`: the loss is the negative ELBO (with the KL weight
        `kl_weight`, 1 unless a KLWarmup callback sets it); metrics 'loss', 'elbo',
        'reconstruction', 'kl' are means per image over the epoch."""
        if kwargs.get("loss") is not None:
            raise ValueError("compile(loss=...) is not supported: the loss of a vamp_tf model is its negative ELBO. "
                             "Call compile(optimizer) only.")
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def kl_weight(self) -> tf.Variable:
        """beta of fit's loss -(reconstruction - beta * kl); set by KLWarmup (default 1)."""
        return self._fit.kl_weight

    @property
    def metrics(self):
        return list(self._fit.metrics)

    def _fit_batch(self, data):
        """(images, noise) of a fit/evaluate batch: images, (images,) or (images, noise).
        Batches without noise get it from (noise_seed, the optimizer's step, the replica)."""
        if isinstance(data, (tuple, list)):
            images, noise = (data[0], data[1]) if len(data) > 1 else (data[0], None)
        else:
            images, noise = data, None
        images = tf.convert_to_tensor(images, tf.float32)
        if noise is None:
            replica = tf.distribute.get_replica_context()
            replica_id = replica.replica_id_in_sync_group if replica is not None else 0
            step_index = self.optimizer.iterations if self.optimizer is not None else tf.constant(0, tf.int64)
            key = tf.random.experimental.stateless_fold_in(
                tf.stack([tf.constant(self.noise_seed, tf.int64), tf.cast(step_index, tf.int64)]), replica_id)
            noise = tf.random.stateless_normal([tf.shape(images)[0], self.noise_dim], seed=key)
        return images, noise

    def _update_fit_metrics(self, sums, batch):
        batch = tf.cast(batch, tf.float32)
        values = dict(zip(step.TRAIN_TERMS, tf.unstack(sums)))
        for metric in self._fit.metrics:
            metric.update_state(values[metric.name] / batch, sample_weight=batch)
        return {metric.name: metric.result() for metric in self._fit.metrics}

    def train_step(self, data):
        images, noise = self._fit_batch(data)
        batch = tf.shape(images)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        global_batch = tf.cast(batch * replicas, tf.float32)
        sums = step.train_step(self, self.optimizer, images, noise, self.kl_weight, global_batch, check_finite=True)
        return self._update_fit_metrics(sums, batch)

    def fit(self, *args, **kwargs):
        """keras.Model.fit, with the trainer's rule: a batch with non-finite pixels raises ValueError,
        a non-finite loss step.NonFiniteLoss, both before that step changes any weight (the model keeps
        the weights of the last finite step)."""
        try:
            return super().fit(*args, **kwargs)
        except tf.errors.InvalidArgumentError as e:
            done = int(self.optimizer.iterations.numpy()) if self.optimizer is not None else 0
            kept = f"no weight was updated by it: the model keeps the weights after step {done}"
            if step.NONFINITE_IMAGES in (e.message or ""):
                raise ValueError(f"fit stopped at step {done + 1}: a batch of images holds NaN or infinite pixels; "
                                 f"{kept}. Pixels must be finite, in [0, 1]: clean the data.") from None
            if step.OUT_OF_RANGE in (e.message or ""):
                raise ValueError(f"fit stopped at step {done + 1}: a batch of images has pixels outside [0, 1]; {kept}. "
                                 "Pixels must be in [0, 1] (divide 8-bit images by 255).") from None
            if step.NONFINITE_LOSS in (e.message or ""):
                raise step.NonFiniteLoss(f"fit stopped at step {done + 1}: the loss is NaN or infinite; {kept}. "
                                         "Lower the learning rate (or use vamp_tf.optimizers.AdamNormGrad), or check "
                                         "the noise passed with the images.") from None
            raise

    def test_step(self, data):
        images, noise = self._fit_batch(data)
        terms = self(images, noise=noise)
        sums = step.batch_sums(terms, objectives.negative_elbo(terms))
        return self._update_fit_metrics(sums, tf.shape(images)[0])

    def _likelihood(self, params) -> tfd.Distribution:
        """The likelihood p(x | z) from decoder outputs {param: [..., H, W, C]}."""
        return self.likelihood.make(**params)

    def build(self, input_shape=None):
        # Sub-layers create their weights on first use; there is nothing else to build.
        self.built = True

    def build_weights(self):
        """Creates every variable (a call on one blank image); returns self."""
        self(tf.zeros((1,) + tuple(self.config.input_shape)), noise=tf.zeros([1, self.noise_dim]))
        return self


class VAE(LatentVariableModel):
    """The one-layer VAE: q(z|x) = N(mu(x), diag sigma^2(x)), p(x|z), and a prior p(z).

    Args:
      config: ModelConfig.
      prior_seed: seed of the prior's initialisation (pseudo-inputs, mixture means).
    """

    def __init__(self, config: ModelConfig, prior_seed: int = 0, **kwargs):
        super().__init__(config, **kwargs)
        self.encoder = networks.Encoder(config.latent_dim, config.hidden_units, name="encoder")
        self.decoder = networks.Decoder(config.input_shape, config.hidden_units,
                                        self.likelihood.param_names, self.likelihood.constrain,
                                        name="decoder")
        self.prior = priors.make_prior(config, self.encoder, seed=prior_seed)

    @property
    def noise_dim(self):
        return self.config.latent_dim

    def posterior(self, x) -> tfd.Distribution:
        """q(z | x): batch_shape [batch], event_shape [latent_dim]."""
        return _diagonal_gaussian(*self.encoder(x))

    def log_densities(self, x, noise, prior):
        mean, log_variance = self.encoder(x)
        q = _diagonal_gaussian(mean[:, tf.newaxis], log_variance[:, tf.newaxis])  # batch [B, 1]
        z = _reparameterize(q, noise)                                               # [B, S, L]
        likelihood = self._decode_samples(z)
        return {"reconstruction": likelihood.log_prob(x[:, tf.newaxis]),
                "log_prior": prior.log_prob(z),
                "log_posterior": q.log_prob(z)}

    def _decode_samples(self, z):
        """p(x | z) for z [B, S, L]: batch_shape [B, S]."""
        shape = tf.shape(z)
        params = self.decoder(tf.reshape(z, [-1, shape[-1]]))
        return self._likelihood({k: tf.reshape(v, tf.concat([shape[:2], tf.shape(v)[1:]], 0))
                                 for k, v in params.items()})

    def posterior_means(self, x):
        return {"z": self.encoder(x)[0]}

    @property
    def prior_latent(self):
        return "z"

    @property
    def latent_width(self):
        return self.config.latent_dim

    def decode(self, z):
        return self._likelihood(self.decoder(z))

    def generate(self, uniform, normal, prior_parameters=None):
        z = priors.sample_with_noise(*(prior_parameters or self.prior_parameters()), uniform, normal)
        return self.decode(z)

    def reconstruct(self, x, seed=0):
        x = self.check_images(x)
        return self.decode(self.encoder(x)[0]).mean()


class HVAE(LatentVariableModel):
    """The two-level hierarchical VAE (paper, section 3.2), prior on z2.

    q(z2 | x) q(z1 | x, z2) and p(z2) p(z1 | z2) p(x | z1, z2); z1 and z2 both have
    config.latent_dim units. noise_dim = 2 * latent_dim: noise[..., :L] drives z2 and
    noise[..., L:] drives z1. `decode` takes z = [z1, z2] (width 2 * latent_dim).
    """

    def __init__(self, config: ModelConfig, prior_seed: int = 0, **kwargs):
        super().__init__(config, **kwargs)
        hidden, latent, shape = config.hidden_units, config.latent_dim, config.input_shape
        # 'conv' (the paper's convHVAE) and 'pixelcnn' (PixelHVAE) share the convolutional encoders;
        # the rest of the model is shared by all three architectures.
        conv = config.architecture in ("conv", "pixelcnn")
        self.encoder = (networks.ConvEncoder(shape, latent, name="encoder") if conv
                        else networks.Encoder(latent, hidden, name="encoder"))  # q(z2 | x)
        self.q_z1_body = (networks.ConvPair(shape, hidden, name="q_z1_body") if conv
                          else networks.PairMLP(hidden, name="q_z1_body"))  # (x, z2) -> h
        self.q_z1_head = networks.GaussianHead(latent, name="q_z1_head")
        self.p_z1_body = networks.GatedMLP([hidden, hidden], name="p_z1_body")
        self.p_z1_head = networks.GaussianHead(latent, name="p_z1_head")
        if config.architecture == "pixelcnn":  # (z1, z2, x) -> likelihood parameters, autoregressive in x
            self.p_x = networks.PixelDecoder(shape, self.likelihood.param_names, self.likelihood.constrain,
                                             batch_norm_momentum=config.batch_norm_momentum,
                                             batch_norm_epsilon=config.batch_norm_epsilon, name="p_x")
        elif conv:  # (z1, z2) -> likelihood parameters
            self.p_x = networks.ConvDecoder(shape, self.likelihood.param_names, self.likelihood.constrain, name="p_x")
        else:
            self.p_x_body = networks.PairMLP(hidden, name="p_x_body")
            self.p_x_head = networks.LikelihoodHead(shape, self.likelihood.param_names, self.likelihood.constrain,
                                                    name="p_x_head")
        self.prior = priors.make_prior(config, self.encoder, seed=prior_seed)

    @property
    def noise_dim(self):
        return 2 * self.config.latent_dim

    def _q_z1(self, x_features, z2):
        return _diagonal_gaussian(*self.q_z1_head(self.q_z1_body.joint_features(x_features, z2)))

    def _p_z1(self, z2):
        return _diagonal_gaussian(*self.p_z1_head(self.p_z1_body(z2)))

    @property
    def autoregressive(self):
        return self.config.architecture == "pixelcnn"

    def _p_x_params(self, z1, z2, x=None):
        """Likelihood parameters for z1, z2 [N, L]; the PixelCNN also takes x [N, H, W, C]."""
        if self.autoregressive:
            if x is None:
                raise ValueError("p(x | z1, z2) of the PixelHVAE is autoregressive: it needs the images x it scores "
                                 "(decode(z, x)); to generate, call decode_images(z, pixel_uniform) or sample().")
            return self.p_x(z1, z2, x)
        if self.config.architecture == "conv":
            return self.p_x(z1, z2)
        return self.p_x_head(self.p_x_body(z1, z2))

    def log_densities(self, x, noise, prior):
        latent = self.config.latent_dim
        batch, num_samples = tf.shape(noise)[0], tf.shape(noise)[1]
        q_z2 = _diagonal_gaussian(*[t[:, tf.newaxis] for t in self.encoder(x)])
        z2 = _reparameterize(q_z2, noise[..., :latent])                       # [B, S, L]
        flat_z2 = tf.reshape(z2, [-1, latent])
        x_features = self.q_z1_body.first_features(x)  # once per image
        x_features = tf.repeat(x_features, num_samples, axis=0)               # [B*S, H]
        q_z1 = self._q_z1(x_features, flat_z2)
        z1 = _reparameterize(q_z1, tf.reshape(noise[..., latent:], [-1, latent]))  # [B*S, L]
        x_context = tf.repeat(x, num_samples, axis=0) if self.autoregressive else None  # [B*S, H, W, C]
        params = self._p_x_params(z1, flat_z2, x_context)
        params = {k: tf.reshape(v, tf.concat([[batch, num_samples], tf.shape(v)[1:]], 0))
                  for k, v in params.items()}
        to_bs = lambda t: tf.reshape(t, [batch, num_samples])
        log_q_z1, log_p_z1 = to_bs(q_z1.log_prob(z1)), to_bs(self._p_z1(flat_z2).log_prob(z1))
        log_q_z2, log_p_z2 = q_z2.log_prob(z2), prior.log_prob(z2)
        return {"reconstruction": self._likelihood(params).log_prob(x[:, tf.newaxis]),
                "log_prior": log_p_z1 + log_p_z2,
                "log_posterior": log_q_z1 + log_q_z2,
                "kl_z1": log_q_z1 - log_p_z1,
                "kl_z2": log_q_z2 - log_p_z2}

    def posterior_means(self, x):
        z2 = self.encoder(x)[0]
        x_features = self.q_z1_body.first_features(x)
        return {"z1": self._q_z1(x_features, z2).loc, "z2": z2}

    @property
    def prior_latent(self):
        return "z2"

    @property
    def latent_width(self):
        return 2 * self.config.latent_dim

    def decode(self, z, x=None):
        """p(x | z1, z2) for z = [z1, z2]; the PixelHVAE's is conditioned on images x
        [N, H, W, C] at the earlier pixels (its log_prob scores x; see decode_images)."""
        z1, z2 = tf.split(z, 2, axis=-1)
        return self._likelihood(self._p_x_params(z1, z2, x))

    def _prior_z(self, uniform, normal, prior_parameters):
        latent = self.config.latent_dim
        z2 = priors.sample_with_noise(*(prior_parameters or self.prior_parameters()), uniform,
                                      normal[:, :latent])
        z1 = _reparameterize(self._p_z1(z2), normal[:, latent:])
        return tf.concat([z1, z2], axis=-1)

    def generate(self, uniform, normal, prior_parameters=None):
        if self.autoregressive:
            raise ValueError("the PixelHVAE's p(x | z) is autoregressive and has no closed form at a z alone: "
                             "generate images with generate_images(uniform, normal, pixel_uniform) or sample().")
        return self.decode(self._prior_z(uniform, normal, prior_parameters))

    def generate_images(self, uniform, normal, pixel_uniform=None, prior_parameters=None):
        return self.decode_images(self._prior_z(uniform, normal, prior_parameters), pixel_uniform)

    def decode_images(self, z, pixel_uniform=None):
        if not self.autoregressive:
            return self.decode(z).mean()
        if pixel_uniform is None:
            raise ValueError("the PixelHVAE draws its pixels one by one: pass pixel_uniform [N, H, W, C] in [0, 1).")
        return self.draw_pixels(z, pixel_uniform)[1]

    def draw_pixels(self, z, pixel_uniform):
        """(drawn, means) [N, H, W, C] of the PixelHVAE's autoregressive decoding at z [N, 2L]:
        pixel i is drawn from p(x_i | x_<i drawn, z) with pixel_uniform[:, i] (inverse CDF), and
        means holds E[x_i | x_<i drawn, z]. The masked stack runs once per pixel in raster
        order, inside a tf.while_loop (so an exported graph holds one copy of it)."""
        pixel_uniform = tf.convert_to_tensor(pixel_uniform, tf.float32)
        if tf.executing_eagerly():  # one traced loop instead of 8 layers' ops dispatched per pixel
            return tf.function(self._draw_pixels_loop, autograph=False)(tf.convert_to_tensor(z, tf.float32),
                                                                        pixel_uniform)
        return self._draw_pixels_loop(z, pixel_uniform)

    def _draw_pixels_loop(self, z, pixel_uniform):
        height, width, channels = self.config.input_shape
        z1, z2 = tf.split(z, 2, axis=-1)
        maps = self.p_x.latent_maps(z1, z2)
        shape = tf.concat([tf.shape(z)[:1], [height, width, channels]], 0)

        def body(i, canvas, means):
            row, column = i // width, i % width
            params = {k: v[:, row, column] for k, v in self.p_x.from_maps(canvas, maps).items()}  # [N, C]
            drawn = self.likelihood.from_uniform(params, pixel_uniform[:, row, column])
            mean = self.likelihood.make(**{k: v[:, tf.newaxis, tf.newaxis] for k, v in params.items()}).mean()
            here = tf.reshape(tf.one_hot(i, height * width, dtype=tf.float32), [1, height, width, 1])
            return i + 1, canvas + here * drawn[:, tf.newaxis, tf.newaxis], means + here * mean

        _, drawn, means = tf.while_loop(lambda i, *_: i < height * width, body,
                                        (tf.constant(0), tf.zeros(shape), tf.zeros(shape)),
                                        maximum_iterations=height * width)
        return drawn, means

    def reconstruct(self, x, seed=0):
        x = self.check_images(x)
        means = self.posterior_means(x)
        z = tf.concat([means["z1"], means["z2"]], axis=-1)
        return self.decode_images(z, self._pixel_uniform(tf.shape(x)[0], seed))


MODELS = {"vae": VAE, "hvae": HVAE}


def build_model(config: ModelConfig, seed: int = 0, precision: str = "float32") -> LatentVariableModel:
    """The model a ModelConfig describes, with all weights created.

    seed: initialises every weight (sets Keras' global seed, then builds) and seeds the
      noise of fit batches. A VampPrior starts from random pseudo-inputs; for
      pseudo_init='data', call model.prior.initialize_from_data(images, ...) afterwards
      (the trainer does, for a fresh run), or restore a checkpoint.
    precision: the Keras dtype policy of the networks' layers: 'float32', 'mixed_bfloat16'
      or 'mixed_float16'. Variables (pseudo-inputs included) are float32 under every policy,
      and the networks' outputs are cast to float32, so every density, KL and loss is float32;
      models of different precisions share checkpoints. The policy applies to the layers built
      here only (Keras' global policy is restored afterwards).
    """
    keras.utils.set_random_seed(seed)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        # The model itself stays float32 (its inputs are not cast); its networks take the policy.
        model = MODELS[config.model](config, prior_seed=seed, noise_seed=seed, name=config.model, dtype="float32")
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return model.build_weights()
