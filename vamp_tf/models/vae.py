"""The one-layer VAE (Tomczak & Welling, AISTATS 2018, section 2): q(z|x), p(x|z) and a prior p(z)."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import networks, priors
from vamp_tf.config import ModelConfig
from vamp_tf.models.base import LatentVariableModel
from vamp_tf.serialization import register

tfd = tfp.distributions


@register
class VAE(LatentVariableModel):
    """The one-layer VAE: q(z|x) in the latent family (Gaussian: N(mu(x), diag sigma^2(x))), p(x|z), p(z).

    Args: see models.base.LatentVariableModel (config, prior_seed, noise_seed, precision).
    """

    def build_parts(self, config: ModelConfig, prior_seed: int):
        builders = networks.vae_networks(config.architecture)
        self.encoder = builders.encoder(config, self.family, "encoder")
        self.decoder = builders.decoder(config, self.likelihood, "decoder")
        self.prior = priors.make_prior(config, self.encoder, self.family, seed=prior_seed)

    @property
    def noise_dim(self):
        return self.family.noise_dim(self.config.latent_dim)

    def posterior(self, x) -> tfd.Distribution:
        """q(z | x): batch_shape [batch], event_shape [latent_dim]."""
        return self.family.distribution(*self.encoder(x))

    def log_densities(self, x, noise, prior):
        q = self.family.distribution(*[t[:, tf.newaxis] for t in self.encoder(x)])  # batch [B, 1]
        z = self.family.draw(q, noise)                                              # [B, S, L]
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
        return {"z": self.family.location(*self.encoder(x))}

    @property
    def prior_latent(self):
        return "z"

    @property
    def latent_width(self):
        return self.config.latent_dim

    def decode(self, z):
        return self._likelihood(self.decoder(z))

    def prior_z(self, uniform, normal, prior_parameters=None):
        return self.family.draw_from_mixture(prior_parameters or self.prior_parameters(), uniform, normal)

    def generate(self, uniform, normal, prior_parameters=None):
        return self.decode(self.prior_z(uniform, normal, prior_parameters))

    def reconstruct(self, x, seed=0):
        x = self.check_images(x)
        return self.decode(self.family.location(*self.encoder(x))).mean()
