"""Rate and distortion apart, and the rate split by ELBO surgery (Hoffman & Johnson, 2016).

For a model with encoder q(z | x) and prior p(z) on the test images x_1..x_N, with the aggregate
posterior q(z) = (1/N) sum_n q(z | x_n), the rate splits exactly as

  R = E_n KL(q(z | x_n) || p(z)) = I[n; z] + KL(q(z) || p(z)),

the mutual information between an image's index and its code, and the distance from the aggregate
posterior to the prior: the term the VampPrior is built to close (Tomczak & Welling, AISTATS 2018,
section 3: the optimal prior is q(z)). The distortion is D = -E log p(x | z), and -ELBO = D + R
(Alemi et al., 2018, "Fixing a Broken ELBO", place models on the (R, D) plane).

Estimators, one draw z_n ~ q(z | x_n) per image (S draws with num_samples=S):
  rate       R_n = log q(z_n | x_n) - log p(z_n)
  I[n; z]    I_n = log q(z_n | x_n) - log q^(z_n)
  marginal   M_n = log q^(z_n) - log p(z_n)
  log q^(z) = logsumexp_m log q(z | x_m) - log N  (the N test posteriors, the image's own included)
Each is a mean over images with its Monte Carlo standard error (std / sqrt(N)). R = I + M holds term
by term. log q^ is a finite-N estimate of log q(z): it includes the image's own posterior, so
I_n <= log N always (I is biased down when the true I is near log N, and M up by the same amount;
with N = 10,000 test images the bound is 9.2 nats). For the HVAE the prior is on z2: the surgery is
of z2's rate; z1's rate, E KL(q(z1 | x, z2) || p(z1 | z2)), is reported beside it, and the total
rate is their sum.

The held-out estimator (reference_images: the training set, none of them a scored image) replaces
log q^ by the mixture of the M reference posteriors,
  log q_ref(z) = logsumexp_m log q(z | x'_m) - log M,
an estimate of the aggregate posterior the model was trained on (the prior that maximises its ELBO),
free of the log N ceiling: I_n(held out) = log q(z_n | x_n) - log q_ref(z_n) may exceed log N, and
R = I + M still holds term by term. Its bias: log of a mean of M densities is biased down (Jensen),
by about Var[q(z | x')] / (2 M q(z)^2) where the mixture is dense and more where z lies in few
posteriors' mass, so I(held out) is biased up and KL(held out) down, both shrinking as M grows
(tools/optimal_prior.py measures it by subsampling M). Its cost: N S M log-densities, one matmul per
block of draws (10,000 x 50,000 x 40: seconds on one core).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from vamp_tf import statistics


def aggregate_posterior_terms(family, parameters, z, prior, block: int = 500) -> dict:
    """Per-draw log-densities of the surgery.

    family: the latent family (vamp_tf.latents); parameters: its posterior parameters, a tuple of
      [N, ...] tensors (one posterior per image); z: [N, S, L] draws, z[n] from the n-th posterior;
      prior: p(z), a tfd.Distribution with event_shape [L].
    Returns {'log_posterior': log q(z | x_n), 'log_aggregate': log q^(z), 'log_prior': log p(z)}, each
    [N, S] float64. log q^ is the mixture of the N posteriors with equal weights (the family's own
    mixture, whose log_prob is one matmul for the Gaussian), evaluated `block` images at a time.
    """
    z = tf.convert_to_tensor(z)
    n, s = int(z.shape[0]), int(z.shape[1])
    own = family.distribution(*[p[:, tf.newaxis] for p in parameters])      # batch [N, 1]
    aggregate = family.mixture(tuple(parameters))                          # (1/N) sum_m q(z | x_m)
    log_aggregate = np.concatenate([
        aggregate.log_prob(tf.reshape(z[i:i + block], [-1, z.shape[-1]])).numpy().reshape(-1, s)
        for i in range(0, n, block)])
    return {"log_posterior": own.log_prob(z).numpy().astype(np.float64),
            "log_aggregate": log_aggregate.astype(np.float64),
            "log_prior": prior.log_prob(z).numpy().astype(np.float64)}


def posterior_parameters(model, images, batch_size: int = 500) -> tuple:
    """The encoder's posterior parameters (the HVAE's q(z2 | x)) of every image: a tuple of [N, ...] tensors."""
    parts = [model.encoder(tf.constant(np.asarray(images[i:i + batch_size], np.float32)))
             for i in range(0, len(images), batch_size)]
    return tuple(tf.concat([p[i] for p in parts], axis=0) for i in range(len(parts[0])))


def held_out_log_aggregate(family, reference_parameters, z, block: int = 500) -> np.ndarray:
    """log q_ref(z) [N, S] float64: the draws z [N, S, L] under the equal-weight mixture of the reference
    posteriors (module docstring), `block` draws at a time."""
    aggregate = family.mixture(tuple(reference_parameters))
    flat = tf.reshape(tf.convert_to_tensor(z), [-1, z.shape[-1]])
    values = [aggregate.log_prob(flat[i:i + block]).numpy() for i in range(0, int(flat.shape[0]), block)]
    return np.concatenate(values).astype(np.float64).reshape(z.shape[0], z.shape[1])


def _mean_and_error(per_image: np.ndarray) -> tuple[float, float]:
    """(mean, standard error over images) of [N] or [N, S] values (S draws averaged per image first)."""
    return statistics.mean_and_error(per_image)


def rate_distortion(model, images, num_samples: int = 1, seed: int = 0, batch_size: int = 500,
                    reference_images=None, reference_sizes=()) -> dict:
    """R, D, I[n; z] and KL(q(z) || p(z)) of a model on images (see the module docstring).

    model: a vamp_tf model (models.LatentVariableModel; VAE or HVAE, Gaussian or Power Spherical
      latents); images: [N, H, W, C] in [0, 1], N >= 2 (the test set); num_samples: draws per image;
    seed: the draws' seed (the same seed, the same numbers).
    Returns {name: (mean, standard error)} for 'distortion', 'rate' (the total: the KL term of the
    ELBO), 'rate_prior_latent' (the rate of the latent the prior is on: z, or the HVAE's z2),
    'mutual_information', 'marginal_kl', 'neg_elbo', and for the HVAE 'rate_z1'; plus
    'num_images' and 'log_num_images' (the bound on the mutual information estimate), in nats.
    With reference_images (the training set), also 'mutual_information_held_out' and 'marginal_kl_held_out'
    (the held-out estimator) and 'num_reference_images'; with reference_sizes too, 'held_out_by_reference_size':
    {M: those two over a random M of the reference posteriors (drawn in turn from numpy's generator seeded with
    `seed`), for each M below the reference set's size, and the whole set}, the estimator's bias in M. Every
    estimate uses the same draws, and the reference images are encoded once.
    """
    images = np.asarray(images, np.float32)
    n = len(images)
    if n < 2:
        raise ValueError(f"rate_distortion needs at least 2 images (the aggregate posterior is their mixture); got {n}.")
    prior = model.prior.distribution()
    width = model.family.noise_dim(model.config.latent_dim)  # noise[..., :width] drives the prior's latent
    noise = tf.random.stateless_normal([n, num_samples, model.noise_dim], seed=[seed, 0x5d9])
    parameters, draws, terms = [], [], {}
    for start in range(0, n, batch_size):
        x = tf.constant(images[start:start + batch_size])
        eps = noise[start:start + batch_size]
        out = model.log_densities(x, eps, prior)
        for key, value in out.items():
            terms.setdefault(key, []).append(value.numpy().astype(np.float64))
        params = model.encoder(x)
        q = model.family.distribution(*[p[:, tf.newaxis] for p in params])
        draws.append(model.family.draw(q, eps[..., :width]))   # the same z as log_densities drew
        parameters.append(params)
    terms = {key: np.concatenate(value) for key, value in terms.items()}
    parameters = tuple(tf.concat([p[i] for p in parameters], axis=0) for i in range(len(parameters[0])))
    split = aggregate_posterior_terms(model.family, parameters, tf.concat(draws, axis=0), prior)
    rate_prior = split["log_posterior"] - split["log_prior"]
    total_rate = terms["log_posterior"] - terms["log_prior"]
    out = {"distortion": _mean_and_error(-terms["reconstruction"]),
           "rate": _mean_and_error(total_rate),
           "rate_prior_latent": _mean_and_error(rate_prior),
           "mutual_information": _mean_and_error(split["log_posterior"] - split["log_aggregate"]),
           "marginal_kl": _mean_and_error(split["log_aggregate"] - split["log_prior"]),
           "neg_elbo": _mean_and_error(total_rate - terms["reconstruction"]),
           "num_images": n, "log_num_images": math.log(n)}
    if "kl_z1" in terms:
        out["rate_z1"] = _mean_and_error(terms["kl_z1"])
    if reference_images is not None:
        z = tf.concat(draws, axis=0)
        reference = posterior_parameters(model, reference_images)

        def held_out(parameters) -> dict:
            held = held_out_log_aggregate(model.family, parameters, z)
            return {"mutual_information_held_out": _mean_and_error(split["log_posterior"] - held),
                    "marginal_kl_held_out": _mean_and_error(held - split["log_prior"])}
        out.update(held_out(reference), num_reference_images=len(reference_images))
        if reference_sizes:
            rng, by_size = np.random.default_rng(seed), {}
            for m in [int(m) for m in reference_sizes if int(m) < len(reference_images)]:
                chosen = np.sort(rng.choice(len(reference_images), m, replace=False))
                by_size[m] = held_out(tuple(tf.gather(p, chosen) for p in reference))
            by_size[len(reference_images)] = {k: out[k] for k in ("mutual_information_held_out",
                                                                  "marginal_kl_held_out")}
            out["held_out_by_reference_size"] = by_size
    return out
