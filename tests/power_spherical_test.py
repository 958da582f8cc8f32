"""Tests of vamp_tf.latents.power_spherical: the Power Spherical family, its sampler with explicit
noise, its mixture (the VampPrior on the sphere), and a model built on it."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import config, latents, priors
from vamp_tf.latents import power_spherical as ps
from vamp_tf.models import build_model

tfd = tfp.distributions


@pytest.fixture
def family():
    return latents.make_family("power_spherical")


def _unit(rows, seed):
    return tf.math.l2_normalize(tf.random.stateless_normal(rows, seed=[seed, 0]), axis=-1)


def _mixture(dim):
    mean_direction = _unit([3, dim], seed=dim)
    concentration = tf.constant([0.5, 3.0, 20.0])
    return ps.power_spherical_mixture(mean_direction, concentration, logits=tf.constant([0.2, -0.5, 0.1]))


def test_the_mixture_density_integrates_to_one_on_the_circle():
    theta = np.linspace(0.0, 2 * np.pi, 4000, endpoint=False)  # periodic: the rectangle rule is spectral
    z = np.stack([np.cos(theta), np.sin(theta)], axis=-1).astype(np.float32)
    density = np.exp(_mixture(2).log_prob(z).numpy().astype(np.float64))
    np.testing.assert_allclose(density.sum() * (2 * np.pi / len(theta)), 1.0, rtol=1e-4)


def test_the_mixture_density_integrates_to_one_on_the_sphere():
    cos_polar, weights = np.polynomial.legendre.leggauss(400)  # dA = d(cos polar) d(azimuth)
    azimuth = np.linspace(0.0, 2 * np.pi, 400, endpoint=False)
    c, a = np.meshgrid(cos_polar, azimuth, indexing="ij")
    s = np.sqrt(1 - c ** 2)
    z = np.stack([s * np.cos(a), s * np.sin(a), c], axis=-1).reshape(-1, 3).astype(np.float32)
    density = np.exp(_mixture(3).log_prob(z).numpy().astype(np.float64)).reshape(c.shape)
    integral = np.sum(density * weights[:, None]) * (2 * np.pi / len(azimuth))
    np.testing.assert_allclose(integral, 1.0, rtol=1e-4)


@pytest.mark.parametrize("dim, scale", [(2, 1.0), (3, 1.0), (10, 1.0), (10, 1000.0), (40, 1000.0)])
def test_the_fast_mixture_log_prob_is_tfps(dim, scale):
    """Also at the concentrations trained models reach (Frey Faces: about 2e4)."""
    mixture = ps.power_spherical_mixture(_unit([3, dim], seed=dim), tf.constant([0.5, 3.0, 20.0]) * scale,
                                         logits=tf.constant([0.2, -0.5, 0.1]))
    generic = tfd.MixtureSameFamily(mixture.mixture_distribution, mixture.components_distribution)
    z = _unit([7, 2, dim], seed=100 + dim)
    if scale > 1:  # points near the components, where the density is large
        z = tf.math.l2_normalize(mixture.components_distribution.mean_direction[tf.newaxis, :2] + 0.02 * z, axis=-1)
    np.testing.assert_allclose(mixture.log_prob(z), generic.log_prob(z), rtol=1e-5, atol=1e-4)
    assert mixture.log_prob(z).shape == (7, 2)


def test_a_point_antipodal_to_a_component_has_finite_gradients():
    """1 + mu^T z is 0 in float32 near -mu: that component has no weight, and no NaN may reach a gradient."""
    mean_direction = tf.Variable([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    concentration = tf.Variable([3.0, 0.0])  # 0: the uniform component, where 0 log 0 = 0
    z = tf.Variable([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.6, 0.8, 0.0]])
    with tf.GradientTape() as tape:
        mixture = ps.power_spherical_mixture(mean_direction, concentration)
        log_prob = mixture.log_prob(z)
    gradients = tape.gradient(log_prob, [mean_direction, concentration, z])
    assert all(np.isfinite(g).all() for g in gradients)
    generic = tfd.MixtureSameFamily(mixture.mixture_distribution, mixture.components_distribution)
    np.testing.assert_allclose(log_prob, generic.log_prob(z), rtol=1e-6)  # the antipodal component had weight 0


@pytest.mark.parametrize("dim, concentration", [(2, 0.3), (3, 0.0), (3, 5.0), (10, 50.0), (40, 2000.0)])
def test_draws_lie_on_the_sphere_with_the_cosine_of_the_beta_law(dim, concentration):
    """t = mu^T z has mean kappa / (kappa + d - 1) and the spread of TFP's own sampler."""
    mu = _unit([dim], seed=dim)
    noise = tf.random.stateless_normal([40000, dim - 1 + ps._GAMMA_NOISE], seed=[2, dim])
    z = ps.power_spherical_draw(mu[tf.newaxis], tf.constant([concentration]), noise)
    np.testing.assert_allclose(tf.norm(z, axis=-1), 1.0, atol=2e-6)
    t = tf.linalg.matvec(z, mu).numpy().astype(np.float64)
    reference = tf.linalg.matvec(tfd.PowerSpherical(mu, concentration).sample(40000, seed=[3, dim]), mu).numpy()
    assert abs(t.mean() - concentration / (concentration + dim - 1)) < 4 * t.std() / math.sqrt(len(t)) + 1e-6
    np.testing.assert_allclose(t.std(), reference.std(), rtol=0.03)


def test_gamma_from_normals_matches_the_gamma_law_below_and_above_shape_one():
    for shape in (0.3, 1.0, 7.5, 1000.0):
        normals = tf.random.stateless_normal([100000, ps._GAMMA_NOISE], seed=[4, int(shape * 10)])
        draws = ps.gamma_from_normals(tf.fill([100000], shape), normals).numpy().astype(np.float64)
        assert np.all(draws > 0)
        np.testing.assert_allclose(draws.mean(), shape, rtol=5 * math.sqrt(1 / shape / len(draws)))
        np.testing.assert_allclose(draws.var(), shape, rtol=0.05)


@pytest.mark.parametrize("shape", [0.5, 3.0, 999.0, 1000.0, 5e4, 1e6])
def test_the_gamma_draws_derivative_is_accurate_for_small_and_huge_shapes(shape):
    """d E[X] / d shape = 1, and the derivative stays within 1e-3 of float64 RandomGammaGrad where that is
    accurate (shape <= 1e4), also above the switch to the Wilson-Hilferty form at 1000."""
    x = tf.random.gamma([20000], shape, seed=7, dtype=tf.float64)
    derivative = ps.gamma_sample_derivative(tf.fill([20000], np.float32(shape)), tf.cast(x, tf.float32)).numpy()
    assert np.all(np.isfinite(derivative))
    np.testing.assert_allclose(derivative.mean(), 1.0, atol=0.03)
    if shape <= 1e4:
        exact = tf.raw_ops.RandomGammaGrad(alpha=tf.fill([20000], np.float64(shape)), sample=x).numpy()
        np.testing.assert_allclose(derivative, exact, atol=1e-3)


def test_the_draw_is_reparameterized_in_direction_and_concentration():
    """d E[mu^T z] / d kappa = (d - 1) / (kappa + d - 1)^2 by implicit reparameterization, and a loss
    that does not depend on mu through the draw's law still moves the draw with mu."""
    dim, kappa = 5, 3.0
    mu = tf.Variable(_unit([dim], seed=1))
    concentration = tf.Variable([kappa])
    noise = tf.random.stateless_normal([50000, dim - 1 + ps._GAMMA_NOISE], seed=[5, 6])
    target = tf.one_hot(1, dim)
    with tf.GradientTape(persistent=True) as tape:
        z = ps.power_spherical_draw(mu[tf.newaxis], concentration, noise)
        cosine = tf.reduce_mean(tf.linalg.matvec(z, tf.stop_gradient(mu)))
        toward = tf.reduce_mean(tf.linalg.matvec(z, target))
    np.testing.assert_allclose(tape.gradient(cosine, concentration), [(dim - 1) / (kappa + dim - 1) ** 2], rtol=0.05)
    grad_mu = tape.gradient(toward, mu).numpy()
    assert np.all(np.isfinite(grad_mu)) and np.abs(grad_mu).max() > 0.1


def test_family_contract_shapes_and_the_uniform_prior(family):
    head = family.head(3, "head")
    mean_direction, concentration = head(tf.ones([4, 5]))
    np.testing.assert_allclose(tf.norm(mean_direction, axis=-1), 1.0, rtol=1e-6)
    assert concentration.shape == (4, 1) and np.all(concentration.numpy() > 1.0)
    q = family.distribution(mean_direction, concentration)
    assert q.batch_shape == [4] and q.event_shape == [3]
    np.testing.assert_array_equal(family.location(mean_direction, concentration), mean_direction)
    assert family.noise_dim(3) == 2 + ps._GAMMA_NOISE
    uniform = family.standard(3)
    assert uniform.batch_shape == [] and uniform.event_shape == [3]
    np.testing.assert_allclose(uniform.log_prob(mean_direction), -math.log(4 * math.pi), rtol=1e-6)
    # the uniform prior is the Power Spherical with concentration 0: draws from it are spread evenly
    cdf, directions, concentrations = family.mixture_parameters(uniform)
    assert cdf.shape == (1,) and directions.shape == (1, 3) and concentrations.numpy().tolist() == [0.0]
    normal = tf.random.stateless_normal([30000, family.noise_dim(3)], seed=[7, 8])
    z = family.draw_from_mixture((cdf, directions, concentrations), tf.zeros([30000]), normal)
    np.testing.assert_allclose(tf.reduce_mean(z, axis=0), [0.0, 0.0, 0.0], atol=0.02)
    np.testing.assert_allclose(tf.reduce_mean(tf.square(z), axis=0), [1 / 3] * 3, atol=0.01)


def test_draw_from_mixture_picks_components_by_the_uniform(family):
    mixture = _mixture(4)
    cdf, directions, concentrations = family.mixture_parameters(mixture)
    np.testing.assert_allclose(cdf[-1], 1.0, rtol=1e-6)
    directions = tf.constant(np.eye(3, 4, dtype=np.float32))
    concentrations = tf.constant([1e6, 1e6, 1e6])  # draws sit on their component's direction
    uniform = tf.constant([0.0, float(cdf[0]) + 1e-3, 0.999])
    normal = tf.random.stateless_normal([3, family.noise_dim(4)], seed=[9, 9])
    z = family.draw_from_mixture((cdf, directions, concentrations), uniform, normal)
    np.testing.assert_allclose(z, np.eye(3, 4), atol=5e-3)


def test_the_spherical_vampprior_is_a_reusable_tfd_distribution_with_gradients_to_pseudo_inputs():
    family = latents.make_family("power_spherical")
    encoder_layer = keras.layers.Dense(6, name="features")
    head = family.head(3, "head")

    def encoder(images):
        return head(encoder_layer(tf.reshape(images, [tf.shape(images)[0], -1])))

    prior = priors.VampPrior(encoder, latent_dim=3, input_shape=(2, 2, 1), num_components=4, init_mean=0.5,
                             init_std=0.2, family=family)
    z = _unit([5, 3], seed=11)
    with tf.GradientTape() as tape:
        p = prior.distribution()
        log_prob = p.log_prob(z)
        loss = -tf.reduce_sum(log_prob)
    assert p.batch_shape == [] and p.event_shape == [3] and log_prob.shape == (5,)
    sample = p.sample(6, seed=[1, 2])
    np.testing.assert_allclose(tf.norm(sample, axis=-1), 1.0, atol=1e-5)
    variables = [prior.pseudo_inputs_variable] + head.trainable_variables
    grads = tape.gradient(loss, variables)
    assert all(g is not None and np.abs(g.numpy()).max() > 0 for g in grads)


def test_a_spherical_model_trains_a_step_and_its_kl_reaches_the_pseudo_inputs():
    cfg = config.ModelConfig(input_shape=(4, 4, 1), latent_dim=3, hidden_units=8, num_components=3,
                             posterior="power_spherical")
    model = build_model(cfg, seed=0)
    x = tf.cast(tf.random.stateless_uniform([5, 4, 4, 1], seed=[1, 1]) < 0.5, tf.float32)
    with tf.GradientTape() as tape:
        terms = model(x, seed=tf.constant([3, 0], tf.int64), training=True)
        loss = tf.reduce_mean(terms["kl"] - terms["reconstruction"])
    assert all(terms[k].shape == (5,) for k in ("reconstruction", "kl"))
    grads = dict(zip([v.path for v in model.trainable_variables], tape.gradient(loss, model.trainable_variables)))
    assert all(g is not None for g in grads.values())
    assert np.abs(grads[model.prior.pseudo_inputs_variable.path].numpy()).max() > 0


def test_bad_configurations_name_the_fix():
    with pytest.raises(ValueError, match="needs latent_dim >= 2"):
        config.ModelConfig(latent_dim=1, posterior="power_spherical")
    with pytest.raises(ValueError, match="prior='mog' is a mixture of Gaussians"):
        config.ModelConfig(prior="mog", posterior="power_spherical")


def test_the_figures_of_a_three_dimensional_sphere_include_the_posterior_means(tmp_path, generated_data):
    from vamp_tf import evaluation, results, workdir  # pylint: disable=import-outside-toplevel
    cfg = config.Config(config.ModelConfig(latent_dim=3, hidden_units=8, num_components=3, posterior="power_spherical"),
                        config.TrainConfig(dataset="mnist", data_dir=generated_data["mnist"], figure_samples=4,
                                           eval_samples=10))
    model = build_model(cfg.model, seed=0)
    x = tf.cast(tf.random.stateless_uniform([6, 28, 28, 1], seed=[2, 2]) < 0.3, tf.float32).numpy()
    history = [{"epoch": 1, "train_neg_elbo": 90.0, "train_reconstruction": -80.0, "train_kl": 10.0}]
    figures = results.write_figures(cfg, workdir.RunPaths(str(tmp_path)), model, x, np.full(6, -90.0), history,
                                    evaluation.prior_usage(model, x))
    assert "latent_sphere" in figures and os.path.getsize(figures["latent_sphere"]) > 1000
