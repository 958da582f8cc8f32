"""Tests of vamp_tf.networks."""

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import distributions, networks


def test_gated_dense_is_h_times_sigmoid_g():
    layer = networks.GatedDense(4)
    x = tf.random.normal([3, 5], seed=1)
    y = layer(x).numpy()
    kernel, bias = (v.numpy() for v in layer.linear.weights)
    pre = x.numpy() @ kernel + bias
    h, g = pre[:, :4], pre[:, 4:]
    np.testing.assert_allclose(y, h / (1 + np.exp(-g)), rtol=1e-5, atol=1e-6)


def test_encoder_clamps_log_variance_and_flattens_images():
    enc = networks.Encoder(latent_dim=3, hidden_units=6)
    mean, log_var = enc(100.0 * tf.random.normal([4, 7, 5, 1], seed=2))
    assert mean.shape == (4, 3) and log_var.shape == (4, 3)
    assert np.all(log_var.numpy() >= -6) and np.all(log_var.numpy() <= 2)


def test_decoder_outputs_constrained_discretized_logistic_parameters():
    lik = distributions.get_likelihood("discretized_logistic")
    dec = networks.Decoder((4, 3, 1), 6, lik.param_names, lik.constrain)
    params = dec(50.0 * tf.random.normal([5, 2], seed=3))
    assert set(params) == {"loc", "log_scale"}
    assert params["loc"].shape == (5, 4, 3, 1)
    assert np.all(params["loc"].numpy() >= 1 / 512) and np.all(params["loc"].numpy() <= 1 - 1 / 512)
    assert np.all(params["log_scale"].numpy() >= -4.5) and np.all(params["log_scale"].numpy() <= 0)


def test_pair_mlp_reuses_first_features():
    pair = networks.PairMLP(5)
    a, b = tf.random.normal([2, 3], seed=4), tf.random.normal([2, 4], seed=5)
    np.testing.assert_allclose(pair(a, b), pair.joint_features(pair.first_features(a), b), rtol=1e-6)


def test_the_relu_mlp_vae_has_the_s_vaes_layer_widths():
    from vamp_tf import config
    from vamp_tf.models import build_model
    cfg = config.ModelConfig(latent_dim=10, hidden_units=128, num_components=5, architecture="relu_mlp")
    model = build_model(cfg, seed=0)
    model(np.zeros([2, 28, 28, 1], np.float32))
    shapes = {v.path: tuple(v.shape) for v in model.trainable_variables if v.path.endswith("kernel")}
    assert shapes["vae/encoder/body/dense_0/kernel"] == (784, 256)
    assert shapes["vae/encoder/body/dense_1/kernel"] == (256, 128)
    assert shapes["vae/decoder/body/dense_0/kernel"] == (10, 128)
    assert shapes["vae/decoder/body/dense_1/kernel"] == (128, 256)
    assert shapes["vae/decoder/head/linear/kernel"] == (256, 784)
    assert cfg.model_name == "VAE (ReLU MLP)"


def test_architectures_of_the_other_model_are_refused_with_the_fix():
    from vamp_tf import config
    with pytest.raises(ValueError, match="relu_mlp.*S-VAE's networks.*not model='hvae': pass --model=vae, or an "
                                         "architecture of the HVAE: dense, conv, conv_reference, conv_reference_padded, pixelcnn, "
                                         "pixelcnn_reference"):
        config.ModelConfig(model="hvae", architecture="relu_mlp")
    with pytest.raises(ValueError, match="builds networks for model='hvae'"):
        config.ModelConfig(model="vae", architecture="conv")
    with pytest.raises(ValueError, match="not a VAE's"):
        networks.vae_networks("conv")
