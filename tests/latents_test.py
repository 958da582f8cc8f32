"""Tests of vamp_tf.latents: the latent-family contract, on the diagonal Gaussian."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import latents

tfd = tfp.distributions


@pytest.fixture
def family():
    return latents.make_family("gaussian")


def test_make_family_names_the_allowed_families():
    assert isinstance(latents.make_family("gaussian"), latents.DiagonalGaussian)
    with pytest.raises(ValueError, match="posterior='sphere' is not supported; allowed: gaussian, power_spherical"):
        latents.make_family("sphere")


def test_head_distribution_and_location_shapes(family):
    head = family.head(3, "head")
    parameters = head(tf.ones([4, 5]))
    assert len(parameters) == len(family.parameter_names) == 2
    q = family.distribution(*parameters)
    assert q.batch_shape == [4] and q.event_shape == [3]
    np.testing.assert_array_equal(family.location(*parameters), parameters[0])
    assert family.noise_dim(3) == 3
    p = family.standard(3)
    assert p.batch_shape == [] and p.event_shape == [3]


def test_draw_is_the_reparameterized_sample_and_reaches_the_parameters(family):
    mean, log_variance = tf.Variable([[0.5, -1.0]]), tf.Variable([[0.2, -0.4]])
    noise = tf.constant([[[1.0, -2.0], [0.0, 0.5]]])  # [batch 1, S 2, L 2]
    with tf.GradientTape() as tape:
        q = family.distribution(mean[:, tf.newaxis], log_variance[:, tf.newaxis])
        z = family.draw(q, noise)
        loss = tf.reduce_sum(z)
    want = mean.numpy()[:, None] + np.exp(0.5 * log_variance.numpy())[:, None] * noise.numpy()
    np.testing.assert_allclose(z, want, rtol=1e-6)
    grads = tape.gradient(loss, [mean, log_variance])
    assert all(g is not None and np.all(np.abs(g.numpy()) > 0) for g in grads)


def test_mixture_log_prob_matches_tfp_and_its_parameters_sample_components(family):
    loc = tf.constant([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]])
    log_variance = tf.constant([[0.0, -1.0], [0.5, 0.0], [-2.0, -2.0]])
    logits = tf.constant([0.1, -0.3, 0.7])
    mixture = family.mixture((loc, log_variance), logits)
    assert mixture.batch_shape == [] and mixture.event_shape == [2]
    generic = tfd.MixtureSameFamily(tfd.Categorical(logits=logits),
                                    tfd.MultivariateNormalDiag(loc, tf.exp(0.5 * log_variance)))
    z = tf.random.stateless_normal([6, 2], seed=[1, 2]) * 6.0
    np.testing.assert_allclose(mixture.log_prob(z), generic.log_prob(z), rtol=1e-5, atol=1e-4)
    cdf, means, scales = family.mixture_parameters(mixture)
    np.testing.assert_allclose(cdf[-1], 1.0, rtol=1e-6)
    # uniform picks component #{k : uniform >= cdf_k}; zero noise gives its mean
    uniform = tf.constant([0.0, float(cdf[0]) + 1e-3, 0.999])
    z = family.draw_from_mixture((cdf, means, scales), uniform, tf.zeros([3, 2])).numpy()
    np.testing.assert_allclose(z, loc.numpy()[[0, 1, 2]], atol=1e-6)


def test_the_standard_prior_is_a_mixture_of_one(family):
    cdf, loc, scale = family.mixture_parameters(family.standard(2))
    assert cdf.shape == (1,) and loc.shape == (1, 2)
    z = family.draw_from_mixture((cdf, loc, scale), tf.constant([0.3, 0.9]), tf.constant([[1.0, 2.0], [0.0, -1.0]]))
    np.testing.assert_allclose(z, [[1.0, 2.0], [0.0, -1.0]])
