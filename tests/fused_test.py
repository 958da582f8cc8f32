"""Tests of vamp_tf.networks.fused: which variables hold several of the paper's code's tensors."""

import pytest

from vamp_tf import config, models, networks


def _hvae(architecture, input_shape=(6, 4, 1), **kwargs):
    cfg = config.ModelConfig(input_shape=input_shape, likelihood="discretized_logistic", model="hvae",
                             architecture=architecture, **kwargs)
    return models.build_model(cfg, seed=0)


def test_the_codes_convhvae_splits_into_the_codes_101_tensors():
    # The paper's code's convHVAE VampPrior on Frey Faces: named_parameters() gives 101 tensors,
    # 2,107,270 numbers (counted with its models/convHVAE_2level.py, outside this repository).
    net = _hvae("conv_reference", input_shape=(28, 20, 1))
    parts = networks.fused_parts(net)
    variables = net.trainable_variables
    assert sum(parts.get(v.path, 1) for v in variables) == 101
    assert sum(v.shape.num_elements() for v in variables) == 2_107_270


@pytest.mark.parametrize("architecture", ["dense", "conv", "conv_reference_padded", "pixelcnn"])
def test_every_fused_variable_is_one_of_the_models_and_cuts_evenly(architecture):
    net = _hvae(architecture, latent_dim=3, hidden_units=8, num_components=4)
    parts = networks.fused_parts(net)
    shapes = {v.path: v.shape for v in net.trainable_variables}
    assert len(shapes) == len(net.trainable_variables)  # paths are unique keys
    assert parts and set(parts) <= set(shapes)
    for path, n in parts.items():
        assert n == 2 and shapes[path][-1] % n == 0, path
    # The gated layers' kernels and biases, the Gaussian heads' and the logistic head's (loc, log_scale).
    assert all(path.endswith(("/kernel", "/bias")) for path in parts)
    assert not any("pseudo_inputs" in path for path in parts)
    head = net.p_x.head  # the decoder's output layer: (loc, log_scale) side by side
    assert parts[(head.linear if architecture == "dense" else head).kernel.path] == 2


def test_the_codes_pixelcnn_decoder_head_without_bias_fuses_its_kernel_only():
    net = _hvae("pixelcnn_reference_full", latent_dim=3, hidden_units=8, num_components=4)
    parts = networks.fused_parts(net)
    assert net.p_x.head.bias is None and parts[net.p_x.head.kernel.path] == 2


def test_a_model_without_gates_fuses_only_its_gaussian_head():
    cfg = config.ModelConfig(input_shape=(6, 4, 1), likelihood="bernoulli", model="vae", architecture="relu_mlp",
                             latent_dim=2, hidden_units=4, num_components=3)
    net = models.build_model(cfg, seed=0)
    parts = networks.fused_parts(net)
    # relu_mlp has no gates; its Gaussian head still fuses the mean and log-variance.
    assert parts == {net.encoder.head.linear.kernel.path: 2, net.encoder.head.linear.bias.path: 2}
