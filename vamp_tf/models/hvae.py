"""The two-level hierarchical VAE of Tomczak & Welling (AISTATS 2018, section 3.2), prior on z2:
q(z2 | x) q(z1 | x, z2) and p(z2) p(z1 | z2) p(x | z1, z2).

One model for the three architectures of the paper (dense HVAE, convHVAE, PixelHVAE): the
architecture only chooses three networks (vamp_tf.networks.architectures), and the decoder's
one interface (networks.decoding.PairDecoder) says whether it is autoregressive and draws its
images itself.
"""

from __future__ import annotations

import tensorflow as tf

from vamp_tf import networks, priors
from vamp_tf.config import ModelConfig
from vamp_tf.models.base import LatentVariableModel
from vamp_tf.serialization import register


@register
class HVAE(LatentVariableModel):
    """The two-level hierarchical VAE, prior on z2.

    z1 and z2 both have config.latent_dim units; with n = family.noise_dim(latent_dim),
    noise_dim = 2n: noise[..., :n] drives z2 and noise[..., n:] drives z1. `decode` takes
    z = [z1, z2] (width 2 * latent_dim).

    Checkpoints: the dense decoder's weights are saved under p_x/body and p_x/head; runs saved
    before it had the interface of the others kept them under p_x_body and p_x_head, and
    `legacy_checkpoint_children` maps those (vamp_tf.checkpoints.ModelCheckpoint reads either).
    """

    def build_parts(self, config: ModelConfig, prior_seed: int):
        nets = networks.hvae_networks(config.architecture)
        # Built in this order (it fixes the initial weights of a seed).
        self.encoder = nets.encoder(config, self.family, "encoder")       # q(z2 | x)
        self.q_z1_body = nets.q_z1_body(config, "q_z1_body")              # (x, z2) -> h
        self.q_z1_head = self.family.head(config.latent_dim, "q_z1_head")
        self.p_z1_body = networks.GatedMLP([config.hidden_units, config.hidden_units], name="p_z1_body")
        self.p_z1_head = self.family.head(config.latent_dim, "p_z1_head")
        self.p_x = nets.p_x(config, self.likelihood, "p_x")               # (z1, z2[, x]) -> likelihood parameters
        self.prior = priors.make_prior(config, self.encoder, self.family, seed=prior_seed)

    def legacy_checkpoint_children(self) -> dict:
        """{name: layer} of the model's checkpoints written before the decoder interface, where
        they differ (the dense decoder's p_x_body and p_x_head); {} where they do not."""
        if not isinstance(self.p_x, networks.DensePairDecoder):
            return {}
        return {"encoder": self.encoder, "q_z1_body": self.q_z1_body, "q_z1_head": self.q_z1_head,
                "p_z1_body": self.p_z1_body, "p_z1_head": self.p_z1_head, "p_x_body": self.p_x.body,
                "p_x_head": self.p_x.head, "prior": self.prior}

    @property
    def noise_dim(self):
        return 2 * self.family.noise_dim(self.config.latent_dim)

    def _q_z1_parameters(self, x_features, z2):
        return self.q_z1_head(self.q_z1_body.joint_features(x_features, z2))

    def _q_z1(self, x_features, z2):
        return self.family.distribution(*self._q_z1_parameters(x_features, z2))

    def _p_z1(self, z2):
        return self.family.distribution(*self.p_z1_head(self.p_z1_body(z2)))

    @property
    def autoregressive(self):
        return self.p_x.autoregressive

    def log_densities(self, x, noise, prior):
        latent, n = self.config.latent_dim, self.family.noise_dim(self.config.latent_dim)
        batch, num_samples = tf.shape(noise)[0], tf.shape(noise)[1]
        q_z2 = self.family.distribution(*[t[:, tf.newaxis] for t in self.encoder(x)])
        z2 = self.family.draw(q_z2, noise[..., :n])                           # [B, S, L]
        flat_z2 = tf.reshape(z2, [-1, latent])
        x_features = self.q_z1_body.first_features(x)  # once per image
        x_features = tf.repeat(x_features, num_samples, axis=0)               # [B*S, H]
        q_z1 = self._q_z1(x_features, flat_z2)
        z1 = self.family.draw(q_z1, tf.reshape(noise[..., n:], [-1, n]))     # [B*S, L]
        x_context = tf.repeat(x, num_samples, axis=0) if self.autoregressive else None  # [B*S, H, W, C]
        params = self.p_x(z1, flat_z2, x_context)
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
        x = tf.convert_to_tensor(x, tf.float32)  # numpy images too (first_features reads x.shape.rank)
        z2_parameters = self.encoder(x)
        z2 = self.family.location(*z2_parameters)
        x_features = self.q_z1_body.first_features(x)
        return {"z1": self.family.location(*self._q_z1_parameters(x_features, z2)), "z2": z2}

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
        return self._likelihood(self.p_x(z1, z2, x))

    def prior_z(self, uniform, normal, prior_parameters=None):
        n = self.family.noise_dim(self.config.latent_dim)
        z2 = self.family.draw_from_mixture(prior_parameters or self.prior_parameters(), uniform, normal[:, :n])
        z1 = self.family.draw(self._p_z1(z2), normal[:, n:])
        return tf.concat([z1, z2], axis=-1)

    def generate(self, uniform, normal, prior_parameters=None):
        if self.autoregressive:
            raise ValueError("the PixelHVAE's p(x | z) is autoregressive and has no closed form at a z alone: "
                             "generate images with generate_images(uniform, normal, pixel_uniform) or sample().")
        return self.decode(self.prior_z(uniform, normal, prior_parameters))

    def generate_images(self, uniform, normal, pixel_uniform=None, prior_parameters=None):
        return self.decode_images(self.prior_z(uniform, normal, prior_parameters), pixel_uniform)

    def draw_images(self, uniform, normal, pixel_uniform, prior_parameters=None):
        if not self.autoregressive:
            return super().draw_images(uniform, normal, pixel_uniform, prior_parameters)
        return self.draw_pixels(self.prior_z(uniform, normal, prior_parameters), pixel_uniform)[0]

    def images_at(self, z, pixel_uniform):
        if not self.autoregressive:
            return super().images_at(z, pixel_uniform)
        return self.draw_pixels(z, pixel_uniform)

    def decode_images(self, z, pixel_uniform=None):
        z1, z2 = tf.split(z, 2, axis=-1)
        return self.p_x.images(z1, z2, self.likelihood, pixel_uniform)

    def draw_pixels(self, z, pixel_uniform):
        """(drawn, means) [N, H, W, C] of the PixelHVAE's autoregressive decoding at z [N, 2L]
        (networks.PixelDecoder.draw)."""
        z1, z2 = tf.split(tf.convert_to_tensor(z, tf.float32), 2, axis=-1)
        return self.p_x.draw(z1, z2, self.likelihood, pixel_uniform)

    def reconstruct(self, x, seed=0):
        x = self.check_images(x)
        means = self.posterior_means(x)
        z = tf.concat([means["z1"], means["z2"]], axis=-1)
        return self.decode_images(z, self._pixel_uniform(tf.shape(x)[0], seed))
