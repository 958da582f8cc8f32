"""Tests of vamp_tf.evaluation: the importance-sampled log-likelihood against an exact one."""

import math
import types

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import checkpoints, datasets, evaluation

tfd = tfp.distributions


class LinearGaussian:
    """x = W z + b + sigma * noise, z ~ N(0, I): log p(x) is exact. The proposal q(z | x) is
    the true posterior, optionally widened and shifted (a "reasonable" proposal).
    Implements the part of the model contract that evaluation uses."""

    def __init__(self, dim=6, latent=3, sigma=0.5, widen=1.0, shift=0.0, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(dim, latent))
        self.b = rng.normal(size=dim)
        self.sigma, self.widen, self.shift = sigma, widen, shift
        self.noise_dim = latent
        self.config = types.SimpleNamespace(input_shape=(dim, 1, 1))
        self.prior = types.SimpleNamespace(distribution=lambda: tfd.MultivariateNormalDiag(tf.zeros(latent)))
        precision = np.eye(latent) + self.W.T @ self.W / sigma ** 2
        self.post_cov = np.linalg.inv(precision)
        self.post_gain = self.post_cov @ self.W.T / sigma ** 2

    def check_images(self, x):
        return tf.convert_to_tensor(x, tf.float32)

    def exact_log_likelihood(self, x):
        x = x.reshape(len(x), -1)
        cov = self.W @ self.W.T + self.sigma ** 2 * np.eye(len(self.b))
        return tfd.MultivariateNormalFullCovariance(self.b, cov).log_prob(x).numpy()

    def log_densities(self, x, noise, prior):
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        mean = tf.matmul(x - self.b.astype(np.float32), self.post_gain.T.astype(np.float32)) + self.shift
        scale = np.linalg.cholesky(self.widen * self.post_cov).astype(np.float32)
        q = tfd.MultivariateNormalTriL(mean[:, tf.newaxis], scale)
        z = mean[:, tf.newaxis] + tf.einsum("ij,bsj->bsi", scale, noise)
        likelihood = tfd.MultivariateNormalDiag(tf.einsum("ij,bsj->bsi", self.W.astype(np.float32), z) + self.b,
                                                tf.fill([len(self.b)], np.float32(self.sigma)))
        return {"reconstruction": likelihood.log_prob(x[:, tf.newaxis]), "log_prior": prior.log_prob(z),
                "log_posterior": q.log_prob(z)}


def images(model, n=8, seed=1):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, model.noise_dim))
    x = z @ model.W.T + model.b + model.sigma * rng.normal(size=(n, len(model.b)))
    return x.reshape(n, -1, 1, 1).astype(np.float32)


@pytest.mark.parametrize("num_samples", [1, 150, 5000])
def test_exact_when_the_proposal_is_the_true_posterior(num_samples):
    model = LinearGaussian()
    x = images(model)
    got = evaluation.log_likelihood(model, x, num_samples=num_samples, batch_size=3)["per_image"]
    np.testing.assert_allclose(got, model.exact_log_likelihood(x), atol=2e-4)


def test_within_005_nats_with_a_reasonable_proposal():
    model = LinearGaussian(widen=1.6, shift=0.15)
    x = images(model)
    got = evaluation.log_likelihood(model, x, num_samples=5000)["per_image"]
    assert np.max(np.abs(got - model.exact_log_likelihood(x))) < 0.05


def test_increases_with_samples_and_bounds_the_elbo_on_average():
    model = LinearGaussian(widen=2.5, shift=0.4)
    x = images(model, n=40)
    means = [evaluation.log_likelihood(model, x, num_samples=s, seed=3)["mean"] for s in (1, 10, 100, 1000)]
    assert means == sorted(means), means
    assert means[-1] <= float(np.mean(model.exact_log_likelihood(x))) + 0.01


def test_invariant_to_chunking_and_to_the_other_images_of_a_batch():
    model = LinearGaussian(widen=2.0, shift=0.3)
    x = images(model, n=10)
    reference = evaluation.log_likelihood(model, x, num_samples=700, seed=4, batch_size=10)["per_image"]
    for batch_size, per_step in ((1, 100), (3, 200), (7, 500), (10, 700)):
        got = evaluation.log_likelihood(model, x, num_samples=700, seed=4, batch_size=batch_size,
                                        samples_per_step=per_step)["per_image"]
        np.testing.assert_allclose(got, reference, rtol=1e-6, atol=1e-5)
    other = np.concatenate([x[:5], images(model, n=5, seed=9)])
    got = evaluation.log_likelihood(model, other, num_samples=700, seed=4, batch_size=10)["per_image"]
    np.testing.assert_allclose(got[:5], reference[:5], rtol=1e-6, atol=1e-5)
    seeded = evaluation.log_likelihood(model, x, num_samples=700, seed=5)["per_image"]
    assert not np.allclose(seeded, reference)


def test_a_set_scored_in_parts_with_their_starts_equals_it_scored_whole():
    model = LinearGaussian(widen=2.0, shift=0.3)
    x = images(model, n=10)
    whole = evaluation.log_likelihood(model, x, num_samples=300, seed=4, batch_size=4)["per_image"]
    head = evaluation.log_likelihood(model, x[:3], num_samples=300, seed=4, batch_size=2)["per_image"]
    tail = evaluation.log_likelihood(model, x[3:], num_samples=300, seed=4, batch_size=4, start=3)["per_image"]
    np.testing.assert_allclose(np.concatenate([head, tail]), whole, rtol=1e-6, atol=1e-5)
    unshifted = evaluation.log_likelihood(model, x[3:], num_samples=300, seed=4, batch_size=4)["per_image"]
    assert not np.allclose(unshifted, whole[3:])  # the start is what gives each image its own noise
    batches = list(evaluation.log_likelihood_batches(model, x, num_samples=300, seed=4, batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), whole)
    # a subset that is not contiguous, each image at its own position, in batches that mix them
    positions = np.array([1, 4, 5, 9])
    subset = evaluation.log_likelihood(model, x[positions], num_samples=300, seed=4, batch_size=3,
                                       indices=positions)["per_image"]
    np.testing.assert_allclose(subset, whole[positions], rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("run", ["mnist_vamp", "mnist_sphere_vamp"])  # the estimator is family-agnostic
def test_on_a_trained_vampprior_model_the_estimate_bounds_the_elbo(small_runs, generated_data, run):
    model, cfg, _ = checkpoints.restore_model(small_runs[run])
    x = datasets.examples("mnist", "test", generated_data["mnist"], num_examples=100)
    elbo = evaluation.elbo_terms(model, x)
    ll = evaluation.log_likelihood(model, x, num_samples=500)
    assert ll["mean"] >= elbo["elbo"]
    assert np.all(np.isfinite(ll["per_image"])) and ll["per_image"].shape == (100,)
    np.testing.assert_allclose(elbo["elbo"], elbo["reconstruction"] - elbo["kl"], rtol=1e-6)
    usage = evaluation.prior_usage(model, x)
    assert usage["num_components"] == cfg.model.num_components == usage["usage"].shape[0]
    np.testing.assert_allclose(usage["usage"].sum(), 1.0, rtol=1e-6)
    assert 1.0 <= usage["effective_components"] <= cfg.model.num_components
    assert 1 <= usage["components_used"] <= cfg.model.num_components
    np.testing.assert_allclose(usage["used_mass"], usage["components_used"] / cfg.model.num_components, rtol=1e-6)


def test_hvae_estimate_bounds_its_elbo_and_reports_both_layers(small_runs, generated_data):
    model, _, _ = checkpoints.restore_model(small_runs["frey_hvae_vamp"])
    x = datasets.examples("frey_faces", "test", generated_data["frey_faces"])
    elbo = evaluation.elbo_terms(model, x)
    assert evaluation.log_likelihood(model, x, num_samples=300)["mean"] >= elbo["elbo"]
    np.testing.assert_allclose(elbo["kl"], elbo["kl_z1"] + elbo["kl_z2"], rtol=1e-5)
    units = evaluation.active_units(model, x)
    assert set(units) == {"z1", "z2"} and all(u["variances"].shape == (4,) for u in units.values())


def test_active_units_count_dimensions_whose_posterior_mean_varies():
    model = LinearGaussian(latent=3)
    model.W[:, 2] = 0.0  # z_3 does not affect x: its posterior mean is constant
    precision = np.eye(3) + model.W.T @ model.W / model.sigma ** 2
    model.post_cov = np.linalg.inv(precision)
    model.post_gain = model.post_cov @ model.W.T / model.sigma ** 2
    model.posterior_means = lambda x: {"z": tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]) - model.b.astype(np.float32),
                                                      model.post_gain.T.astype(np.float32))}
    units = evaluation.active_units(model, images(model, n=200))
    assert units["z"]["count"] == 2 and units["z"]["variances"][2] < 1e-10


class PointsAsLatents:
    """A model whose 'images' are their own posterior means z (shape [N, 2, 1, 1])."""

    def __init__(self, prior):
        self.config = types.SimpleNamespace(input_shape=(2, 1, 1))
        self.prior = types.SimpleNamespace(distribution=lambda: prior)
        self.prior_latent = "z"

    def check_images(self, x):
        return tf.convert_to_tensor(x, tf.float32)

    def posterior_means(self, x):
        return {"z": tf.reshape(x, [-1, 2])}


def test_prior_usage_counts_the_components_the_data_falls_in():
    # Components at -10, 0, +10 on the first axis, and a duplicate of the first.
    loc = tf.constant([[-10.0, 0.0], [0.0, 0.0], [10.0, 0.0], [-10.0, 0.0]])
    prior = tfd.MixtureSameFamily(tfd.Categorical(logits=tf.zeros(4)),
                                  tfd.MultivariateNormalDiag(loc, tf.ones([4, 2])))
    points = np.array([[-10.0, 0.0]] * 6 + [[0.0, 0.0]] * 3, np.float32).reshape(-1, 2, 1, 1)
    usage = evaluation.prior_usage(PointsAsLatents(prior), points, batch_size=4)
    # The duplicates share the first six points; nothing falls at +10.
    np.testing.assert_allclose(usage["usage"], [1 / 3, 1 / 3, 0.0, 1 / 3], atol=1e-7)
    np.testing.assert_allclose(usage["effective_components"], 3.0, rtol=1e-6)
    assert usage["components_used"] == 2 and usage["num_components"] == 4
    np.testing.assert_allclose(usage["used_mass"], 0.5)  # components 0 and 1 win; each has weight 1/4
    single = evaluation.prior_usage(PointsAsLatents(tfd.MultivariateNormalDiag(tf.zeros(2))), points)
    assert single["num_components"] == single["components_used"] == 1
    np.testing.assert_allclose(single["effective_components"], 1.0)
    assert single["used_mass"] == 1.0
    weighted = tfd.MixtureSameFamily(tfd.Categorical(probs=tf.constant([0.7, 0.1, 0.1, 0.1])),
                                     tfd.MultivariateNormalDiag(loc, tf.ones([4, 2])))
    np.testing.assert_allclose(evaluation.prior_usage(PointsAsLatents(weighted), points)["used_mass"], 0.8, rtol=1e-6)


def test_bits_per_dim():
    np.testing.assert_allclose(evaluation.bits_per_dim(-560 * math.log(2) * 4.5, 560), 4.5)


def test_bad_arguments():
    model = LinearGaussian()
    with pytest.raises(ValueError, match="num_samples=0"):
        evaluation.log_likelihood(model, images(model), num_samples=0)
    with pytest.raises(ValueError, match="multiple of 100"):
        evaluation.log_likelihood(model, images(model), samples_per_step=150)
    with pytest.raises(ValueError, match="start=-1"):
        evaluation.log_likelihood(model, images(model), start=-1)
    x = images(model, n=3)
    with pytest.raises(ValueError, match="2 indices for 3 images"):
        evaluation.log_likelihood(model, x, indices=[0, 1])
    with pytest.raises(ValueError, match="start=2 and indices: give one of them"):
        evaluation.log_likelihood(model, x, start=2, indices=[0, 1, 2])
    with pytest.raises(ValueError, match="must be >= 0, not -1"):
        evaluation.log_likelihood(model, x, indices=[0, -1, 2])
    with pytest.raises(ValueError, match="2 indices for more images than that"):
        evaluation.log_likelihood(model, iter([x[:2], x[2:]]), batch_size=2, indices=[0, 1])


def test_tensors_and_arrays_give_the_same_numbers(small_runs, generated_data):
    model, _, _ = checkpoints.restore_model(small_runs["mnist_vamp"])
    x = datasets.examples("mnist", "test", generated_data["mnist"], num_examples=30)
    t = tf.constant(x)
    np.testing.assert_array_equal(evaluation.log_likelihood(model, t, num_samples=100)["per_image"],
                                  evaluation.log_likelihood(model, x, num_samples=100)["per_image"])
    assert evaluation.elbo_terms(model, t) == evaluation.elbo_terms(model, x)
    assert evaluation.prior_usage(model, t)["components_used"] == evaluation.prior_usage(model, x)["components_used"]
    np.testing.assert_array_equal(evaluation.active_units(model, t)["z"]["variances"],
                                  evaluation.active_units(model, x)["z"]["variances"])
    np.testing.assert_array_equal(model.reconstruct(t), model.reconstruct(x))
    np.testing.assert_array_equal(model(t, seed=[1, 2])["elbo"], model(x, seed=[1, 2])["elbo"])
