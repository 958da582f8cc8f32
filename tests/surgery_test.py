"""Tests of vamp_tf.surgery: ELBO surgery against closed forms, and rate_distortion on every kind of model."""

import math

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import evaluation, latents, surgery


def test_gaussian_posteriors_give_the_analytic_rate_information_and_marginal_kl():
    # q(z | x_n) = N(mu_n, s2 I), mu_n ~ N(0, t2 I), p(z) = N(0, I), t2 + s2 = 1: the aggregate posterior is
    # N(0, I) = p(z) as N grows, so KL(q(z) || p(z)) -> 0 and R = I[n; z] = (L / 2) log(1 + t2 / s2).
    n, dim, s2, t2 = 4000, 2, 0.5, 0.5
    family = latents.make_family("gaussian")
    mu = np.random.default_rng(0).normal(0.0, math.sqrt(t2), (n, dim)).astype(np.float32)
    log_variance = np.full((n, dim), math.log(s2), np.float32)
    z = (mu + math.sqrt(s2) * np.random.default_rng(1).standard_normal((n, dim)).astype(np.float32))[:, None]
    terms = surgery.aggregate_posterior_terms(family, (tf.constant(mu), tf.constant(log_variance)), z,
                                              family.standard(dim))
    rate = terms["log_posterior"] - terms["log_prior"]
    information = terms["log_posterior"] - terms["log_aggregate"]
    marginal = terms["log_aggregate"] - terms["log_prior"]
    # each term against its closed form: log q(z | x_n) and log p(z) of the draws
    own = -0.5 * np.sum((z[:, 0] - mu) ** 2 / s2 + math.log(2 * math.pi * s2), axis=1)
    np.testing.assert_allclose(terms["log_posterior"][:, 0], own, atol=1e-4)
    np.testing.assert_allclose(terms["log_prior"][:, 0], -0.5 * np.sum(z[:, 0] ** 2 + math.log(2 * math.pi), axis=1),
                               atol=1e-4)
    analytic_rate = 0.5 * np.sum(s2 + mu ** 2 - 1.0 - math.log(s2), axis=1)  # KL(N(mu, s2) || N(0, 1)) per image
    se = rate.std() / math.sqrt(n)
    assert abs(rate.mean() - analytic_rate.mean()) < 4 * se
    assert abs(information.mean() - dim / 2 * math.log(1 + t2 / s2)) < 4 * information.std() / math.sqrt(n) + 0.01
    assert abs(marginal.mean()) < 4 * marginal.std() / math.sqrt(n) + 0.01
    assert np.all(information <= math.log(n) + 1e-6)  # the estimator's bound


def test_a_vampprior_on_the_test_images_is_their_aggregate_posterior_so_its_marginal_kl_is_zero(tiny_vae):
    images = tiny_vae.images(12)
    model = tiny_vae.model(num_components=12)
    model.prior.pseudo_inputs_variable.assign(images.reshape(12, -1))  # u_k = x_k: p(z) = q(z), K = N
    out = evaluation.rate_distortion(model, images, num_samples=3)
    assert abs(out["marginal_kl"][0]) < 1e-4
    np.testing.assert_allclose(out["rate_prior_latent"][0], out["mutual_information"][0], atol=1e-4)
    assert out["mutual_information"][0] <= out["log_num_images"] + 1e-6


@pytest.mark.parametrize("changes", [dict(), dict(model="hvae"), dict(posterior="power_spherical"),
                                     dict(prior="standard"), dict(prior="mog")],
                         ids=["vae_vamp", "hvae_vamp", "sphere_vamp", "vae_standard", "vae_mog"])
def test_rate_distortion_adds_up_on_every_kind_of_model(changes, tiny_vae):
    model, images = tiny_vae.model(**changes), tiny_vae.images(20, seed=3)
    out = evaluation.rate_distortion(model, images, num_samples=2, seed=5)
    mean = {k: v[0] for k, v in out.items() if isinstance(v, tuple)}
    assert all(np.isfinite(v) for v in mean.values()) and all(v[1] >= 0 for v in out.values() if isinstance(v, tuple))
    if "rate_z1" in mean:
        np.testing.assert_allclose(mean["rate"], mean["rate_z1"] + mean["rate_prior_latent"], rtol=1e-5, atol=1e-4)
    else:
        np.testing.assert_allclose(mean["rate"], mean["rate_prior_latent"], rtol=1e-5, atol=1e-4)
    assert out == evaluation.rate_distortion(model, images, num_samples=2, seed=5)  # the same seed, the same numbers
    # one draw per image: the ELBO terms of the model's own call with the same noise
    one = evaluation.rate_distortion(model, images, num_samples=1, seed=5)
    noise = tf.random.stateless_normal([20, 1, model.noise_dim], seed=[5, 0x5d9])[:, 0]
    terms = model(images, noise=noise)
    np.testing.assert_allclose(one["distortion"][0], -np.mean(terms["reconstruction"]), rtol=1e-5)
    np.testing.assert_allclose(one["rate"][0], np.mean(terms["kl"]), rtol=1e-5, atol=1e-5)


def test_one_image_has_no_aggregate_posterior_to_speak_of(tiny_vae):
    with pytest.raises(ValueError, match="at least 2 images"):
        evaluation.rate_distortion(tiny_vae.model(), tiny_vae.images(1))


def _known_gaussians(n, dim=2, s2=0.5, t2=0.5, seed=0):
    """Posteriors N(mu_n, s2 I) with mu_n ~ N(0, t2 I): their aggregate is N(0, (s2 + t2) I) as n grows."""
    mu = np.random.default_rng(seed).normal(0.0, math.sqrt(t2), (n, dim)).astype(np.float32)
    return tf.constant(mu), tf.constant(np.full((n, dim), math.log(s2), np.float32))


def test_the_held_out_aggregate_of_known_gaussians_approaches_its_closed_form_from_below_as_m_grows():
    family = latents.make_family("gaussian")
    z = np.random.default_rng(9).standard_normal((400, 1, 2)).astype(np.float32)  # draws from q(z) = N(0, I)
    exact = -0.5 * np.sum(z[:, 0] ** 2 + math.log(2 * math.pi), axis=1)
    def gap(m, seeds):  # mean of log q_ref(z) - log q(z) over the draws and over reference sets
        return float(np.mean([np.mean(surgery.held_out_log_aggregate(family, _known_gaussians(m, seed=s), z)[:, 0]
                                      - exact) for s in seeds]))
    small, larger, large = gap(10, range(8)), gap(50, range(8)), gap(20000, [0])
    assert small < larger < 0.0  # biased down (Jensen), less as M grows: measured -0.16 at M = 10, -0.03 at 50
    assert abs(large) < 0.005


def test_a_vampprior_on_the_reference_images_has_zero_held_out_marginal_kl_and_information_past_log_n(
        tiny_vae):
    reference, scored = tiny_vae.images(40, seed=7), tiny_vae.images(5, seed=8)
    model = tiny_vae.model(num_components=40)
    model.prior.pseudo_inputs_variable.assign(reference.reshape(40, -1))  # p(z) = the reference aggregate
    out = evaluation.rate_distortion(model, scored, num_samples=3, reference_images=reference,
                                     reference_sizes=(10, 20, 100))
    assert abs(out["marginal_kl_held_out"][0]) < 1e-4 and out["num_reference_images"] == 40
    by_size = out["held_out_by_reference_size"]
    assert sorted(by_size) == [10, 20, 40] and by_size[40]["marginal_kl_held_out"] == out["marginal_kl_held_out"]
    assert abs(by_size[10]["marginal_kl_held_out"][0]) > 1e-3  # 10 of the 40 components: not the prior any more
    np.testing.assert_allclose(out["rate_prior_latent"][0], out["mutual_information_held_out"][0], atol=1e-4)
    # the in-sample estimator is capped at log N = log 5; the held-out one is not
    assert out["mutual_information"][0] <= math.log(5) + 1e-6
    assert out["mutual_information_held_out"][0] > out["mutual_information"][0]
