"""The VampPrior against the prior it approximates: a trained model scored under other priors.

For a given encoder, the prior that maximises the training ELBO is the aggregate posterior of the
training set, q(z) = (1/M) sum_m q(z | x_m) (Tomczak & Welling, AISTATS 2018, section 3); the
VampPrior approximates it with K learned pseudo-inputs. With the encoder and decoder fixed, this
module scores a model's test log-likelihood (importance-sampled, the encoder as proposal, so only
p(z) changes and the estimate stays valid) under
  'aggregate'  the aggregate posterior of the training set (M components, equal weights);
  'trained'    the model's own trained prior;
  'standard'   N(0, I);
  'fitted'     a K-component diagonal Gaussian mixture fitted to q(z) after training (EM on draws
               from the training posteriors: maximum likelihood on them minimises KL(q(z) || mixture));
  'smoothed'   (optional) the aggregate convolved with N(0, h^2 I), h chosen on validation images: the
               aggregate as a kernel density estimate with a bandwidth, as Exemplar VAE trains one.
For the HVAE the prior is p(z2); z1 | z2 is the model's own throughout. `share_closed` says which
share of the gap between the standard normal and the aggregate posterior a prior closes.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from vamp_tf import evaluation, surgery
from vamp_tf.latents.gaussian import gaussian_mixture

PRIORS = ("aggregate", "trained", "standard", "fitted")


def aggregate_prior(model, train_images, batch_size: int = 500):
    """The equal-weight mixture of the training images' posteriors (the HVAE's q(z2 | x)): the optimal prior."""
    return model.family.mixture(surgery.posterior_parameters(model, train_images, batch_size))


def fit_mixture(parameters, num_components: int = 500, draws_per_image: int = 1, iterations: int = 100,
                seed: int = 0, variance_floor: float = 1e-4):
    """A num_components diagonal Gaussian mixture fitted by EM to draws from the Gaussian posteriors
    `parameters` = (mean, log_variance) [M, L] (surgery.posterior_parameters of the training images).
    Starts at num_components of the draws, each with the draws' variance."""
    mean, log_variance = (np.asarray(p, np.float64) for p in parameters)
    rng = np.random.default_rng(seed)
    mean = np.repeat(mean, draws_per_image, 0)
    std = np.repeat(np.exp(0.5 * log_variance), draws_per_image, 0)
    draws = mean + std * rng.standard_normal(mean.shape)
    z = tf.constant(draws - draws.mean(axis=0), tf.float64)  # centred: the matmul below rounds less
    loc = tf.Variable(tf.gather(z, rng.choice(len(draws), num_components, replace=False)))
    variance = tf.Variable(tf.tile(tf.math.reduce_variance(z, axis=0, keepdims=True), [num_components, 1]))
    log_weights = tf.Variable(tf.fill([num_components], tf.constant(-math.log(num_components), tf.float64)))
    features = tf.concat([tf.square(z), z], axis=1)                                   # [N, 2L]

    @tf.function(autograph=False)
    def em_step():
        # log N(z_n; loc_k, variance_k) for all n, k by one matmul: [z^2, z] . [-1 / 2v, loc / v] + const_k
        precision = 1.0 / variance
        weights = tf.concat([-0.5 * precision, loc * precision], axis=1)               # [K, 2L]
        const = (-0.5 * tf.reduce_sum(tf.square(loc) * precision + tf.math.log(2 * math.pi * variance), axis=1))
        log_joint = tf.matmul(features, weights, transpose_b=True) + const + log_weights  # [N, K]
        responsibility = tf.exp(log_joint - tf.reduce_logsumexp(log_joint, axis=1, keepdims=True))
        counts = tf.reduce_sum(responsibility, axis=0) + 1e-10                         # [K]
        new_loc = tf.matmul(responsibility, z, transpose_a=True) / counts[:, tf.newaxis]
        second = tf.matmul(responsibility, tf.square(z), transpose_a=True) / counts[:, tf.newaxis]
        loc.assign(new_loc)
        variance.assign(tf.maximum(second - tf.square(new_loc), variance_floor))
        log_weights.assign(tf.math.log(counts / tf.reduce_sum(counts)))
        return tf.reduce_mean(tf.reduce_logsumexp(log_joint, axis=1))

    for _ in range(iterations):
        em_step()
    centre = draws.mean(axis=0)
    return gaussian_mixture(tf.constant((loc.numpy() + centre).astype(np.float32)),
                            tf.constant(np.log(variance.numpy()).astype(np.float32)),
                            tf.constant(log_weights.numpy().astype(np.float32)))


def smoothed_aggregate(parameters, bandwidth: float):
    """The aggregate of the Gaussian posteriors `parameters` = (mean, log_variance) [M, L] convolved with
    N(0, bandwidth^2 I): equal-weight components N(mean_m, diag(exp(log_variance_m)) + bandwidth^2)."""
    if bandwidth < 0:
        raise ValueError(f"bandwidth must be >= 0, got {bandwidth}")
    mean, log_variance = (tf.convert_to_tensor(p, tf.float32) for p in parameters)
    return gaussian_mixture(mean, tf.math.log(tf.exp(log_variance) + float(bandwidth) ** 2))


def _counting_on(progress, before: int):
    """`progress` for a pass that starts after `before` images already counted (None stays None)."""
    return None if progress is None else (lambda done, *note: progress(before + done, *note))


def choose_bandwidth(model, parameters, images, bandwidths, num_samples: int = 500, seed: int = 0,
                     progress=None) -> tuple[float, dict]:
    """(the bandwidth whose smoothed aggregate gives `images` (validation images, not the test set) the highest
    mean importance-sampled log p(x), {bandwidth: that mean}); every bandwidth sees the same noise per image."""
    if not len(bandwidths):
        raise ValueError("choose_bandwidth needs at least one bandwidth")
    scores = {}
    for i, h in enumerate(bandwidths):  # `progress` counts the images of all bandwidths: len(images) x len(bandwidths)
        scores[float(h)] = float(np.mean(log_likelihoods(model, images, {h: smoothed_aggregate(parameters, h)},
                                                         num_samples, seed,
                                                         progress=_counting_on(progress, i * len(images)))[h]))
    return max(scores, key=scores.get), scores


def priors(model, train_images, num_components: int = 500, seed: int = 0, parameters=None) -> dict:
    """{name: p(z)} for PRIORS (the model's latents must be Gaussian for 'fitted'); `parameters`: the training
    images' posterior parameters if already computed (surgery.posterior_parameters)."""
    if model.family.name != "gaussian":
        raise ValueError(f"the fitted prior is a diagonal Gaussian mixture; the model's latents are "
                         f"{model.family.name}.")
    if parameters is None:
        parameters = surgery.posterior_parameters(model, train_images)
    return {"aggregate": model.family.mixture(parameters), "trained": model.prior.distribution(),
            "standard": model.family.standard(model.config.latent_dim),
            "fitted": fit_mixture(parameters, num_components, seed=seed)}


def log_likelihoods(model, images, prior_by_name: dict, num_samples: int = 5000, seed: int = 0,
                    batch_size: int = 2, samples_per_step: int = 100, progress=None, indices=None) -> dict:
    """{name: per-image log p(x) float64 [N]} under each prior, with the same noise per image for all of
    them (evaluation.log_likelihood's seeding), so their differences are paired. The defaults keep a
    mixture of M = 60,000 components at 2 x 100 x 60,000 log-densities a step (48 MB).
    indices: each image's position in its evaluated set (default 0..N-1), which sets its noise: the
    images of every S-th position score as they did in the whole set's evaluation."""
    return {name: evaluation.log_likelihood(model, images, num_samples=num_samples, seed=seed, batch_size=batch_size,
                                            samples_per_step=samples_per_step, prior=prior, progress=progress,
                                            indices=indices)["per_image"]
            for name, prior in prior_by_name.items()}


def share_closed(per_image: dict, prior: str = "trained", target: str = "aggregate") -> tuple[float, float]:
    """(share, standard error) of the gap between the standard normal and `target` (the aggregate posterior,
    or the smoothed one) that `prior` closes: mean(ll_prior - ll_standard) / mean(ll_target - ll_standard),
    paired over images, its error by the delta method."""
    a = per_image[prior] - per_image["standard"]
    b = per_image[target] - per_image["standard"]
    n = len(a)
    ratio = float(np.mean(a) / np.mean(b))
    covariance = np.cov(a, b, ddof=1)
    variance = (covariance[0, 0] - 2 * ratio * covariance[0, 1] + ratio ** 2 * covariance[1, 1]) / (n * np.mean(b) ** 2)
    return ratio, float(math.sqrt(max(variance, 0.0)))
