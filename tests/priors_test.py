"""Tests of vamp_tf.priors: log densities against float64 numpy, gradients, sampling."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy.special import logsumexp

from vamp_tf import config, networks, priors

tfd = tfp.distributions


def reference_mixture_log_prob(z, loc, log_variance, log_weights):
    z, loc, lv = (np.asarray(v, np.float64) for v in (z, loc, log_variance))
    diff = z[:, None, :] - loc[None]
    comp = -0.5 * np.sum(diff ** 2 / np.exp(lv) + lv + np.log(2 * np.pi), axis=-1)
    return logsumexp(comp + log_weights, axis=-1)


def test_vamp_prior_log_prob_matches_numpy_logsumexp():
    encoder = networks.Encoder(latent_dim=4, hidden_units=8)
    prior = priors.VampPrior(encoder, latent_dim=4, input_shape=(5, 3, 1), num_components=3,
                             init_mean=0.5, init_std=0.3, seed=2)
    z = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    got = prior.distribution().log_prob(z).numpy()
    mean, log_variance = (t.numpy() for t in encoder(prior.pseudo_inputs))
    want = reference_mixture_log_prob(z, mean, log_variance, np.full(3, -np.log(3)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # And the fast path agrees with TFP's generic MixtureSameFamily.
    generic = tfd.MixtureSameFamily(tfd.Categorical(logits=tf.zeros(3)),
                                    tfd.MultivariateNormalDiag(mean, np.exp(0.5 * log_variance)))
    np.testing.assert_allclose(got, generic.log_prob(z).numpy(), rtol=1e-5, atol=1e-5)


def test_fast_mixture_log_prob_is_accurate_at_realistic_scales():
    # Posterior means of a trained model lie within a few units of 0 and variances go
    # down to exp(-6): the matmul form, centred per group of samples, must stay within
    # 1e-4 nats of float64 there (uncentred it was off by 3e-3).
    rng = np.random.default_rng(1)
    loc = rng.normal(0, 2, size=(500, 40)).astype(np.float32)
    log_variance = rng.uniform(-6, 0, size=(500, 40)).astype(np.float32)
    # 8 groups (images) of 100 samples each, drawn near a component.
    centres = loc[rng.integers(0, 500, 8)]
    z = (centres[:, None] + 0.1 * rng.normal(size=(8, 100, 40))).astype(np.float32)
    got = priors.gaussian_mixture(loc, log_variance).log_prob(z).numpy()
    want = reference_mixture_log_prob(z.reshape(-1, 40), loc, log_variance, np.full(500, -np.log(500)))
    np.testing.assert_allclose(got.reshape(-1), want, atol=1e-4, rtol=0)


def test_vamp_prior_gradients_reach_pseudo_inputs_and_encoder():
    encoder = networks.Encoder(latent_dim=2, hidden_units=4)
    prior = priors.VampPrior(encoder, latent_dim=2, input_shape=(4, 4, 1), num_components=3,
                             init_mean=0.5, init_std=0.1)
    z = tf.constant(np.random.default_rng(0).normal(size=(5, 2)), tf.float32)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(prior.distribution().log_prob(z))
    variables = [prior.pseudo_inputs_variable] + encoder.trainable_variables
    grads = tape.gradient(value, variables)
    for v, g in zip(variables, grads):
        assert g is not None and np.any(g.numpy() != 0), v.path


def test_pseudo_input_entries_outside_0_1_get_no_gradient_and_stay_clipped():
    # The hardtanh of the paper's code: an entry below 0 (or above 1) is held at the bound.
    encoder = networks.Encoder(latent_dim=2, hidden_units=4)
    prior = priors.VampPrior(encoder, latent_dim=2, input_shape=(4, 4, 1), num_components=3,
                             init_mean=0.0, init_std=0.5, seed=3)
    value = prior.pseudo_inputs_variable.numpy()
    outside = (value < 0) | (value > 1)
    assert 0 < outside.mean() < 1
    z = tf.constant(np.random.default_rng(0).normal(size=(5, 2)), tf.float32)
    with tf.GradientTape() as tape:
        log_prob = tf.reduce_sum(prior.distribution().log_prob(z))
    grad = tape.gradient(log_prob, prior.pseudo_inputs_variable).numpy()
    assert np.all(grad[outside] == 0) and np.all(grad[~outside] != 0)
    np.testing.assert_array_equal(prior.pseudo_inputs.numpy().reshape(3, -1), np.clip(value, 0, 1))


def test_mixture_of_gaussians_prior_matches_reference_and_is_trainable():
    prior = priors.MixtureOfGaussiansPrior(latent_dim=3, num_components=4, seed=1)
    prior.logits.assign([0.0, 1.0, -1.0, 0.5])
    prior.log_variance.assign(np.full((4, 3), -0.5, np.float32))
    z = np.random.default_rng(2).normal(size=(6, 3)).astype(np.float32)
    want = reference_mixture_log_prob(z, prior.loc.numpy(), prior.log_variance.numpy(),
                                      tf.nn.log_softmax(prior.logits).numpy())
    np.testing.assert_allclose(prior.distribution().log_prob(z).numpy(), want, rtol=1e-5, atol=1e-5)
    assert len(prior.trainable_variables) == 3


def test_standard_prior_is_unit_gaussian():
    dist = priors.StandardNormalPrior(3).distribution()
    assert dist.event_shape == [3] and dist.batch_shape == []
    np.testing.assert_allclose(dist.log_prob(np.zeros((2, 3), np.float32)).numpy(), -1.5 * np.log(2 * np.pi), rtol=1e-6)


def _separated_vamp_prior(num_components, learn_weights=False):
    """A VampPrior whose components sit far apart, so a sample's component is identifiable."""
    def encoder(u):
        flat = tf.reshape(u, [tf.shape(u)[0], -1])
        return 100.0 * flat, tf.fill(tf.shape(flat), -6.0)
    images = np.eye(num_components, dtype=np.float32).reshape(num_components, num_components, 1, 1)
    return priors.VampPrior(encoder, num_components, (num_components, 1, 1), num_components,
                            initial_pseudo_inputs=images, learn_weights=learn_weights)


def test_vamp_prior_samples_hit_every_component_equally_often():
    k, n = 5, 50000
    z = _separated_vamp_prior(k).distribution().sample(n, seed=(7, 8)).numpy()
    counts = np.bincount(np.argmax(z, axis=1), minlength=k)
    # Binomial std of a frequency is sqrt(p (1 - p) / n) = 0.0018; allow 5 of them.
    np.testing.assert_allclose(counts / n, 1.0 / k, atol=0.009)


def test_bad_sizes_and_names_raise_value_errors():
    with pytest.raises(ValueError, match="num_components=0"):
        priors.VampPrior(lambda u: u, 2, (2, 2, 1), 0)
    with pytest.raises(ValueError, match="latent_dim=0"):
        priors.StandardNormalPrior(0)
    with pytest.raises(ValueError, match="num_components"):
        priors.MixtureOfGaussiansPrior(2, -1)
    with pytest.raises(ValueError, match="prior='flow'"):
        config.ModelConfig(prior="flow")
    with pytest.raises(ValueError, match="initial_pseudo_inputs has 2"):
        priors.VampPrior(lambda u: u, 2, (2, 2, 1), 3, initial_pseudo_inputs=np.zeros((2, 2, 2, 1)))


def test_initialize_from_data_sets_k_noisy_training_images():
    prior = priors.VampPrior(lambda u: (tf.reshape(u, [tf.shape(u)[0], -1])[:, :2], tf.zeros([tf.shape(u)[0], 2])),
                             latent_dim=2, input_shape=(3, 2, 1), num_components=4, init_mean=0.5, init_std=0.02)
    images = np.random.default_rng(0).random((10, 3, 2, 1)).astype(np.float32)
    prior.initialize_from_data(images, noise_std=0.01, seed=5)
    u = prior.pseudo_inputs_variable.numpy().reshape(4, 3, 2, 1)
    nearest = np.abs(u[:, None] - images[None]).reshape(4, 10, -1).max(-1)
    assert np.all(nearest.min(1) < 0.05) and len(set(nearest.argmin(1))) == 4
    with pytest.raises(ValueError, match="expected \\[N, 3, 2, 1\\]"):
        prior.initialize_from_data(images[..., 0], noise_std=0.01)


def test_learned_weights_are_a_trainable_mixture_that_samples_and_scores():
    prior = _separated_vamp_prior(4, learn_weights=True)
    prior.logits.assign(np.log([0.7, 0.1, 0.1, 0.1]).astype(np.float32))
    dist = prior.distribution()
    z = dist.sample(20000, seed=(1, 2)).numpy()
    np.testing.assert_allclose(np.bincount(np.argmax(z, axis=1), minlength=4) / 20000, [0.7, 0.1, 0.1, 0.1], atol=0.015)
    mean, log_variance = (t.numpy() for t in prior.components())
    encoder = networks.Encoder(latent_dim=4, hidden_units=8)
    scored = priors.VampPrior(encoder, latent_dim=4, input_shape=(5, 3, 1), num_components=3, init_mean=0.5,
                              init_std=0.3, seed=2, learn_weights=True)
    scored.logits.assign([1.0, -1.0, 0.5])
    points = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    m, lv = (t.numpy() for t in encoder(scored.pseudo_inputs))
    np.testing.assert_allclose(scored.distribution().log_prob(points).numpy(),
                               reference_mixture_log_prob(points, m, lv, tf.nn.log_softmax([1.0, -1.0, 0.5]).numpy()),
                               rtol=1e-5, atol=1e-5)
    # A component no point is near: gradient -w_k on its logit (responsibility 0 minus its weight).
    far = tf.constant(mean[:1] + 0.0)  # a point at component 0
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(prior.distribution().log_prob(far))
    grad = tape.gradient(value, prior.logits).numpy()
    np.testing.assert_allclose(grad[1:], -np.array([0.1, 0.1, 0.1]), rtol=1e-4)
    assert grad[0] > 0


@pytest.mark.parametrize("make", [
    lambda: priors.StandardNormalPrior(4, dtype="float64"),
    lambda: priors.MixtureOfGaussiansPrior(4, 3, dtype="float64"),
    lambda: priors.VampPrior(networks.Encoder(4, 8, dtype="float64"), 4, (5, 3, 1), 3, dtype="float64",
                             learn_weights=True),
    lambda: priors.StandardPrior(4, __import__("vamp_tf").latents.make_family("power_spherical"), dtype="float64"),
], ids=["standard", "mog", "vamp", "sphere_uniform"])
def test_priors_are_float64_end_to_end_when_asked(make):
    prior = make()
    p_z = prior.distribution()
    assert p_z.dtype == tf.float64
    z = p_z.sample(5, seed=[3, 4])
    assert z.dtype == tf.float64
    with tf.GradientTape() as tape:
        log_p = prior(z)
    assert log_p.dtype == tf.float64 and log_p.shape == (5,) and np.all(np.isfinite(log_p.numpy()))
    for variable, gradient in zip(prior.trainable_variables, tape.gradient(log_p, prior.trainable_variables)):
        assert variable.dtype == tf.float64 and gradient is not None, variable.path


@pytest.mark.parametrize("prior_name", config.PRIORS)
def test_a_prior_is_a_built_layer_that_scores_z_and_shows_its_weights(prior_name):
    from vamp_tf import models
    model = models.build_model(config.ModelConfig(input_shape=(5, 3, 1), prior=prior_name, latent_dim=4,
                                                  hidden_units=8, num_components=3))
    prior = model.prior
    assert prior.built
    z = tf.random.stateless_normal([6, 4], seed=[1, 2])
    # against the density written out in numpy from the prior's parameters
    p_z = prior.distribution()
    if hasattr(p_z, "components_distribution"):
        loc = p_z.components_distribution.loc.numpy().astype(np.float64)
        scale = p_z.components_distribution.scale.diag.numpy().astype(np.float64)
        log_w = np.log(tf.nn.softmax(p_z.mixture_distribution.logits).numpy().astype(np.float64))
    else:
        loc, scale, log_w = np.zeros((1, 4)), np.ones((1, 4)), np.zeros(1)
    zz = z.numpy().astype(np.float64)[:, None]
    per_component = -0.5 * np.sum(((zz - loc) / scale) ** 2 + np.log(2 * np.pi * scale ** 2), axis=-1) + log_w
    want = np.log(np.sum(np.exp(per_component - per_component.max(1, keepdims=True)), 1)) + per_component.max(1)
    np.testing.assert_allclose(prior(z).numpy(), want, rtol=1e-5, atol=1e-4)
    lines = []
    model.summary(print_fn=lambda text, line_break=None: lines.append(text))
    row = [line for line in "\n".join(lines).splitlines() if "prior (" in line][0]
    assert "unbuilt" not in row and f"{prior.count_params():,}" in row, row


def test_vamp_prior_encoder_returning_one_tensor_is_named():
    # A newcomer's encoder that ends in Dense(latent_dim) returns one tensor, not (mean, log_variance);
    # TFP's error was "gaussian_mixture() got multiple values for argument 'logits'".
    def one_tensor(u):
        return tf.reshape(u, [tf.shape(u)[0], -1])[:, :2]
    prior = priors.VampPrior(one_tensor, 2, (2, 2, 1), 3)
    with pytest.raises(ValueError, match=r"returned one EagerTensor of shape \(3, 2\).*\(mean, log_variance\)"):
        prior.distribution()

    def three_tensors(u):
        flat = tf.reshape(u, [tf.shape(u)[0], -1])[:, :2]
        return flat, flat, flat
    with pytest.raises(ValueError, match="returned 3 tensors of shapes"):
        priors.VampPrior(three_tensors, 2, (2, 2, 1), 3).distribution()
