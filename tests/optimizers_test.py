"""Tests of vamp_tf.optimizers."""

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


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer='sgd'"):
        optimizers.make_optimizer("sgd", 0.1)
