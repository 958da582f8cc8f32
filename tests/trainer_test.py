"""Tests of vamp_tf.trainer: one trace, data-initialised pseudo-inputs, seeded epochs, the last batch."""

import logging

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import config, datasets, step, train_lib, trainer


def tiny(data_dir, **model):
    kw = dict(latent_dim=4, hidden_units=8, num_components=20)
    kw.update(model)
    return config.Config(config.ModelConfig(**kw), config.TrainConfig(data_dir=data_dir, train_examples=300, seed=3))


def test_train_step_is_traced_once_across_epochs_and_betas(real_data_dir):
    t = trainer.Trainer(tiny(real_data_dir))
    for epoch, beta in enumerate((0.0, 0.5, 1.0)):
        for batch in t.epoch_dataset(epoch):
            t.train_step(batch, tf.constant(beta))
    assert t.train_step.experimental_get_tracing_count() == 1


def test_pseudo_inputs_initialised_from_training_images(real_data_dir):
    cfg = tiny(real_data_dir, pseudo_init="data")
    u = trainer.Trainer(cfg).model.prior.pseudo_inputs_variable.numpy()
    train = datasets.examples("mnist", "train", real_data_dir, num_examples=300, gray=True).reshape(300, -1)
    distance = np.abs(u[:, None, :] - train[None]).max(-1).min(-1)  # to the nearest training image
    assert np.all(distance < 0.06), distance  # image + N(0, 0.01) noise
    assert len(np.unique(np.argmin(np.abs(u[:, None, :] - train[None]).max(-1), -1))) == 20  # 20 distinct images


def test_an_epochs_batches_depend_on_seed_and_epoch_only(real_data_dir):
    a, b = trainer.Trainer(tiny(real_data_dir)), trainer.Trainer(tiny(real_data_dir))
    first = [(x.numpy(), n.numpy()) for x, n in a.epoch_dataset(1)]
    again = [(x.numpy(), n.numpy()) for x, n in b.epoch_dataset(1)]
    other = [(x.numpy(), n.numpy()) for x, n in a.epoch_dataset(2)]
    for (x1, n1), (x2, n2) in zip(first, again):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(n1, n2)
    assert not np.array_equal(first[0][1], other[0][1])
    skipped = [n.numpy() for _, n in a.epoch_dataset(1, skip=2)]
    np.testing.assert_array_equal(skipped[0], first[2][1])


def test_the_codes_optimizer_normalises_each_of_the_codes_tensors_in_the_train_step(real_data_dir):
    cfg = tiny(real_data_dir)
    cfg = config.Config(cfg.model, config.TrainConfig(data_dir=real_data_dir, train_examples=300, seed=3,
                                                      optimizer="adam_normgrad_code"))
    t = trainer.Trainer(cfg)
    # The gated layers' and the Gaussian heads' kernels and biases are two of the code's tensors each.
    pieces = dict(zip((v.path for v in t.model.trainable_variables), t.optimizer._pieces))
    assert pieces["vae/encoder/body/gated_0/linear/kernel"] == 2 and pieces["vae/encoder/head/linear/bias"] == 2
    assert pieces["prior/pseudo_inputs"] == 1 and pieces["vae/decoder/head/linear/kernel"] == 1  # Bernoulli: logits
    before = [v.numpy() for v in t.model.trainable_variables]
    t.train_step(next(iter(t.epoch_dataset(0))), tf.constant(1.0))
    assert all(np.any(v.numpy() != b) for v, b in zip(t.model.trainable_variables, before))


def test_keep_last_batch_trains_on_the_rest_of_the_epoch_as_the_mean_over_its_images(real_data_dir, monkeypatch,
                                                                                      caplog):
    seen = tf.Variable(0.0)
    real_step = step.train_step

    def spy(model, optimizer, images, noise, beta, global_batch_size, **kw):
        seen.assign(tf.cast(global_batch_size, tf.float32))
        return real_step(model, optimizer, images, noise, beta, global_batch_size, **kw)

    monkeypatch.setattr(step, "train_step", spy)
    cfg = tiny(real_data_dir)
    kept = trainer.Trainer(config.Config(cfg.model, config.TrainConfig(data_dir=real_data_dir, train_examples=250,
                                                                       seed=3, keep_last_batch=True)))
    assert kept.batch_sizes == [100, 100, 50] and kept.num_train == 250
    batches = list(kept.epoch_dataset(0))
    assert [len(x) for x, _ in batches] == [100, 100, 50] and [len(n) for _, n in batches] == [100, 100, 50]
    for (x, n), size in zip(batches[::-1], (50, 100)):
        sums = kept.train_step((x, n), tf.constant(1.0)).numpy()
        assert seen.numpy() == size and np.isfinite(sums).all()  # each batch's loss: its sum / its images
    dropped = trainer.Trainer(config.Config(cfg.model, config.TrainConfig(data_dir=real_data_dir, train_examples=250,
                                                                          seed=3)))
    assert dropped.batch_sizes == [100, 100] and dropped.num_train == 250
    assert [len(x) for x, _ in dropped.epoch_dataset(0)] == [100, 100]
    with caplog.at_level(logging.INFO):
        train_lib._log_start(kept.config, kept, 10)
        train_lib._log_start(dropped.config, dropped, 10)
    assert "mnist: 250 train (3 steps of 100, the last of 50), 10 validation" in caplog.text
    assert "mnist: 250 train (2 steps of 100), 10 validation" in caplog.text
    with pytest.raises(ValueError, match="80 images, fewer than batch_size=100.*--keep_last_batch"):
        trainer.Trainer(config.Config(cfg.model, config.TrainConfig(data_dir=real_data_dir, train_examples=80)))
