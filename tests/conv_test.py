"""Tests of vamp_tf.networks.conv and the convHVAE built from it (ModelConfig.architecture='conv')."""

import numpy as np
import pytest
import tensorflow as tf

from export import export_lib
from vamp_tf import checkpoints, config, models, networks
from vamp_tf.networks import conv
from vamp_tf.fused import layers_in

SHAPES = {"bernoulli": (8, 8, 1), "discretized_logistic": (8, 4, 1)}


def conv_hvae(likelihood="bernoulli", prior="vamp", seed=0):
    cfg = config.ModelConfig(input_shape=SHAPES[likelihood], likelihood=likelihood, model="hvae", prior=prior,
                             architecture="conv", latent_dim=3, hidden_units=8, num_components=4)
    return models.build_model(cfg, seed=seed)


def test_gated_conv_is_h_times_sigmoid_g_and_the_stack_downsamples_by_four():
    layer = networks.GatedConv2D(3, 3)
    x = tf.random.normal([2, 8, 4, 1], seed=1)
    y = layer(x).numpy()
    pre = layer.conv(x).numpy()
    np.testing.assert_allclose(y, pre[..., :3] / (1 + np.exp(-pre[..., 3:])), rtol=1e-5, atol=1e-6)
    features = networks.ConvStack((28, 20, 1))(tf.zeros([2, 28, 20, 1]))
    assert features.shape == (2, 7 * 5 * 6)  # two stride-2 layers, 6 channels out


def _centre_tap(padding):
    """A stride-2 3x3 GatedConv2D that passes its kernel's centre pixel (h) through an open gate."""
    layer = networks.GatedConv2D(1, 3, strides=2, padding=padding)
    layer(tf.zeros([1, 6, 4, 1]))  # builds the kernel
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[1, 1, 0, 0] = 1.0
    layer.conv.kernel.assign(kernel)
    layer.conv.bias.assign([0.0, 30.0])  # sigmoid(30) = 1 to float32
    return layer


def test_symmetric_padding_puts_the_stride_2_grid_where_pytorch_does():
    x = np.arange(24, dtype=np.float32).reshape(1, 6, 4, 1)
    same, symmetric = (_centre_tap(p)(x).numpy()[0, ..., 0] for p in ("same", "symmetric"))
    # TensorFlow's 'same' pads below and right: the kernel centres fall on rows/columns 1, 3, 5;
    # PyTorch's padding=1 on every side: on 0, 2, 4 (the code's Conv2d(k, stride=2, padding=1)).
    np.testing.assert_allclose(same, x[0, 1::2, 1::2, 0], rtol=1e-6)
    np.testing.assert_allclose(symmetric, x[0, ::2, ::2, 0], rtol=1e-6)
    assert networks.ConvStack((28, 20, 1), padding="symmetric")(tf.zeros([2, 28, 20, 1])).shape == (2, 7 * 5 * 6)
    with pytest.raises(ValueError, match="padding='reflect' is not supported; allowed: same, symmetric"):
        networks.GatedConv2D(2, 3, padding="reflect")
    with pytest.raises(ValueError, match="padding='symmetric' needs an odd kernel_size \\(got 4\\).*padding='same'"):
        networks.GatedConv2D(2, 4, padding="symmetric")


def test_the_codes_padding_pads_every_convolution_and_keeps_the_weights():
    def build(architecture):
        cfg = config.ModelConfig(input_shape=SHAPES["discretized_logistic"], likelihood="discretized_logistic",
                                 model="hvae", architecture=architecture, latent_dim=3, hidden_units=8,
                                 num_components=4)
        return models.build_model(cfg, seed=0)

    padded, plain = build("conv_reference_padded"), build("conv_reference")
    convs = [l for l in layers_in(padded) if isinstance(l, networks.GatedConv2D)]
    assert len(convs) == 14 and all(l.pad == l.conv.kernel.shape[0] // 2 for l in convs)  # 5 + 5 + 4
    assert [v.shape for v in padded.trainable_variables] == [v.shape for v in plain.trainable_variables]
    x = tf.random.uniform((2,) + SHAPES["discretized_logistic"], seed=5)
    for net in (padded, plain):
        assert np.all(np.isfinite(net(x, seed=[1, 2])["elbo"].numpy()))


# Every prior and every likelihood, not every pair: the prior (on z2) and the likelihood (the decoder's
# head) do not meet; the other tests here and the Frey fixture take (vamp, either likelihood).
@pytest.mark.parametrize("prior, likelihood", [("standard", "bernoulli"), ("mog", "discretized_logistic"),
                                               ("vamp", "bernoulli")])
def test_conv_hvae_terms_are_finite_and_consistent(likelihood, prior):
    net = conv_hvae(likelihood, prior)
    x = tf.cast(tf.random.uniform((3,) + SHAPES[likelihood], seed=2) < 0.5, tf.float32)
    out = net(x, seed=[1, 2])
    for name in ("reconstruction", "kl", "elbo", "kl_z1", "kl_z2"):
        assert out[name].shape == (3,) and np.all(np.isfinite(out[name].numpy())), name
    np.testing.assert_allclose(out["kl"], out["kl_z1"] + out["kl_z2"], rtol=1e-5, atol=1e-5)
    assert net.sample(4, seed=0).shape == (4,) + SHAPES[likelihood]
    assert net.reconstruct(x).shape == x.shape


def test_gradients_reach_every_sub_network_and_the_pseudo_inputs():
    net = conv_hvae("discretized_logistic")
    x = tf.random.uniform((4,) + SHAPES["discretized_logistic"], seed=3)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(net(x, seed=[3, 4])["elbo"])
    grads = tape.gradient(loss, net.trainable_variables)
    names = [v.path for v in net.trainable_variables]
    for part in ("encoder", "q_z1_body", "q_z1_head", "p_z1_body", "p_z1_head", "p_x"):
        assert getattr(net, part).trainable_variables, part
    assert any("pseudo_inputs" in n for n in names)
    for name, g in zip(names, grads):
        assert g is not None and np.any(g.numpy() != 0), name
    with pytest.raises(ValueError, match="architecture='conv' .*builds networks for model='hvae', not model='vae'.*--model=hvae"):
        config.ModelConfig(architecture="conv")


def test_the_codes_layout_has_the_codes_shapes_and_trains(frey_vamp_hvae_that_trains):
    """conv_reference (networks.conv.REFERENCE) on a Frey Faces image: q(z1 | x, z2) takes x through
    3x3 convolutions only and z2 through 40 -> 210 (the x features' width), joint 420 -> 300; p(x | z1, z2)
    takes z1 and z2 to 300 each, then 600 -> 560, one map (models/convHVAE_2level.py of the code)."""
    net, kernel = frey_vamp_hvae_that_trains("conv_reference")
    assert net.config.model_name == "convHVAE (the code's layout)"
    assert [kernel("q_z1_body", "first", f"conv_{i}")[:2] for i in range(5)] == [(3, 3)] * 5
    assert kernel("encoder", "conv_0")[:2] == (7, 7)  # q(z2 | x) keeps the 7-3-5-3-3 stack
    assert kernel("q_z1_body", "second") == (40, 2 * 210)
    assert kernel("q_z1_body", "joint") == (420, 2 * 300)
    assert kernel("p_x", "from_z1") == kernel("p_x", "from_z2") == (40, 2 * 300)
    assert kernel("p_x", "joint") == (600, 2 * 560)
    assert kernel("p_x", "conv_0")[2] == 1  # one map into the decoder's convolutions
    with pytest.raises(ValueError, match="hidden_units=0 is invalid for a joint decoder"):
        networks.ConvDecoder((8, 4, 1), ("logits",), lambda p: p, layout=conv.REFERENCE)


def test_importance_sampled_likelihood_bounds_the_elbo(assert_log_likelihood_bounds_elbo):
    net = conv_hvae()
    x = (np.random.default_rng(0).random((6,) + SHAPES["bernoulli"]) < 0.3).astype(np.float32)
    assert_log_likelihood_bounds_elbo(net, x, num_samples=200, batch_size=3)  # 2.4 nats above the ELBO


@pytest.fixture(scope="module")
def frey_conv_run(train_frey_hvae):
    # Six steps of 50 per epoch; five validation and test images at S = 20 (each image's IS pass is
    # 100 decodes of the paper-size convolutions); no figures (none is read here): the validation
    # -ELBO fell from 3792 to 3356 nats at one thread and at two.
    return train_frey_hvae("conv", train_examples=300, batch_size=50, test_examples=5, eval_samples=20,
                           eval_batch_size=5)


def test_training_on_real_frey_faces_improves_the_validation_elbo(frey_conv_run, assert_two_epochs_learned):
    _, run, results = frey_conv_run
    assert_two_epochs_learned(run, results)


def test_export_round_trip_of_the_conv_hvae(frey_conv_run, tmp_path):
    _, run, _ = frey_conv_run
    net, _, _ = checkpoints.restore_model(run)
    module = export_lib.GenerativeModule(net)
    export_lib.save_saved_model(module, str(tmp_path / "saved_model"))
    loaded = tf.saved_model.load(str(tmp_path / "saved_model"))
    rng = np.random.default_rng(0)
    uniform = rng.random(3).astype(np.float32)
    normal = rng.standard_normal((3, module.noise_dim)).astype(np.float32)
    pixels = rng.random((3,) + module.image_shape).astype(np.float32)
    want = net.generate(uniform, normal).mean().numpy()
    got = loaded.signatures["sample"](component_uniform=tf.constant(uniform), latent_normal=tf.constant(normal),
                                      pixel_uniform=tf.constant(pixels))["mean_images"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    lite = export_lib.tflite_run(export_lib.tflite_bytes(module, "sample"),
                                 {"component_uniform": uniform, "latent_normal": normal, "pixel_uniform": pixels})
    np.testing.assert_allclose(lite["mean_images"], got, atol=1e-4)
