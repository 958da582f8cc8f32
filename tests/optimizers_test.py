"""Tests of vamp_tf.optimizers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import optimizers


def _update(optimizer, gradient):
    v = tf.Variable(np.zeros(3, np.float32))
    optimizer.apply_gradients([(tf.constant(gradient, tf.float32), v)])
    return v.numpy()


def test_adam_normgrad_normalises_each_gradient():
    a = _update(optimizers.make_optimizer("adam_normgrad", 0.1), [1.0, 2.0, 2.0])
    b = _update(optimizers.make_optimizer("adam_normgrad", 0.1), [10.0, 20.0, 20.0])
    np.testing.assert_allclose(a, b, rtol=1e-5)  # only the direction matters


def test_adam_normgrad_equals_adam_on_the_normalised_gradient():
    v1, v2 = tf.Variable([1.0, -2.0]), tf.Variable([1.0, -2.0])
    normgrad, adam = optimizers.make_optimizer("adam_normgrad", 0.01), optimizers.make_optimizer("adam", 0.01)
    for g in ([3.0, 4.0], [0.3, -0.1], [1e-3, 2e-3]):
        g = np.float32(g)
        normgrad.apply_gradients([(tf.constant(g), v1)])
        adam.apply_gradients([(tf.constant(g / (np.linalg.norm(g) + 1e-7)), v2)])
    np.testing.assert_allclose(v1.numpy(), v2.numpy(), rtol=1e-5)


def test_parts_are_normalised_each_by_its_own_norm_as_separate_tensors():
    fused = keras.Variable(np.ones((2, 4), np.float32), name="fused")  # Keras variables have paths
    h, g = keras.Variable(np.ones((2, 2), np.float32), name="h"), keras.Variable(np.ones((2, 2), np.float32), name="g")
    together = optimizers.AdamNormGrad(0.01, parts={fused.path: 2})
    apart = optimizers.AdamNormGrad(0.01)
    rng = np.random.default_rng(0)
    for _ in range(3):  # the two halves' norms differ 1000-fold and change from step to step
        grad = rng.standard_normal((2, 4)).astype(np.float32) * np.float32([1, 1, 1e3, 1e3])
        together.apply_gradients([(tf.constant(grad), fused)])
        apart.apply_gradients([(tf.constant(grad[:, :2]), h), (tf.constant(grad[:, 2:]), g)])
    np.testing.assert_allclose(fused.numpy(), np.concatenate([h.numpy(), g.numpy()], axis=1), rtol=1e-6)
    whole = keras.Variable(np.ones((2, 4), np.float32), name="whole")
    optimizers.AdamNormGrad(0.01).apply_gradients([(tf.constant(grad), whole)])
    assert not np.allclose(whole.numpy(), fused.numpy())  # one norm over both halves is another update
    with pytest.raises(ValueError, match="parts names 1 variable.*'elsewhere/kernel'.*fused_parts\\(model\\)"):
        optimizers.AdamNormGrad(0.01, parts={"elsewhere/kernel": 2}).build([whole])


def test_the_codes_optimizer_takes_the_models_parts_and_pytorchs_epsilon():
    optimizer = optimizers.make_optimizer("adam_normgrad_code", 0.01, parts={"a/kernel": 2})
    assert optimizer.parts == {"a/kernel": 2} and optimizer.epsilon == 1e-8
    assert optimizers.make_optimizer("adam_normgrad", 0.01).epsilon == 1e-7
    with pytest.raises(ValueError, match="adam_normgrad_code.*pass parts=networks.fused_parts\\(model\\)"):
        optimizers.make_optimizer("adam_normgrad_code", 0.01)


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer='sgd'"):
        optimizers.make_optimizer("sgd", 0.1)
