"""Evaluation: importance-sampled log-likelihood, ELBO terms, active units, prior usage, bits/dim.

The test log-likelihood of the VampPrior paper (Tomczak & Welling, AISTATS 2018) is the
importance-sampling estimate with the encoder as proposal (Burda et al., 2016):
  log p(x) ~ logsumexp_s [log p(x|z_s) + log p(z_s) - log q(z_s|x)] - log S,  z_s ~ q(z|x).

`log_likelihood` evaluates it for many images at once under tf.function:
- the prior is built once per call (the VampPrior encodes its pseudo-inputs once);
- each step processes `batch_size` images x `samples_per_step` samples, so peak memory
  is bounded by batch_size * samples_per_step * (input_dim + 4 * hidden + K) floats
  (about 70 MB for MNIST, hidden 300, K = 500 at the defaults 20 x 500), whatever S is;
- the logsumexp is accumulated across steps with a running max and a float64 sum;
- the noise of image i, block b of NOISE_BLOCK samples, is seeded by (seed, i, b), where
  i is the image's position in the evaluated set: results do not depend on batch_size,
  samples_per_step, or on which other images share a batch.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Iterator, Optional, Union

import numpy as np
import scipy.special
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf.units import bits_per_dim  # noqa: F401  (part of this module's API: results in bits/dim)

tfd = tfp.distributions

NOISE_BLOCK = 100  # samples per independently seeded noise block
SAMPLES_PER_STEP = 500  # samples per image in one step of log_likelihood (the default)


def _batches(images: Union[np.ndarray, Iterable], batch_size: int):
    """Yields numpy batches from an array or tensor [N, H, W, C], or an iterable of batches."""
    if isinstance(images, (tf.Tensor, tf.Variable)):
        images = images.numpy()
    if isinstance(images, np.ndarray):
        for start in range(0, len(images), batch_size):
            yield images[start:start + batch_size]
    else:
        for batch in images:
            yield np.asarray(batch)


def _image_spec(model):
    return tf.TensorSpec((None,) + tuple(model.config.input_shape), tf.float32)


def noise_blocks(seed: int, indices, blocks, noise_dim: int):
    """The importance samples' noise N(0, 1) of images `indices` [B] (their positions in the
    evaluated set) and noise blocks `blocks` [J] (int64 both): [B, J, NOISE_BLOCK, noise_dim],
    each block drawn with its own key from (seed, image index, block), so that an image's noise
    depends neither on its batch nor on the samples per step."""
    pairs = tf.reshape(tf.stack(tf.meshgrid(indices, blocks, indexing="ij"), -1), [-1, 2])

    def block(index_and_block):
        key = tf.random.experimental.stateless_fold_in(
            tf.stack([tf.constant(seed, tf.int64), index_and_block[0]]), index_and_block[1])
        return tf.random.stateless_normal([NOISE_BLOCK, noise_dim], seed=key)

    noise = tf.map_fn(block, pairs, fn_output_signature=tf.float32)
    return tf.reshape(noise, tf.concat([tf.shape(indices), tf.shape(blocks), [NOISE_BLOCK, noise_dim]], 0))


def log_likelihood(model, images, num_samples: int = 5000, seed: int = 0, batch_size: int = 20,
                   samples_per_step: int = SAMPLES_PER_STEP, progress: Optional[Callable[[int], None]] = None,
                   start: int = 0, prior: Optional[tfd.Distribution] = None, indices=None) -> dict:
    """Importance-sampled log p(x) per image.

    model: a vamp_tf.models.LatentVariableModel.
    images: float32 [N, height, width, channels] in [0, 1], or an iterable of such batches.
    num_samples: S, importance samples per image (the paper: 5000).
    seed: seeds the noise (see the module docstring).
    batch_size: images per step; samples_per_step: samples per image per step (a multiple
      of NOISE_BLOCK; lowered to the smallest multiple covering S when S is smaller).
    progress: called with the number of images done after each batch (e.g.
      vamp_tf.progress.Progress.update), for passes that take minutes.
    start: the position of images[0] in the evaluated set (see log_likelihood_batches).
    indices: instead of start, each image's own position in the evaluated set (see log_likelihood_batches).
    prior: p(z) to score with instead of the model's own (the HVAE's p(z2)), e.g. the aggregate posterior
      (vamp_tf.optimal_prior); the encoder stays the proposal, so the estimate stays valid.
    Returns {'per_image': float64 [N] log-likelihoods in nats, 'mean': their mean}.
    """
    out, done = [], 0
    for values in log_likelihood_batches(model, images, num_samples, seed, batch_size, samples_per_step, start,
                                         prior, indices):
        out.append(values)
        done += len(values)
        if progress is not None:
            progress(done)
    per_image = np.concatenate(out) if out else np.zeros([0])
    return {"per_image": per_image, "mean": float(np.mean(per_image)) if len(per_image) else float("nan")}


def log_likelihood_batches(model, images, num_samples: int = 5000, seed: int = 0, batch_size: int = 20,
                           samples_per_step: int = SAMPLES_PER_STEP, start: int = 0,
                           prior: Optional[tfd.Distribution] = None, indices=None) -> Iterator[np.ndarray]:
    """log_likelihood one batch at a time: yields each batch's log p(x) (float64 [batch], nats),
    in order, so that a caller can keep what is done (vamp_tf.results saves the test set's
    scores as they come, and a rerun after SIGTERM scores only the rest).

    start: the position of images[0] in the evaluated set. Image i's noise is seeded by
      (seed, start + i), so scoring a set in parts, each with its own start, gives exactly
      what scoring it whole does.
    indices: instead of start, each image's position in the evaluated set ([N] integers), for a subset
      that is not contiguous (every S-th test image): each image scores as it does in the whole set.
    Other arguments: as log_likelihood.
    """
    if num_samples < 1 or batch_size < 1 or samples_per_step < 1:
        raise ValueError(f"num_samples={num_samples}, batch_size={batch_size} and "
                         f"samples_per_step={samples_per_step} must all be >= 1.")
    if samples_per_step % NOISE_BLOCK:
        raise ValueError(f"samples_per_step={samples_per_step} must be a multiple of {NOISE_BLOCK}.")
    if start < 0:
        raise ValueError(f"start={start}: the position of the first image in the evaluated set must be >= 0.")
    positions = None if indices is None else np.asarray(indices, np.int64)
    if positions is not None:
        if start:
            raise ValueError(f"start={start} and indices: give one of them (indices holds every image's position).")
        if hasattr(images, "__len__") and len(positions) != len(images):
            raise ValueError(f"{len(positions)} indices for {len(images)} images")
        if positions.size and positions.min() < 0:
            raise ValueError(f"indices: positions in the evaluated set must be >= 0, not {positions.min()}.")
    samples_per_step = min(samples_per_step, NOISE_BLOCK * math.ceil(num_samples / NOISE_BLOCK))
    blocks_per_step = samples_per_step // NOISE_BLOCK
    num_steps = math.ceil(num_samples / samples_per_step)
    prior = prior if prior is not None else model.prior.distribution()  # encoded once per evaluation
    noise_dim = model.noise_dim

    @tf.function(autograph=False, input_signature=[_image_spec(model), tf.TensorSpec([None], tf.int64)])
    def estimate(x, indices):
        batch = tf.shape(x)[0]

        def step(i, running_max, running_sum):
            blocks = tf.cast(i * blocks_per_step + tf.range(blocks_per_step), tf.int64)
            noise = tf.reshape(noise_blocks(seed, indices, blocks, noise_dim), [batch, samples_per_step, noise_dim])
            terms = model.log_densities(x, noise, prior)
            log_w = terms["reconstruction"] + terms["log_prior"] - terms["log_posterior"]
            sample = i * samples_per_step + tf.range(samples_per_step)
            log_w = tf.where(sample[tf.newaxis] < num_samples, tf.cast(log_w, tf.float64),
                             tf.constant(-np.inf, tf.float64))
            new_max = tf.maximum(running_max, tf.reduce_max(log_w, axis=1))
            running_sum = (running_sum * tf.exp(running_max - new_max)
                           + tf.reduce_sum(tf.exp(log_w - new_max[:, tf.newaxis]), axis=1))
            return i + 1, new_max, running_sum

        init = (tf.constant(0), tf.fill([batch], tf.constant(-np.inf, tf.float64)),
                tf.zeros([batch], tf.float64))
        _, running_max, running_sum = tf.while_loop(lambda i, *_: i < num_steps, step, init)
        return running_max + tf.math.log(running_sum) - math.log(num_samples)

    offset = 0
    for batch in _batches(images, batch_size):
        x = model.check_images(batch)
        n = x.shape[0]
        if positions is None:
            where = tf.range(start + offset, start + offset + n, dtype=tf.int64)
        elif offset + n > len(positions):
            raise ValueError(f"{len(positions)} indices for more images than that")
        else:
            where = tf.constant(positions[offset:offset + n])
        yield estimate(x, where).numpy()
        offset += n


class ElboTerms:
    """One-sample ELBO terms averaged over images (beta = 1); traced once, reusable.

    The noise of a batch is seeded by (seed, position of its first image), so the same
    images in the same batches get the same noise every time (validation curves are
    not blurred by fresh noise each epoch).

    Call: images (array [N, H, W, C] or iterable of batches) -> {'elbo', 'reconstruction',
    'kl', ... (HVAE: 'kl_z1', 'kl_z2')}: float means over the images.
    """

    def __init__(self, model, seed: int = 0, batch_size: int = 500):
        self.model, self.batch_size = model, batch_size
        noise_dim = model.noise_dim

        @tf.function(autograph=False, input_signature=[_image_spec(model), tf.TensorSpec([], tf.int64)])
        def terms(x, offset):
            key = tf.stack([tf.constant(seed, tf.int64), offset])
            return model(x, noise=tf.random.stateless_normal([tf.shape(x)[0], noise_dim], seed=key))

        self._terms = terms

    def __call__(self, images) -> dict:
        sums, offset = {}, 0
        for batch in _batches(images, self.batch_size):
            x = self.model.check_images(batch)
            out = self._terms(x, tf.constant(offset, tf.int64))
            for name, value in out.items():
                sums[name] = sums.get(name, 0.0) + float(tf.reduce_sum(tf.cast(value, tf.float64)))
            offset += x.shape[0]
        means = {name: value / offset for name, value in sums.items()
                 if name not in ("log_prior", "log_posterior")}
        return means


def elbo_terms(model, images, seed: int = 0, batch_size: int = 500) -> dict:
    """ElboTerms(model, seed, batch_size)(images): see ElboTerms."""
    return ElboTerms(model, seed, batch_size)(images)


def posterior_means(model, images, batch_size: int = 1000) -> dict:
    """{layer: [N, latent_dim]}: model.posterior_means of every image, batch by batch (numpy)."""
    means_fn = tf.function(model.posterior_means, autograph=False, input_signature=[_image_spec(model)])
    collected = {}
    for batch in _batches(images, batch_size):
        for layer, means in means_fn(model.check_images(batch)).items():
            collected.setdefault(layer, []).append(means.numpy())
    return {layer: np.concatenate(parts) for layer, parts in collected.items()}


def active_units(model, images, threshold: float = 0.01, batch_size: int = 1000) -> dict:
    """Active latent units (Burda et al., 2016): Var_x[E_q(z|x)[z_d]] > threshold.

    For the HVAE, z1's posterior mean is taken at z2 = E[z2 | x].
    Returns {layer: {'count': int, 'variances': float64 [latent_dim]}}.
    """
    return active_units_of(posterior_means(model, images, batch_size), threshold)


def active_units_of(means: dict, threshold: float = 0.01) -> dict:
    """active_units from posterior_means' output {layer: [N, latent_dim]}."""
    out = {}
    for layer, layer_means in means.items():
        variances = layer_means.astype(np.float64).var(axis=0)
        out[layer] = {"count": int(np.sum(variances > threshold)), "variances": variances}
    return out


def prior_usage(model, images, batch_size: int = 1000) -> dict:
    """How many of a mixture prior's K components the data actually uses.

    Each image's posterior mean z (the HVAE's z2: the prior is on the top layer) is assigned
    to the components by their responsibilities r_k(z) = w_k p_k(z) / sum_j w_j p_j(z)
    (`tfd.MixtureSameFamily.posterior_marginal`). A VampPrior component whose pseudo-input
    never moved away from where it was initialised gets no responsibility from any image:
    it is prior mass that no data point uses, and the samples drawn from it look like none
    of the data.

    Returns {'num_components': K,
             'usage': float64 [K], mean responsibility of each component over the images,
             'effective_components': exp(entropy(usage)), between 1 and K,
             'components_used': how many components are the most responsible one for at
               least one image,
             'used_mass': the prior's mixture weight on those components, sum_k w_k over
               them (with uniform weights, components_used / K): the share of samples
               from the prior that come from a component some image uses}.
    A single Gaussian prior counts as K = 1.
    """
    spec = _image_spec(model)
    prior = model.prior.distribution()
    layer = model.prior_latent

    @tf.function(autograph=False, input_signature=[spec])
    def responsibilities(x):
        z = model.posterior_means(x)[layer]
        if isinstance(prior, tfd.MixtureSameFamily):
            return prior.posterior_marginal(z).probs_parameter()
        return tf.ones([tf.shape(z)[0], 1])

    usage, count, winners = 0.0, 0, set()
    for batch in _batches(images, batch_size):
        r = responsibilities(model.check_images(batch)).numpy().astype(np.float64)
        usage = usage + r.sum(axis=0)
        count += r.shape[0]
        winners.update(np.argmax(r, axis=1).tolist())
    usage = usage / max(count, 1)
    entropy = np.sum(scipy.special.entr(usage))  # -sum u log u, with 0 log 0 = 0
    if isinstance(prior, tfd.MixtureSameFamily):
        weights = tf.nn.softmax(prior.mixture_distribution.logits_parameter()).numpy().astype(np.float64)
    else:
        weights = np.ones([1])
    used = sorted(winners)
    return {"num_components": int(np.size(usage)), "usage": usage,
            "effective_components": float(np.exp(entropy)), "components_used": len(winners),
            "used_mass": float(np.sum(weights[used])) if used else 0.0}


def usage_summary(usage: dict) -> dict:
    """The JSON part of `prior_usage` (the per-component usage array left out), as
    results.json records it."""
    return {k: usage[k] for k in ("num_components", "components_used", "effective_components", "used_mass")}


def rate_distortion(model, images, num_samples: int = 1, seed: int = 0, batch_size: int = 500,
                    reference_images=None, reference_sizes=()) -> dict:
    """Distortion, rate, and the rate split into I[n; z] and KL(q(z) || p(z)) by ELBO surgery, each with its
    Monte Carlo standard error; with reference_images (the training set) also the held-out split, and with
    reference_sizes its bias in the reference set's size (vamp_tf.surgery.rate_distortion, whose docstring
    states the estimators)."""
    from vamp_tf import surgery  # pylint: disable=import-outside-toplevel
    return surgery.rate_distortion(model, images, num_samples=num_samples, seed=seed, batch_size=batch_size,
                                   reference_images=reference_images, reference_sizes=reference_sizes)
