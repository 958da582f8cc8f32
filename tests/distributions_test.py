"""Tests of vamp_tf.distributions against float64 numpy references."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy.special import expit

from vamp_tf import distributions

tfd = tfp.distributions


def reference_log_prob(x, loc, log_scale, num_bins=256):
    """log P(bin of x) in float64, edge bins taking the tails."""
    x, loc, s = (np.asarray(v, np.float64) for v in (x, loc, np.exp(log_scale)))
    k = np.clip(np.floor(x * num_bins), 0, num_bins - 1)
    a, b = (k / num_bins - loc) / s, ((k + 1) / num_bins - loc) / s
    a = np.where(k == 0, -np.inf, a)
    b = np.where(k == num_bins - 1, np.inf, b)
    # Difference of CDFs left of the mode, of survival functions right of it (no underflow).
    return np.where(a < 0, np.log(expit(b) - expit(a)), np.log(expit(-a) - expit(-b)))


def test_bin_probabilities_sum_to_one_for_random_and_extreme_parameters():
    rng = np.random.default_rng(0)
    loc = np.concatenate([rng.uniform(0, 1, 200), [1 / 512, 1 - 1 / 512, 0.0, 1.0, -3.0, 4.0]])
    log_scale = np.concatenate([rng.uniform(-4.5, 0, 200), [-4.5, -4.5, -8.0, 3.0, -4.5, 0.0]])
    dist = distributions.DiscretizedLogistic(loc.astype(np.float32), log_scale.astype(np.float32))
    total = tf.reduce_sum(dist.bin_probabilities(), axis=-1).numpy()
    np.testing.assert_allclose(total, 1.0, atol=1e-5)


def test_log_prob_matches_numpy_reference():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=1000) / 255.0
    loc = rng.uniform(1 / 512, 1 - 1 / 512, size=1000)
    log_scale = rng.uniform(-4.5, 0, size=1000)
    got = distributions.DiscretizedLogistic(loc.astype(np.float32), log_scale.astype(np.float32)).log_prob(
        x.astype(np.float32)).numpy()
    want = reference_log_prob(x, loc, log_scale)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("x", [0.0, 1.0])
def test_log_prob_is_finite_at_the_ends_even_for_far_away_locations(x):
    loc = np.array([1 / 512, 1 - 1 / 512, 0.5], np.float32)
    dist = distributions.DiscretizedLogistic(loc, np.full(3, -4.5, np.float32))
    lp = dist.log_prob(np.float32(x)).numpy()
    assert np.all(np.isfinite(lp)), lp
    grads = None
    loc_var = tf.Variable(loc)
    with tf.GradientTape() as tape:
        lp = distributions.DiscretizedLogistic(loc_var, -4.5).log_prob(np.float32(x))
    grads = tape.gradient(lp, loc_var).numpy()
    assert np.all(np.isfinite(grads))


def test_pixel_grid_and_bin_centres_fall_in_the_same_bin():
    dist = distributions.DiscretizedLogistic(0.4, -2.0)
    pixels = np.arange(256)
    on_grid = dist.log_prob((pixels / 255.0).astype(np.float32)).numpy()
    centres = dist.log_prob(((pixels + 0.5) / 256.0).astype(np.float32)).numpy()
    np.testing.assert_allclose(on_grid, centres, rtol=1e-6)


def test_samples_lie_on_the_grid_and_mean_matches_sample_average():
    dist = distributions.DiscretizedLogistic(np.float32([0.2, 0.7, 0.999]), np.float32([-3.0, -1.0, -4.5]))
    samples = dist.sample(20000, seed=(3, 4)).numpy()
    np.testing.assert_allclose(samples * 255, np.round(samples * 255), atol=1e-4)
    assert samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_allclose(samples.mean(0), dist.mean().numpy(), atol=4e-3)
    values = np.arange(256) / 255.0
    np.testing.assert_allclose(
        dist.mean().numpy(), (dist.bin_probabilities().numpy() * values).sum(-1), atol=1e-5)


def test_image_likelihoods_have_image_events():
    logits = tf.zeros([2, 3, 28, 28, 1])
    bern = distributions.bernoulli_likelihood(logits)
    assert bern.batch_shape == [2, 3] and bern.event_shape == [28, 28, 1]
    np.testing.assert_allclose(bern.log_prob(tf.ones([2, 1, 28, 28, 1])).numpy(), 784 * np.log(0.5), rtol=1e-5)
    dl = distributions.discretized_logistic_likelihood(tf.fill([2, 28, 20, 1], 0.5), tf.zeros([2, 28, 20, 1]))
    assert dl.batch_shape == [2] and dl.event_shape == [28, 20, 1]
    assert dl.mean().shape == [2, 28, 20, 1]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="likelihood='gaussian'"):
        distributions.get_likelihood("gaussian")
    with pytest.raises(ValueError, match="num_bins"):
        distributions.DiscretizedLogistic(0.5, 0.0, num_bins=1)


def test_fast_bernoulli_equals_tfps_for_binary_and_fractional_pixels():
    import tensorflow_probability as tfp
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 8, size=(4, 5, 28, 28, 1)).astype(np.float32)
    for x in (rng.random((4, 1, 28, 28, 1)) < 0.3, rng.random((4, 1, 28, 28, 1))):
        x = x.astype(np.float32)
        want = tfp.distributions.Independent(tfp.distributions.Bernoulli(logits=logits, dtype=tf.float32), 3).log_prob(x)
        got = distributions.bernoulli_likelihood(logits).log_prob(x)
        assert got.shape == (4, 5)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


def test_clamped_bernoulli_matches_the_reference_codes_clamp_of_probabilities():
    """The paper's code: log p = x log(clamp(p)) + (1 - x) log(1 - clamp(p)), p in [1e-5, 1 - 1e-5]."""
    logits = np.array([-30.0, -12.0, -11.0, -2.0, 0.0, 3.0, 11.0, 12.0, 30.0], np.float32)
    x = np.array([1, 1, 0, 1, 0, 1, 0, 0, 0], np.float32)
    likelihood = distributions.get_likelihood("bernoulli", probability_clamp=1e-5)
    params = likelihood.constrain({"logits": tf.constant(logits.reshape(1, 9, 1, 1))})
    got = likelihood.make(**params).log_prob(x.reshape(1, 9, 1, 1)).numpy()
    p = np.clip(expit(logits.astype(np.float64)), 1e-5, 1 - 1e-5)
    want = np.sum(x * np.log(p) + (1 - x) * np.log1p(-p))
    np.testing.assert_allclose(got, [want], rtol=1e-5)
    # A confidently wrong pixel costs at most -log(1e-5); the exact Bernoulli charges all of it.
    exact = distributions.get_likelihood("bernoulli")
    assert exact.constrain({"logits": tf.constant(30.0)})["logits"].numpy() == 30.0
    assert -likelihood.make(**params).log_prob(x.reshape(1, 9, 1, 1)).numpy()[0] <= 9 * -np.log(1e-5) + 1e-3


def test_clamped_bernoulli_has_no_gradient_outside_the_clamp_like_torch_clamp():
    logits = tf.Variable([[[[-20.0], [0.5], [20.0]]]])
    likelihood = distributions.get_likelihood("bernoulli", probability_clamp=1e-5)
    with tf.GradientTape() as tape:
        log_p = likelihood.make(**likelihood.constrain({"logits": logits})).log_prob(tf.ones([1, 1, 3, 1]))
    grad = tape.gradient(log_p, logits).numpy().ravel()
    assert grad[0] == 0.0 and grad[2] == 0.0 and grad[1] > 0.0


def test_floored_logistic_matches_the_reference_codes_log_of_p_plus_1e7():
    """The paper's code scores a gray pixel as -log(P(bin) + 1e-7); edge bins are not hit here."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 255, size=400) / 255.0
    loc = rng.uniform(1 / 512, 1 - 1 / 512, size=400)
    log_scale = rng.uniform(-4.5, 0, size=400)
    likelihood = distributions.get_likelihood("discretized_logistic", probability_clamp=1e-7)
    got = likelihood.make(loc=tf.constant(loc.reshape(1, 20, 20, 1), tf.float32),
                          log_scale=tf.constant(log_scale.reshape(1, 20, 20, 1), tf.float32)).log_prob(
        x.reshape(1, 20, 20, 1).astype(np.float32)).numpy()
    want = np.sum(np.log(np.exp(reference_log_prob(x, loc, log_scale)) + 1e-7))
    np.testing.assert_allclose(got, [want], rtol=1e-5)
    exact = distributions.get_likelihood("discretized_logistic")
    assert exact.make(loc=tf.constant(loc.reshape(1, 20, 20, 1), tf.float32),
                      log_scale=tf.constant(log_scale.reshape(1, 20, 20, 1), tf.float32)).log_prob(
        x.reshape(1, 20, 20, 1).astype(np.float32)).numpy()[0] < got[0]


def test_floored_logistic_caps_a_wrong_pixels_cost_and_starves_its_gradient():
    loc = tf.Variable([0.1, 0.9])  # x = 0.9: the first pixel is confidently wrong, the second in its bin
    x = np.float32(0.9)
    costs, grads = [], []
    for floor in (0.0, 1e-7):
        with tf.GradientTape() as tape:
            log_p = distributions.DiscretizedLogistic(loc, -4.5, probability_floor=floor).log_prob(x)
        costs.append(-log_p.numpy())
        grads.append(tape.gradient(log_p, loc).numpy())
    assert costs[0][0] > 60.0 and costs[1][0] <= -np.log(1e-7) + 1e-4  # exact: about 72 nats; floored: 16.1
    assert grads[0][0] > 50.0 and abs(grads[1][0]) < 1e-12  # exact: a strong pull towards x; floored: none
    np.testing.assert_allclose(costs[1][1], costs[0][1], rtol=1e-3)  # a likely pixel is scored as before


@pytest.mark.parametrize("name,clamp,match", [
    ("discretized_logistic", 0.5, r"\(0, 0.5\)"), ("bernoulli", 0.5, r"\(0, 0.5\)"),
    ("bernoulli", -1e-3, r"\(0, 0.5\)")])
def test_bad_probability_clamp_names_the_problem(name, clamp, match):
    with pytest.raises(ValueError, match=match):
        distributions.get_likelihood(name, probability_clamp=clamp)


def _tfp_quantized_logistic(loc, log_scale):
    """TFP's quantized logistic on the integer pixel values 0..255 that DiscretizedLogistic equals
    (bin k of [0, 1] is (k - 1, k] on the 256 * u - 1 scale)."""
    return tfd.QuantizedDistribution(tfd.Logistic(256.0 * loc - 1.0, 256.0 * np.exp(log_scale)), low=0.0, high=255.0)


def test_discretized_logistic_is_tfps_quantized_logistic_on_the_pixel_grid():
    rng = np.random.default_rng(7)
    loc = rng.uniform(-0.1, 1.1, (40, 1))
    log_scale = rng.uniform(-4.5, 0.0, (40, 1))
    pixels = np.arange(256, dtype=np.float64)[None, :]
    in_float64 = distributions.DiscretizedLogistic(loc, log_scale).log_prob(pixels / 255.0).numpy()
    np.testing.assert_allclose(in_float64, _tfp_quantized_logistic(loc, log_scale).log_prob(pixels).numpy(),
                               atol=1e-9, rtol=0)  # the same distribution
    loc, log_scale, pixels = (a.astype(np.float32) for a in (loc, log_scale, pixels))
    ours = distributions.DiscretizedLogistic(loc, log_scale)
    theirs = _tfp_quantized_logistic(loc, log_scale)
    np.testing.assert_allclose(ours.log_prob(pixels / 255.0).numpy(), in_float64, atol=2e-5, rtol=0)
    np.testing.assert_allclose(theirs.log_prob(pixels).numpy(), in_float64, atol=2e-4, rtol=0)  # TFP's CDF differences
    np.testing.assert_allclose(ours.cdf(pixels / 255.0).numpy(), theirs.cdf(pixels).numpy(), atol=1e-5)
    np.testing.assert_array_equal(ours.cdf(np.float32(-0.01)).numpy(), 0.0)
    np.testing.assert_array_equal(ours.cdf(np.float32(1.0)).numpy(), 1.0)
    mode = ours.mode().numpy()[:, 0]
    want = np.argmax(theirs.prob(pixels).numpy(), axis=-1) / 255.0
    np.testing.assert_allclose(mode, want, atol=1e-7)


def test_discretized_logistic_is_a_composite_tensor_like_tfps_distributions():
    @tf.function
    def make(loc):
        return distributions.discretized_logistic_likelihood(loc, tf.fill(tf.shape(loc), -2.0))

    dist = make(tf.fill([2, 4, 3, 1], 0.5))  # returned from a graph
    assert isinstance(dist.distribution, distributions.DiscretizedLogistic) and dist.event_shape == [4, 3, 1]
    assert len(tf.nest.flatten(dist.distribution, expand_composites=True)) == 2  # loc and log_scale
    x = tf.fill([2, 4, 3, 1], 128 / 255)
    np.testing.assert_allclose(dist.log_prob(x).numpy(), make.python_function(tf.fill([2, 4, 3, 1], 0.5)).log_prob(x))
