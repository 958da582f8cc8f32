"""Tests of vamp_tf.trainer: one trace, data-initialised pseudo-inputs, seeded epochs."""

import numpy as np
import tensorflow as tf

from vamp_tf import config, datasets, trainer


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
    train = datasets.examples("mnist", "train", real_data_dir, num_examples=300).reshape(300, -1)
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
