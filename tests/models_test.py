"""Tests of vamp_tf.models (the contract, VAE, HVAE, the fit adapter, build_model): ELBO terms, shapes, gradients, sampling, bad input."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from vamp_tf import config, models

tfd = tfp.distributions

SMALL = dict(latent_dim=3, hidden_units=8, num_components=4)
SHAPES = {"bernoulli": (6, 5, 1), "discretized_logistic": (4, 3, 1)}


def small_model(likelihood="bernoulli", kind="vae", prior="vamp", seed=0):
    cfg = config.ModelConfig(input_shape=SHAPES[likelihood], likelihood=likelihood, model=kind,
                             prior=prior, **SMALL)
    return models.build_model(cfg, seed=seed)


ALL = [(lik, kind, prior) for lik in SHAPES for kind in config.MODELS for prior in config.PRIORS]


@pytest.mark.parametrize("likelihood,kind,prior", ALL)
def test_elbo_terms_are_finite_for_blank_and_full_images(likelihood, kind, prior):
    net = small_model(likelihood, kind, prior)
    shape = SHAPES[likelihood]
    for value in (0.0, 1.0):
        x = tf.fill((2,) + shape, value)
        out = net(x, seed=[1, 2])
        for name in ("reconstruction", "kl", "elbo", "log_prior", "log_posterior"):
            assert out[name].shape == (2,), name
            assert np.all(np.isfinite(out[name].numpy())), (name, value)
        np.testing.assert_allclose(out["elbo"], out["reconstruction"] - out["kl"], rtol=1e-6)
        if kind == "hvae":
            np.testing.assert_allclose(out["kl"], out["kl_z1"] + out["kl_z2"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", config.MODELS)
def test_gradients_reach_every_variable(kind):
    net = small_model("discretized_logistic", kind, "vamp")
    x = tf.random.uniform((4,) + SHAPES["discretized_logistic"], seed=1)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(net(x, seed=[3, 4])["elbo"])
    grads = tape.gradient(loss, net.trainable_variables)
    names = [v.path for v in net.trainable_variables]
    assert any("pseudo_inputs" in n for n in names)
    for name, g in zip(names, grads):
        assert g is not None and np.any(g.numpy() != 0), name
    assert len(set(names)) == len(names)  # the VampPrior shares the encoder, not a copy


def test_monte_carlo_kl_matches_analytic_kl_on_average():
    net = small_model("bernoulli", "vae", "standard")
    x = tf.cast(tf.random.uniform((3,) + SHAPES["bernoulli"], seed=2) < 0.5, tf.float32)
    noise = tf.random.stateless_normal([3, 20000, 3], seed=[5, 6])
    terms = net.log_densities(x, noise, net.prior.distribution())
    mc = (terms["log_posterior"] - terms["log_prior"]).numpy()
    analytic = tfd.kl_divergence(net.posterior(x), net.prior.distribution()).numpy()
    standard_error = mc.std(axis=1) / np.sqrt(mc.shape[1])
    assert np.all(np.abs(mc.mean(axis=1) - analytic) < 5 * standard_error + 1e-4), (mc.mean(1), analytic)


@pytest.mark.parametrize("kind", config.MODELS)
def test_sample_and_reconstruct_shapes_and_seeding(kind):
    net = small_model("discretized_logistic", kind, "vamp")
    a, b, c = net.sample(5, seed=0), net.sample(5, seed=0), net.sample(5, seed=1)
    assert a.shape == (5,) + SHAPES["discretized_logistic"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert np.all((a.numpy() >= 0) & (a.numpy() <= 1))
    x = tf.random.uniform((2,) + SHAPES["discretized_logistic"], seed=3)
    assert net.reconstruct(x).shape == x.shape
    means = net.posterior_means(x)
    assert set(means) == ({"z"} if kind == "vae" else {"z1", "z2"})


def test_same_seed_same_weights():
    a, b = small_model(seed=3), small_model(seed=3)
    for va, vb in zip(a.trainable_variables, b.trainable_variables):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    c = small_model(seed=4)
    assert not np.allclose(a.trainable_variables[0].numpy(), c.trainable_variables[0].numpy())


def test_bad_images_raise_value_errors_naming_the_problem():
    net = small_model()
    good = np.zeros((2,) + SHAPES["bernoulli"], np.float32)
    with pytest.raises(ValueError, match="expected \\[batch, 6, 5, 1\\]"):
        net(np.zeros((2, 30), np.float32))
    bad = good.copy(); bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        net(bad)
    bad = good.copy(); bad[0, 0, 0, 0] = 255.0
    with pytest.raises(ValueError, match="pixels must be in \\[0, 1\\]"):
        net.reconstruct(bad)


@pytest.mark.parametrize("field,value,match", [
    ("latent_dim", 0, "latent_dim=0"), ("num_components", 0, "num_components=0"),
    ("hidden_units", -3, "hidden_units=-3"), ("prior", "gauss", "prior='gauss'"),
    ("model", "vqvae", "model='vqvae'"), ("likelihood", "normal", "likelihood='normal'"),
    ("input_shape", (28, 28), "input_shape"), ("pseudo_init", "zeros", "pseudo_init='zeros'")])
def test_bad_model_config_raises_value_error(field, value, match):
    with pytest.raises(ValueError, match=match):
        config.ModelConfig(**{field: value})


@pytest.mark.parametrize("kind", config.MODELS)
def test_checkpoint_saves_and_restores_every_variable(kind, tmp_path):
    net = small_model("bernoulli", kind, "vamp", seed=1)
    path = tf.train.Checkpoint(model=net).save(str(tmp_path / "ckpt"))
    saved = {name for name, _ in tf.train.list_variables(path) if name.startswith("model/")}
    assert len(saved) == len(net.variables)
    other = small_model("bernoulli", kind, "vamp", seed=2)
    tf.train.Checkpoint(model=other).restore(path).assert_consumed()
    for a, b in zip(net.variables, other.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _fit_model():
    m = models.build_model(config.ModelConfig(prior="vamp", latent_dim=3, hidden_units=8, num_components=4,
                                             input_shape=(6, 5, 1)))
    m.compile(optimizer="adam")
    return m


@pytest.mark.parametrize("damage,error,match", [
    ("nan", ValueError, "holds NaN or infinite pixels"), ("range", ValueError, "outside \\[0, 1\\]"),
    ("noise", "NonFiniteLoss", "the loss is NaN or infinite")])
def test_fit_refuses_bad_batches_before_they_change_any_weight(damage, error, match):
    from vamp_tf import step
    m = _fit_model()
    x = (np.random.default_rng(0).random((20, 6, 5, 1)) < 0.5).astype(np.float32)
    noise = np.random.default_rng(1).standard_normal((20, m.noise_dim)).astype(np.float32)
    m.fit(tf.data.Dataset.from_tensor_slices({"image": x, "noise": noise}).batch(10), epochs=1, verbose=0)
    bad_x, bad_noise = x.copy(), noise.copy()
    if damage == "nan":
        bad_x[13, 2, 2, 0] = np.nan  # the second batch
    elif damage == "range":
        bad_x[13] *= 3.0
    else:
        bad_noise[13] = np.inf  # finite images, a non-finite loss
    error = step.NonFiniteLoss if error == "NonFiniteLoss" else error
    with pytest.raises(error, match=f"fit stopped at step 4: .*{match}.*the model keeps the weights after step 3"):
        m.fit(tf.data.Dataset.from_tensor_slices({"image": bad_x, "noise": bad_noise}).batch(10), epochs=1, verbose=0)
    after_one_good_batch = _fit_model()  # the same start, two epochs' first batches: steps 1-3
    after_one_good_batch.fit(tf.data.Dataset.from_tensor_slices({"image": x, "noise": noise}).batch(10), epochs=1, verbose=0)
    after_one_good_batch.fit(tf.data.Dataset.from_tensor_slices({"image": x[:10], "noise": noise[:10]}).batch(10), epochs=1, verbose=0)
    for got, want in zip(m.trainable_variables, after_one_good_batch.trainable_variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=got.path)
    assert int(m.optimizer.iterations.numpy()) == 3


# --- what Keras users pass to fit / evaluate / predict -----------------------------------------

def _binary(n=20, seed=0, shape=SHAPES["bernoulli"]):
    return (np.random.default_rng(seed).random((n,) + shape) < 0.5).astype(np.float32)


def _fitted(data, **fit_kwargs):
    m = _fit_model()
    m.compile(optimizer="adam", run_eagerly=True)
    m.fit(data, epochs=1, verbose=0, shuffle=False, **fit_kwargs)
    return m


def _same_weights(a, b):
    for u, v in zip(a.trainable_variables, b.trainable_variables):
        np.testing.assert_array_equal(u.numpy(), v.numpy(), err_msg=u.path)


def test_fit_takes_targets_labels_and_tfds_dicts_and_ignores_what_is_not_the_image():
    x = _binary()
    labels = np.arange(20) % 10
    reference = _fitted(tf.data.Dataset.from_tensor_slices(x).batch(10))
    _same_weights(reference, _fitted(x, y=x, batch_size=10))                                      # fit(x, x)
    _same_weights(reference, _fitted(tf.data.Dataset.from_tensor_slices((x, x)).batch(10)))        # (x, x) dataset
    _same_weights(reference, _fitted(tf.data.Dataset.from_tensor_slices((x, labels)).batch(10)))   # as_supervised
    tfds_style = {"image": (x * 255).astype(np.uint8), "label": labels, "id": np.arange(20).astype(str)}
    _same_weights(reference, _fitted(tf.data.Dataset.from_tensor_slices(tfds_style).batch(10)))   # TFDS dicts, uint8
    binarized_uint8 = {"image": x.astype(np.uint8)}                                                # {0, 1} uint8
    _same_weights(reference, _fitted(tf.data.Dataset.from_tensor_slices(binarized_uint8).batch(10)))
    scores = reference.evaluate(tf.data.Dataset.from_tensor_slices(tfds_style).batch(10), verbose=0,
                                return_dict=True)
    same = reference.evaluate(tf.data.Dataset.from_tensor_slices(x).batch(10), verbose=0, return_dict=True)
    assert scores == pytest.approx(same, rel=1e-6)  # TFDS dicts of uint8 score as the float arrays they hold
    terms = reference.predict(tf.data.Dataset.from_tensor_slices(tfds_style).batch(10), verbose=0)
    arrays = reference.predict(tf.data.Dataset.from_tensor_slices(x).batch(10), verbose=0)
    np.testing.assert_allclose(terms["elbo"], arrays["elbo"], rtol=1e-6)


def test_uint8_gray_images_are_scaled_for_the_discretized_logistic():
    cfg = config.ModelConfig(input_shape=SHAPES["discretized_logistic"], likelihood="discretized_logistic", **SMALL)
    pixels = np.random.default_rng(2).integers(0, 256, (8,) + SHAPES["discretized_logistic"]).astype(np.uint8)
    a, b = models.build_model(cfg, seed=1), models.build_model(cfg, seed=1)
    for m, data in ((a, pixels), (b, pixels.astype(np.float32) / 255)):
        m.compile(optimizer="adam", run_eagerly=True)
        m.fit(tf.data.Dataset.from_tensor_slices({"image": data}).batch(4), epochs=1, verbose=0)
    _same_weights(a, b)


@pytest.mark.parametrize("gray", ["float", "uint8"])
def test_gray_images_are_never_trained_on_by_a_bernoulli_likelihood(gray):
    m = _fit_model()
    m.compile(optimizer="adam", run_eagerly=True)
    before = [v.numpy().copy() for v in m.trainable_variables]
    x = np.random.default_rng(3).random((20,) + SHAPES["bernoulli"]).astype(np.float32)
    data = (x * 255).astype(np.uint8) if gray == "uint8" else x
    with pytest.raises(ValueError, match="gray pixels.*Bernoulli.*dynamic_binarization.*discretized_logistic"):
        m.fit(data, batch_size=10, epochs=1, verbose=0)
    for got, want in zip(m.trainable_variables, before):
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(ValueError, match="evaluate stopped: a batch holds gray pixels"):
        m.evaluate(data, batch_size=10, verbose=0)


def test_fit_refuses_sample_weights_and_dicts_without_images_in_one_sentence():
    m = _fit_model()
    m.compile(optimizer="adam", run_eagerly=True)
    x = _binary()
    with pytest.raises(ValueError, match="sample_weight is not supported"):
        m.fit(x, x, sample_weight=np.ones(20), batch_size=10, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="needs its images under 'image'.*\\['pixels'\\]"):
        m.fit(tf.data.Dataset.from_tensor_slices({"pixels": x}).batch(10), epochs=1, verbose=0)


@pytest.mark.parametrize("likelihood,kind", [("bernoulli", "vae"), ("bernoulli", "hvae"),
                                             ("discretized_logistic", "vae")])
def test_sample_draws_images_and_mean_images_gives_their_means(likelihood, kind):
    net = small_model(likelihood, kind, "vamp")
    drawn, means = net.sample(6, seed=4).numpy(), net.mean_images(6, seed=4).numpy()
    assert drawn.shape == means.shape == (6,) + SHAPES[likelihood]
    np.testing.assert_array_equal(drawn, net.sample(6, seed=4).numpy())
    grid = np.round(drawn * 255)
    np.testing.assert_allclose(drawn * 255, grid, atol=1e-4)  # values on the pixel grid p / 255
    if likelihood == "bernoulli":
        assert set(np.unique(drawn)) <= {0.0, 1.0}
        # the same z, the same uniform noise: a pixel is 1 exactly where its noise is below its mean
        uniform, normal = tf.random.stateless_uniform([6], seed=[1, 1]), tf.random.stateless_normal(
            [6, net.noise_dim], seed=[1, 2])
        pixel_uniform = tf.random.stateless_uniform((6,) + SHAPES[likelihood], seed=[1, 3])
        np.testing.assert_array_equal(net.draw_images(uniform, normal, pixel_uniform).numpy(),
                                      (pixel_uniform.numpy() < net.generate_images(uniform, normal).numpy()))
    assert not np.array_equal(drawn, means)


def test_bad_images_are_refused_in_the_libraries_own_words_not_keras_wrapping():
    from vamp_tf import config, models
    model = models.build_model(config.ModelConfig(latent_dim=2, hidden_units=8, num_components=3), seed=0)
    with pytest.raises(ValueError) as error:
        model(np.full((2, 28, 28, 1), 2.0, np.float32))
    assert str(error.value) == "x has pixels in [2, 2]; pixels must be in [0, 1] (divide 8-bit images by 255)."
    with pytest.raises(ValueError) as error:
        model(np.zeros((2, 28, 20, 1), np.float32))
    assert str(error.value).startswith("x has shape (2, 28, 20, 1); expected [batch, 28, 28, 1]")


@pytest.mark.parametrize("kind", ["vae", "hvae"])
def test_a_model_never_compiled_predicts_and_encodes(kind):
    # A loaded preset is not compiled: predict used to fail on the missing `optimizer` attribute.
    net = small_model("bernoulli", kind, "vamp")
    x = _binary(4)
    terms = net.predict(x, batch_size=4, verbose=0)
    compiled = small_model("bernoulli", kind, "vamp")
    compiled.compile(optimizer="adam")
    np.testing.assert_allclose(terms["elbo"], compiled.predict(x, batch_size=4, verbose=0)["elbo"], rtol=1e-6)
    assert np.all(terms["elbo"] < 0)
    encoded = net.encode(x)
    assert list(encoded) == ["mean", "log_variance"]
    means = net.posterior_means(x)[net.prior_latent].numpy()
    np.testing.assert_array_equal(encoded["mean"].numpy(), means)
    with pytest.raises(ValueError, match="x has shape"):
        net.encode(x[:, :3])
