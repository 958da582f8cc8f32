"""Tests of vamp_tf.step: `model.compile(); model.fit()` runs the custom loop's step exactly."""

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import config, models, optimizers, step
from vamp_tf.trainer import Trainer

SHAPE = (6, 5, 1)


def tiny_model(kind, prior, seed=4):
    cfg = config.ModelConfig(input_shape=SHAPE, model=kind, prior=prior, latent_dim=3, hidden_units=8,
                             num_components=4)
    return models.build_model(cfg, seed=seed)


def batches(noise_dim, n=2, batch=8):  # two steps: the second uses Adam's moments
    rng = np.random.default_rng(0)
    return [((rng.random((batch,) + SHAPE) < 0.4).astype(np.float32),
             rng.standard_normal((batch, noise_dim)).astype(np.float32)) for _ in range(n)]


@pytest.mark.parametrize("kind", config.MODELS)
@pytest.mark.parametrize("prior", config.PRIORS)
def test_fit_steps_equal_the_custom_loops_steps(kind, prior):
    custom, fitted = tiny_model(kind, prior), tiny_model(kind, prior)
    data = batches(custom.noise_dim)
    optimizer = optimizers.make_optimizer("adam", 1e-2)
    for x, n in data:  # eagerly, as fit below: 6 configurations x 2 traces would cost a minute here
        step.train_step(custom, optimizer, x, n, tf.constant(0.3), 8.0)
    fitted.compile(optimizer=optimizers.make_optimizer("adam", 1e-2), run_eagerly=True)
    fitted.kl_weight.assign(0.3)
    images, noise = (np.concatenate(a) for a in zip(*data))
    dataset = tf.data.Dataset.from_tensor_slices({"image": images, "noise": noise}).batch(8)
    history = fitted.fit(dataset, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(custom.trainable_variables, fitted.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    assert set(history.history) == {"loss", "elbo", "reconstruction", "kl"}
    assert np.isfinite(history.history["elbo"][0])


def test_fit_on_images_alone_with_warmup_and_evaluate():  # traced, as fit runs by default
    net = tiny_model("vae", "vamp")
    net.compile(optimizer="adam")
    images = (np.random.default_rng(1).random((64,) + SHAPE) < 0.4).astype(np.float32)
    history = net.fit(images, batch_size=16, epochs=3, verbose=0, callbacks=[models.KLWarmup(warmup_epochs=2)])
    assert float(net.kl_weight.numpy()) == 1.0  # epoch 3 of a 2-epoch warm-up
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = net.evaluate(images, batch_size=16, verbose=0, return_dict=True)
    np.testing.assert_allclose(scores["loss"], -scores["elbo"], rtol=1e-5)  # beta = 1 when evaluating
    with pytest.raises(ValueError, match="compile\\(loss=...\\) is not supported"):
        net.compile(optimizer="adam", loss="mse")


def test_the_trainer_step_is_this_step(real_data_dir):
    cfg = config.Config(config.ModelConfig(latent_dim=3, hidden_units=8, num_components=4),
                        config.TrainConfig(data_dir=real_data_dir, train_examples=200, seed=2))
    t = Trainer(cfg)
    copy = models.build_model(cfg.model, seed=2)
    optimizer = optimizers.make_optimizer("adam", cfg.train.learning_rate)
    batch = next(iter(t.epoch_dataset(0)))
    want = step.train_step(copy, optimizer, batch[0], batch[1], tf.constant(0.5), 100.0).numpy()
    got = t.train_step(batch, tf.constant(0.5)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5)
    for a, b in zip(copy.trainable_variables, t.model.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
