"""Tests of vamp_tf.optimal_prior: the priors a trained model is scored under, against closed forms."""

import math

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import evaluation, optimal_prior


def test_em_fits_a_known_two_component_mixture():
    # posteriors N(+-2, 0.25) in two equal clusters: their aggregate is 0.5 N(-2, 0.5 + v) + 0.5 N(2, ...), with
    # each cluster's means spread by 0.25: variance 0.25 (posterior) + 0.25 (spread) = 0.5 per dimension
    rng = np.random.default_rng(0)
    centres = np.where(rng.random(4000) < 0.5, -2.0, 2.0)[:, None] * np.ones((1, 2))
    mean = centres + 0.5 * rng.standard_normal((4000, 2))
    fitted = optimal_prior.fit_mixture((mean, np.full((4000, 2), math.log(0.25))), num_components=2, iterations=60)
    loc = np.sort(fitted.components_distribution.loc.numpy()[:, 0])
    np.testing.assert_allclose(loc, [-2.0, 2.0], atol=0.1)
    np.testing.assert_allclose(fitted.components_distribution.scale.diag.numpy() ** 2, 0.5, atol=0.06)
    np.testing.assert_allclose(tf.nn.softmax(fitted.mixture_distribution.logits).numpy(), [0.5, 0.5], atol=0.03)


def test_the_trained_prior_scores_as_the_models_own_evaluation(tiny_vae):
    model, images = tiny_vae.model(), tiny_vae.images(6, seed=1)
    got = optimal_prior.log_likelihoods(model, images, {"trained": model.prior.distribution()}, num_samples=200,
                                        seed=3)["trained"]
    want = evaluation.log_likelihood(model, images, num_samples=200, seed=3)["per_image"]
    np.testing.assert_allclose(got, want, atol=1e-5)  # other batch sizes, the same noise per image
    # every other image, and a run of two, scored at their positions: as the whole set's evaluation scored them
    positions = np.array([0, 2, 3, 5])
    counts = []
    strided = optimal_prior.log_likelihoods(model, images[positions], {"trained": model.prior.distribution()},
                                            num_samples=200, seed=3, indices=positions,
                                            progress=counts.append)["trained"]
    np.testing.assert_allclose(strided, want[positions], atol=1e-5)
    assert counts[-1] == 4 and counts == sorted(counts)
    assert not np.allclose(optimal_prior.log_likelihoods(model, images[positions], {"t": model.prior.distribution()},
                                                         num_samples=200, seed=3)["t"], want[positions], atol=1e-3)
    with pytest.raises(ValueError, match="3 indices for 4 images"):
        optimal_prior.log_likelihoods(model, images[positions], {"t": model.prior.distribution()}, indices=[0, 1, 2])


def test_a_vampprior_on_the_training_images_is_their_aggregate_so_it_closes_the_whole_gap(tiny_vae):
    train, test = tiny_vae.images(30, seed=2), tiny_vae.images(8, seed=3)
    model = tiny_vae.model(num_components=30)
    model.prior.pseudo_inputs_variable.assign(train.reshape(30, -1))  # p(z) = the training aggregate
    found = optimal_prior.priors(model, train, num_components=5)
    per_image = optimal_prior.log_likelihoods(model, test, found, num_samples=300, seed=4)
    np.testing.assert_allclose(per_image["aggregate"], per_image["trained"], atol=1e-4)
    share, error = optimal_prior.share_closed(per_image)
    assert abs(share - 1.0) < 1e-4 and error < 1e-3
    # the aggregate is the best prior for this encoder on average over the training images themselves
    on_train = optimal_prior.log_likelihoods(model, train, {k: found[k] for k in ("aggregate", "standard")},
                                             num_samples=300, seed=4)
    assert np.mean(on_train["aggregate"]) > np.mean(on_train["standard"])


def test_share_closed_and_its_error_on_known_numbers():
    standard = np.array([-100.0, -102.0, -98.0, -101.0])
    per_image = {"standard": standard, "aggregate": standard + np.array([4.0, 4.0, 4.0, 4.0]),
                 "trained": standard + np.array([3.0, 2.0, 3.0, 2.0])}
    share, error = optimal_prior.share_closed(per_image)
    assert share == pytest.approx(2.5 / 4.0)
    # b is constant, so the delta method's error is the standard error of a / mean(b)
    assert error == pytest.approx(np.std([3.0, 2.0, 3.0, 2.0], ddof=1) / 2 / 4.0)


def test_the_fitted_prior_needs_gaussian_latents(tiny_vae):
    with pytest.raises(ValueError, match="the model's latents are power_spherical"):
        optimal_prior.priors(tiny_vae.model(posterior="power_spherical"), tiny_vae.images(10), num_components=2)


def test_the_smoothed_aggregate_is_the_aggregate_convolved_with_the_bandwidth():
    mean = np.array([[0.0, 1.0], [2.0, -1.0]], np.float32)
    log_variance = np.log(np.array([[0.04, 0.09], [0.25, 0.01]], np.float32))
    z = np.array([[0.3, 0.5], [1.5, -0.8]], np.float32)

    def closed_form(h):  # 0.5 sum_m N(z; mean_m, var_m + h^2), per point
        var = np.exp(log_variance) + h ** 2
        dens = np.exp(-0.5 * np.sum((z[:, None] - mean[None]) ** 2 / var[None] + np.log(2 * np.pi * var[None]), -1))
        return np.log(dens.mean(axis=1))

    for h in (0.0, 0.3, 1.0):
        got = optimal_prior.smoothed_aggregate((mean, log_variance), h).log_prob(z).numpy()
        np.testing.assert_allclose(got, closed_form(h), atol=1e-5)
    with pytest.raises(ValueError, match="bandwidth must be >= 0, got -0.1"):
        optimal_prior.smoothed_aggregate((mean, log_variance), -0.1)


def test_the_chosen_bandwidth_is_the_best_on_the_validation_images(tiny_vae):
    model, train, valid = tiny_vae.model(), tiny_vae.images(20, seed=5), tiny_vae.images(4, seed=6)
    parameters = tuple(p.numpy() for p in optimal_prior.surgery.posterior_parameters(model, train))
    counts = []
    best, scores = optimal_prior.choose_bandwidth(model, parameters, valid, [0.0, 0.5, 2.0], num_samples=50, seed=1,
                                                  progress=lambda done, note="": counts.append(done))
    assert sorted(scores) == [0.0, 0.5, 2.0] and scores[best] == max(scores.values())
    # the progress counts the images of all three bandwidths in one rising count, 12 in all
    assert counts == sorted(counts) and counts[-1] == 12 and len(set(counts)) == len(counts)
    # each score is the mean log p(x) of the validation images under that smoothed aggregate, same noise
    again = optimal_prior.log_likelihoods(model, valid, {"s": optimal_prior.smoothed_aggregate(parameters, 0.5)},
                                          num_samples=50, seed=1)["s"]
    assert scores[0.5] == pytest.approx(float(np.mean(again)), abs=1e-5)
    with pytest.raises(ValueError, match="at least one bandwidth"):
        optimal_prior.choose_bandwidth(model, parameters, valid, [])
