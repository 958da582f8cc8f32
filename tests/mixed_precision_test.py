"""Mixed precision (TrainConfig.precision): build_model's policy, step.train_step's loss scaling,
the trainer's float32 evaluation twin."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import checkpoints, config, models, optimizers, step, train_lib
from vamp_tf.trainer import Trainer

SHAPE = (6, 5, 1)


def tiny(precision, kind="vae", seed=3):
    cfg = config.ModelConfig(input_shape=SHAPE, model=kind, prior="vamp", latent_dim=3, hidden_units=16,
                             num_components=4)
    return models.build_model(cfg, seed=seed, precision=precision)


def batch(noise_dim, n=16):
    rng = np.random.default_rng(0)
    return ((rng.random((n,) + SHAPE) < 0.4).astype(np.float32), rng.standard_normal((n, noise_dim)).astype(np.float32))


@pytest.mark.parametrize("kind", config.MODELS)
def test_a_bfloat16_step_is_close_to_the_float32_step_from_the_same_weights(kind):
    f32, bf16 = tiny("float32", kind), tiny("mixed_bfloat16", kind)
    assert keras.mixed_precision.global_policy().name == "float32"  # the policy was scoped to the build
    assert all(v.dtype == "float32" for v in bf16.variables)  # variables, pseudo-inputs included, stay float32
    assert bf16.encoder.body.gated_0.linear.compute_dtype == "bfloat16"
    x, noise = batch(f32.noise_dim)
    sums = {}
    for name, net in (("f32", f32), ("bf16", bf16)):
        optimizer = optimizers.make_optimizer("adam", 1e-3)
        with tf.GradientTape() as tape:
            terms = net(x, noise=noise)
            loss = -tf.reduce_mean(terms["elbo"])
        assert all(t.dtype == tf.float32 for t in terms.values())  # densities and KL are float32
        grads = tape.gradient(loss, net.trainable_variables)
        pseudo = [g for g, v in zip(grads, net.trainable_variables) if "pseudo_inputs" in v.path]
        assert pseudo and np.any(pseudo[0].numpy() != 0)  # gradients reach the pseudo-inputs
        sums[name] = step.train_step(net, optimizer, x, noise, tf.constant(1.0), 16.0).numpy()
    assert np.all(np.isfinite(sums["bf16"]))
    # bfloat16 keeps 8 bits of mantissa: every summed term agrees to 2% of the largest one's size. The
    # KL is a difference of two log-densities, so its own relative error is larger: the HVAE's was 4.6%
    # (3.7 of 80 nats over 16 images) on an AMD EPYC without bf16 hardware, where oneDNN emulates bf16.
    np.testing.assert_allclose(sums["bf16"], sums["f32"], rtol=0, atol=0.02 * np.max(np.abs(sums["f32"])))


def test_float16_loss_scaling_skips_an_overflowing_step_and_recovers():
    net = tiny("mixed_float16")
    optimizer = optimizers.make_optimizer("adam", 1e-3, "mixed_float16")
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    x, noise = batch(net.noise_dim)
    step.train_step(net, optimizer, x, noise, tf.constant(1.0), 16.0)
    before = [v.numpy().copy() for v in net.trainable_variables]
    scale = float(optimizer.dynamic_scale.numpy())
    huge = noise * 1e4  # latents far out: float16 gradients overflow at this loss scale
    step.train_step(net, optimizer, x, huge, tf.constant(1.0), 16.0)
    after = [v.numpy() for v in net.trainable_variables]
    assert float(optimizer.dynamic_scale.numpy()) < scale  # the scale was lowered ...
    for a, b in zip(before, after):  # ... and the step skipped: no weight corrupted
        np.testing.assert_array_equal(a, b)
    out = step.train_step(net, optimizer, x, noise, tf.constant(1.0), 16.0).numpy()
    assert np.all(np.isfinite(out)) and all(np.all(np.isfinite(v.numpy())) for v in net.trainable_variables)


def test_a_bfloat16_run_is_evaluated_in_float32_and_its_checkpoints_restore_in_float32(real_data_dir, tmp_path):
    cfg = config.Config(config.ModelConfig(latent_dim=4, hidden_units=16, num_components=5),
                        config.TrainConfig(data_dir=real_data_dir, epochs=1, train_examples=300, test_examples=30,
                                           eval_samples=20, seed=1, precision="mixed_bfloat16", figures=False))
    trainer = Trainer(cfg)
    evaluated = trainer.eval_model()
    assert evaluated is not trainer.model
    assert evaluated.encoder.body.gated_0.linear.compute_dtype == "float32"
    for a, b in zip(evaluated.variables, trainer.model.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    run = str(tmp_path / "bf16")
    results = train_lib.train_and_evaluate(cfg, run)
    assert results["config"]["train"]["precision"] == "mixed_bfloat16" and "cpu_bf16" in results["machine"]
    # The float32 model restores the bf16 run's checkpoint and reproduces its float32 test ELBO.
    restored, _, _ = checkpoints.restore_model(run)
    from vamp_tf import datasets, evaluation
    elbo = evaluation.elbo_terms(restored, datasets.evaluation_images(cfg.train, "test"), seed=1)["elbo"]
    np.testing.assert_allclose(elbo, results["metrics"]["test_elbo"], rtol=1e-6)
    # And the run continues in float32 from its bf16 checkpoint (precision may change between reruns).
    f32 = config.Config(cfg.model, config.TrainConfig(**{**cfg.to_dict()["train"], "precision": "float32",
                                                         "epochs": 2}))
    assert train_lib.train_and_evaluate(f32, run)["epochs_run"] == 2
    assert os.path.exists(os.path.join(run, "results.json"))
