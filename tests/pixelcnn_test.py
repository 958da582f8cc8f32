"""Tests of vamp_tf.networks.pixelcnn and the PixelHVAE built from it (ModelConfig.architecture='pixelcnn')."""

import os

import numpy as np
import pytest
import tensorflow as tf

from export import export_lib, sample_lib
from vamp_tf import checkpoints, config, evaluation, models, networks, results, workdir

SHAPES = {"bernoulli": (8, 6, 1), "discretized_logistic": (6, 5, 1)}


def pixel_hvae(likelihood="bernoulli", prior="vamp", seed=0, architecture="pixelcnn"):
    cfg = config.ModelConfig(input_shape=SHAPES[likelihood], likelihood=likelihood, model="hvae", prior=prior,
                             architecture=architecture, latent_dim=3, hidden_units=8, num_components=4)
    return models.build_model(cfg, seed=seed)


def images(likelihood, n, seed):
    x = np.random.default_rng(seed).random((n,) + SHAPES[likelihood]).astype(np.float32)
    return (x < 0.4).astype(np.float32) if likelihood == "bernoulli" else np.round(x * 255) / 255


def test_masks_hide_the_centre_for_a_and_everything_later_for_both():
    a, b = networks.causal_mask(3, "A", 2, 1, masked_in_channels=1), networks.causal_mask(3, "B", 1, 1)
    np.testing.assert_array_equal(a[..., 0, 0], [[1, 1, 1], [1, 0, 0], [0, 0, 0]])  # x channel
    np.testing.assert_array_equal(a[..., 1, 0], np.ones((3, 3)))                      # a latent map: unmasked
    np.testing.assert_array_equal(b[..., 0, 0], [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="mask_type='C' is not supported; allowed: A, B"):
        networks.MaskedConv2D(4, "C")


def test_the_decoder_is_autoregressive_in_raster_order():
    net = pixel_hvae("discretized_logistic")
    height, width, _ = SHAPES["discretized_logistic"]
    z = tf.random.stateless_normal([1, net.latent_width], seed=[1, 2])
    x = tf.Variable(images("discretized_logistic", 1, 3))
    for row, column in [(0, 0), (2, 3), (5, 4)]:
        with tf.GradientTape() as tape:
            loc = net.decode(z, x).distribution.loc[0, row, column, 0]
        grad = np.abs(tape.gradient(loc, x).numpy()[0, :, :, 0]).reshape(-1)
        here = row * width + column
        assert np.all(grad[here:] == 0), (row, column)  # the pixel itself and every later one
        if here > 0:
            assert grad[here - 1] > 0 and grad[0] > 0, (row, column)  # its left neighbour and the first pixel
    assert np.all(np.isfinite(loc.numpy()))


def test_the_codes_decoder_shows_z_to_a_pixel_only_through_earlier_pixels_and_has_no_output_bias():
    """pixelcnn_reference_full masks the latent maps in the first layer too (the code's MaskedConv2d 'A'
    over all its input channels): the first pixel's likelihood is the same whatever z is, the next one's
    is not. Ours (pixelcnn) shows every pixel z at its own position."""
    width = SHAPES["discretized_logistic"][1]
    x = images("discretized_logistic", 2, 3)
    for architecture, first_pixel_sees_z in (("pixelcnn", True), ("pixelcnn_reference_full", False)):
        net = pixel_hvae("discretized_logistic", architecture=architecture)
        z = tf.random.stateless_normal([2, net.latent_width], seed=[1, 2])
        loc = net.decode(z, x).distribution.loc.numpy()[..., 0]  # two different z for two images...
        loc_swapped = net.decode(z[::-1], x).distribution.loc.numpy()[..., 0]  # ...and swapped
        assert (loc[:, 0, 0] != loc_swapped[:, 0, 0]).all() == first_pixel_sees_z, architecture
        assert (loc[:, 0, 1] != loc_swapped[:, 0, 1]).all(), architecture
        assert (net.p_x.head.bias is None) == (not first_pixel_sees_z), architecture
        with tf.GradientTape() as tape:  # still autoregressive in x
            x_var = tf.Variable(x)
            here = net.decode(z, x_var).distribution.loc[:, 2, 3, 0]
        grad = np.abs(tape.gradient(here, x_var).numpy()[0, :, :, 0]).reshape(-1)
        assert np.all(grad[2 * width + 3:] == 0) and grad[2 * width + 2] > 0, architecture
    assert net.config.model_name == "PixelHVAE (the code's layout and decoder)"


# Every prior and every likelihood, not every pair: the prior (on z2) and the likelihood (the decoder's
# head) do not meet; the other tests here and the Frey fixture take (vamp, either likelihood).
@pytest.mark.parametrize("prior, likelihood", [("standard", "bernoulli"), ("mog", "discretized_logistic"),
                                               ("vamp", "bernoulli")])
def test_pixel_hvae_terms_are_finite_and_generation_is_autoregressive(likelihood, prior):
    net = pixel_hvae(likelihood, prior)
    x = images(likelihood, 3, 2)
    out = net(x, seed=[1, 2])
    for name in ("reconstruction", "kl", "elbo", "kl_z1", "kl_z2"):
        assert out[name].shape == (3,) and np.all(np.isfinite(out[name].numpy())), name
    samples = net.sample(2, seed=0).numpy()
    assert samples.shape == (2,) + SHAPES[likelihood] and 0 <= samples.min() and samples.max() <= 1
    np.testing.assert_array_equal(samples, net.sample(2, seed=0).numpy())
    assert net.reconstruct(x).shape == x.shape
    # Generation is consistent: scoring the drawn image gives back, at every pixel, the
    # conditional whose mean was returned and from which the pixel was drawn.
    z = tf.random.stateless_normal([2, net.latent_width], seed=[3, 4])
    u = tf.random.stateless_uniform((2,) + SHAPES[likelihood], seed=[5, 6])
    drawn, means = net.draw_pixels(z, u)
    np.testing.assert_allclose(net.decode(z, drawn).mean(), means, atol=1e-5)
    params = net.p_x(*tf.split(z, 2, axis=-1), drawn)  # the decoder scores the drawn image
    np.testing.assert_allclose(net.likelihood.from_uniform(params, u), drawn, atol=1e-6)  # same bin (1/255 apart)


def test_scoring_needs_images_and_generation_needs_pixel_noise():
    net = pixel_hvae()
    z = tf.zeros([1, net.latent_width])
    with pytest.raises(ValueError, match="autoregressive: it needs the images x it scores"):
        net.decode(z)
    with pytest.raises(ValueError, match="generate_images\\(uniform, normal, pixel_uniform\\)"):
        net.generate(tf.zeros([1]), tf.zeros([1, net.noise_dim]))
    with pytest.raises(ValueError, match="pass pixel_uniform"):
        net.decode_images(z)
    for architecture in ("pixelcnn", "pixelcnn_reference", "pixelcnn_reference_full"):
        with pytest.raises(ValueError, match=f"architecture='{architecture}' takes one-channel images"):
            config.ModelConfig(input_shape=(8, 8, 3), model="hvae", architecture=architecture)


def test_the_codes_layout_has_the_codes_shapes_and_trains(frey_vamp_hvae_that_trains):
    """pixelcnn_reference on a Frey Faces image: q(z1 | x, z2) as the code's PixelHVAE (models/
    PixelHVAE_2level.py) lays it out, x through 3x3 convolutions only and z2 through 40 -> 210 (the x
    features' width), joint 420 -> 300; p(x | z1, z2) as 'pixelcnn''s: each latent to a 560-pixel map."""
    net, kernel = frey_vamp_hvae_that_trains("pixelcnn_reference")
    assert net.config.model_name == "PixelHVAE (the code's layout)"
    assert [kernel("q_z1_body", "first", f"conv_{i}")[:2] for i in range(5)] == [(3, 3)] * 5
    assert kernel("encoder", "conv_0")[:2] == (7, 7)  # q(z2 | x) keeps the 7-3-5-3-3 stack
    assert kernel("q_z1_body", "second") == (40, 2 * 210)
    assert kernel("q_z1_body", "joint") == (420, 2 * 300)
    assert kernel("p_x", "from_z1") == kernel("p_x", "from_z2") == (40, 2 * 560)
    assert isinstance(net.p_x, networks.PixelDecoder)


def test_batch_norm_takes_the_configured_momentum_and_epsilon():
    new = pixel_hvae()
    assert (new.p_x.norm_0.momentum, new.p_x.norm_0.epsilon) == (0.9, 1e-5)  # the paper's code (PyTorch's)
    cfg = config.Config.from_dict({"model": {**config.Config(new.config, config.TrainConfig()).to_dict()["model"],
                                             "batch_norm_momentum": 0.99, "batch_norm_epsilon": 1e-3},
                                   "train": config.TrainConfig().__dict__})
    old = models.build_model(cfg.model)
    assert (old.p_x.norm_7.momentum, old.p_x.norm_7.epsilon) == (0.99, 1e-3)
    # One training step moves the moving mean a tenth of the way to the batch's mean at 0.9, a hundredth at 0.99.
    x = images("bernoulli", 4, 1)
    steps = []
    for net in (new, old):
        before = net.p_x.norm_1.moving_mean.numpy().copy()
        net(x, seed=[1, 2], training=True)
        steps.append(np.abs(net.p_x.norm_1.moving_mean.numpy() - before).mean())
    assert steps[0] > 5 * steps[1]


def test_gradients_reach_every_sub_network_and_batch_norm_learns_only_in_training():
    net = pixel_hvae("discretized_logistic")
    x = images("discretized_logistic", 4, 3)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(net(x, seed=[3, 4], training=True)["elbo"])
    grads = tape.gradient(loss, net.trainable_variables)
    for part in ("encoder", "q_z1_body", "q_z1_head", "p_z1_body", "p_z1_head", "p_x"):
        assert getattr(net, part).trainable_variables, part
    names = [v.path for v in net.trainable_variables]
    assert any("pseudo_inputs" in n for n in names)
    for name, g in zip(names, grads):
        assert g is not None and np.any(g.numpy() != 0), name
    moving = net.p_x.norm_3.moving_mean
    assert np.any(moving.numpy() != 0)  # the training call updated the moving averages
    before = moving.numpy().copy()
    net(x, seed=[3, 4])  # inference: moving averages used, not changed
    np.testing.assert_array_equal(moving.numpy(), before)
    # With moving averages an image's likelihood does not depend on the rest of its batch.
    noise = tf.random.stateless_normal([4, 7, net.noise_dim], seed=[1, 1])
    prior = net.prior.distribution()
    whole = net.log_densities(x, noise, prior)["reconstruction"].numpy()
    alone = net.log_densities(x[:1], noise[:1], prior)["reconstruction"].numpy()
    np.testing.assert_allclose(alone[0], whole[0], rtol=1e-5)


def test_importance_sampled_likelihood_bounds_the_elbo(assert_log_likelihood_bounds_elbo):
    assert_log_likelihood_bounds_elbo(pixel_hvae(), images("bernoulli", 4, 0), num_samples=300, batch_size=2)


def test_the_figures_draw_samples_and_reconstructions_pixel_by_pixel(tmp_path):
    net = pixel_hvae("discretized_logistic")
    x = images("discretized_logistic", 3, 4)
    cfg = config.Config(net.config, config.TrainConfig(dataset="frey_faces", figure_samples=2, eval_samples=10))
    history = [{"epoch": 1, "train_neg_elbo": 90.0, "train_reconstruction": -80.0, "train_kl": 10.0}]
    figures = results.write_figures(cfg, workdir.RunPaths(str(tmp_path)), net, x, np.array([-90.0, -91.0, -92.0]),
                                    history, evaluation.prior_usage(net, x))
    assert set(figures) == {"samples", "reconstructions", "pseudo_inputs", "pseudo_inputs_decoded",
                            "log_likelihood_histogram", "learning_curves"}
    for path in figures.values():
        assert os.path.getsize(path) > 1000, path


@pytest.fixture(scope="module")
def frey_pixel_run(train_frey_hvae):
    # No figures: every sample and reconstruction is H x W = 560 passes of the masked stack (about 10 s
    # for the two figures of this run); the test above draws them for small images.
    return train_frey_hvae("pixelcnn", train_examples=100, batch_size=25, test_examples=2, eval_samples=20,
                           eval_batch_size=2)


def test_training_on_real_frey_faces_lowers_the_training_loss(frey_pixel_run, assert_two_epochs_learned):
    _, run, finished = frey_pixel_run
    # The training loss, not the validation -ELBO: after 2 x 4 steps batch normalisation's moving
    # averages (momentum 0.99), which validation uses, have moved 8% of the way to the batch
    # statistics, and at a warm-up beta of 0.01-0.02 the z1 KL is nearly free. The validation -ELBO
    # of such runs went either way with the thread count (4057 -> 10420 with one thread per core
    # when this run took 3 steps of 100 per epoch).
    assert_two_epochs_learned(run, finished, key="train_loss")
    # The checkpoint holds batch normalisation's moving averages: a restored model scores the same.
    net, _, _ = checkpoints.restore_model(run)
    x = np.round(np.random.default_rng(1).random((2, 28, 20, 1)) * 255).astype(np.float32) / 255
    moving = net.p_x.norm_0.moving_variance.numpy()
    assert not np.allclose(moving, 1.0)
    again, _, _ = checkpoints.restore_model(run)
    np.testing.assert_allclose(again(x)["elbo"], net(x)["elbo"], rtol=1e-6)


def test_export_round_trip_draws_pixels_inside_the_graph(tmp_path):
    # A small image keeps the H x W passes of the masked stack cheap; batch norm is given
    # moving averages first, so the exported graph does more than the identity.
    net = pixel_hvae("discretized_logistic", prior="vamp")
    for seed in range(3):
        net(images("discretized_logistic", 8, seed), seed=[seed, 0], training=True)
    module = export_lib.GenerativeModule(net)
    export_lib.save_saved_model(module, str(tmp_path / "saved_model"))
    cfg = config.Config(net.config, config.TrainConfig(dataset="frey_faces"))
    meta = export_lib.describe(module, cfg, "ckpt")
    assert meta["autoregressive"] and meta["inputs"]["sample"]["pixel_uniform"] == [None, 6, 5, 1]
    inputs = sample_lib.noise(meta, 3, 0)
    sample_lib.check_inputs(meta, inputs)
    with pytest.raises(sample_lib.SampleError, match="pixel_uniform must lie in \\[0, 1\\)"):
        sample_lib.check_inputs(meta, dict(inputs, pixel_uniform=inputs["pixel_uniform"] + 1))
    noise = (inputs["component_uniform"], inputs["latent_normal"], inputs["pixel_uniform"])
    want = net.generate_images(*noise).numpy()
    want_drawn = net.draw_images(*noise).numpy()
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    out = loaded.signatures["sample"](**{k: tf.constant(v) for k, v in inputs.items()})
    got = out["mean_images"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(out["images"].numpy(), want_drawn, atol=1e-5)
    lite = export_lib.tflite_run(export_lib.tflite_bytes(module, "sample"), inputs)
    np.testing.assert_allclose(lite["mean_images"], got, atol=1e-4)
    z = np.random.default_rng(1).standard_normal((2, net.latent_width)).astype(np.float32)
    pixel = inputs["pixel_uniform"][:2]
    decoded = loaded.signatures["decode"](z=tf.constant(z), pixel_uniform=tf.constant(pixel))["mean_images"].numpy()
    np.testing.assert_allclose(decoded, net.decode_images(z, pixel).numpy(), atol=1e-5)
    lite = export_lib.tflite_run(export_lib.tflite_bytes(module, "decode"), {"z": z, "pixel_uniform": pixel})
    np.testing.assert_allclose(lite["mean_images"], decoded, atol=1e-4)
