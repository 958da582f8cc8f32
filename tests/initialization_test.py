"""Tests of vamp_tf.networks.initialization: the paper's code's initialisation, as an option."""

import keras
import numpy as np
import pytest

from vamp_tf import config, models
from vamp_tf.fused import layers_in


def _conv_hvae(initialization, seed=3):
    cfg = config.ModelConfig(input_shape=(6, 5, 1), likelihood="discretized_logistic", model="hvae",
                             architecture="conv", num_components=3, latent_dim=2, hidden_units=8,
                             initialization=initialization)
    return models.build_model(cfg, seed=seed)


def _weighted(model):
    return [layer for layer in layers_in(model) if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]


def test_reference_draws_dense_kernels_he_normal_and_the_rest_uniform():
    model = _conv_hvae("reference")
    layers = _weighted(model)
    assert {type(l) for l in layers} >= {keras.layers.Dense, keras.layers.Conv2D}
    for layer in layers:
        kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
        fan_in = int(np.prod(kernel.shape[:-1]))
        bound = 1.0 / np.sqrt(fan_in)
        assert np.all(np.abs(bias) <= bound) and np.any(bias != 0), layer.path
        if isinstance(layer, keras.layers.Dense):  # N(0, 2 / fan_in), untruncated: some beyond 2 std
            std = np.sqrt(2.0 / fan_in)
            if kernel.size >= 400:
                assert 0.85 < kernel.std() / std < 1.15, layer.path
        else:
            assert np.all(np.abs(kernel) <= bound), layer.path
    with_seed = [w.numpy() for w in _conv_hvae("reference").trainable_variables]
    for a, b in zip(with_seed, model.trainable_variables):
        np.testing.assert_array_equal(a, b.numpy())


def test_the_default_is_unchanged_and_the_pseudo_inputs_keep_their_start():
    default, reference = _conv_hvae("he_normal"), _conv_hvae("reference")
    assert all(np.all(l.bias.numpy() == 0) for l in _weighted(default))
    np.testing.assert_array_equal(default.prior.pseudo_inputs_variable.numpy(),
                                  reference.prior.pseudo_inputs_variable.numpy())
    x = np.zeros((2, 6, 5, 1), np.float32)
    assert np.all(np.isfinite(reference(x)["elbo"].numpy()))


def test_an_unknown_initialization_is_refused():
    with pytest.raises(ValueError, match="initialization='xavier'"):
        config.ModelConfig(initialization="xavier")
