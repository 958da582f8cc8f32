"""Tests of vamp_tf.serialization: every model, prior and network saves and loads the Keras way
(model.save / keras.models.load_model, get_config / from_config, to_json)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import config, distributions, latents, models, networks, priors
from vamp_tf.networks import conv

SHAPE = (8, 6, 1)
SMALL = dict(input_shape=SHAPE, latent_dim=3, hidden_units=8, num_components=4)
MODELS = {  # every architecture, latent family and prior
    "vae_vamp": {}, "vae_standard_gray": dict(prior="standard", likelihood="discretized_logistic"),
    "vae_mog": dict(prior="mog"), "vae_vamp_learned_weights": dict(component_weights="learned"),
    "vae_sphere_vamp": dict(posterior="power_spherical"), "vae_relu_mlp": dict(architecture="relu_mlp"),
    "hvae_vamp": dict(model="hvae"), "convhvae_vamp": dict(model="hvae", architecture="conv"),
    "convhvae_code_layout": dict(model="hvae", architecture="conv_reference_padded"),
    "pixelhvae_vamp_gray": dict(model="hvae", architecture="pixelcnn", likelihood="discretized_logistic"),
    "vae_vamp_clamped_reference_init": dict(probability_clamp=1e-5, initialization="reference"),
}


def images(cfg, n=8, seed=0):
    rng = np.random.default_rng(seed)
    if cfg.likelihood == "bernoulli":
        return (rng.random((n,) + SHAPE) < 0.4).astype(np.float32)
    return (np.round(rng.random((n,) + SHAPE) * 255) / 255).astype(np.float32)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_trained_model_round_trips_through_a_keras_file(name, tmp_path):
    cfg = config.ModelConfig(**{**SMALL, **MODELS[name]})
    model = models.build_model(cfg, seed=5)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    x = images(cfg)
    model.fit(x, batch_size=4, epochs=1, verbose=0)  # 2 steps: learned weights and Adam's moments
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded) is type(model) and loaded.config == cfg
    assert loaded.get_config() == model.get_config()
    for a, b in zip(model.variables, loaded.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    a, b = model(x, seed=[1, 2]), loaded(x, seed=[1, 2])
    for term in a:
        np.testing.assert_array_equal(a[term].numpy(), b[term].numpy(), err_msg=term)
    np.testing.assert_array_equal(model.mean_images(2, seed=3).numpy(), loaded.mean_images(2, seed=3).numpy())
    assert int(loaded.optimizer.iterations.numpy()) == 2
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    model.fit(x, batch_size=4, epochs=1, verbose=0)  # training goes on identically from the file
    loaded.fit(x, batch_size=4, epochs=1, verbose=0)
    for a, b in zip(model.trainable_variables, loaded.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_a_mixed_precision_model_keeps_its_policy_and_json_round_trips(tmp_path):
    cfg = config.ModelConfig(**SMALL)
    model = models.build_model(cfg, seed=1, precision="mixed_bfloat16")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.precision == "mixed_bfloat16" and loaded.encoder.dtype_policy.name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # building restored the global policy
    rebuilt = keras.models.model_from_json(model.to_json())
    assert json.loads(rebuilt.to_json()) == json.loads(model.to_json())
    from_config = models.VAE.from_config(model.get_config())
    from_config.set_weights(model.get_weights())  # the same model once it has the weights: same numbers
    x = (np.random.default_rng(0).random((3,) + tuple(cfg.input_shape)) < 0.5).astype(np.float32)
    for key in ("reconstruction", "kl"):
        np.testing.assert_array_equal(from_config(x, seed=[0, 1])[key].numpy(), model(x, seed=[0, 1])[key].numpy())
    assert from_config.precision == "mixed_bfloat16"


def gaussian_encoder(dtype="float32"):
    return networks.Encoder(3, 8, name="encoder", dtype=dtype)


LAYERS = {  # every public layer: a factory and an input
    "GatedDense": (lambda: networks.GatedDense(5, activation="tanh"), [(2, 4)]),
    "GatedMLP": (lambda: networks.GatedMLP([5, 6]), [(2, 4)]),
    "ReluMLP": (lambda: networks.ReluMLP([5, 6]), [(2, 4)]),
    "GaussianHead": (lambda: networks.GaussianHead(3), [(2, 4)]),
    "SphericalHead": (lambda: latents.make_family("power_spherical").head(3, "head"), [(2, 4)]),
    "Encoder": (lambda: networks.Encoder(3, 8), [(2,) + SHAPE]),
    "Encoder_sphere_relu_body": (lambda: networks.Encoder(3, family=latents.make_family("power_spherical"),
                                                          body=networks.ReluMLP([7], name="body")), [(2,) + SHAPE]),
    "LikelihoodHead": (lambda: networks.LikelihoodHead(SHAPE, ("logits",), distributions.Constraint("bernoulli", 1e-5)),
                       [(2, 4)]),
    "Decoder_gray": (lambda: networks.Decoder(SHAPE, 8, ("loc", "log_scale"), distributions.Constraint(
        "discretized_logistic")), [(2, 3)]),
    "PairMLP": (lambda: networks.PairMLP(6), [(2, 4), (2, 3)]),
    "DensePairDecoder": (lambda: networks.DensePairDecoder(SHAPE, 6, ("logits",), distributions.Constraint("bernoulli")),
                         [(2, 3), (2, 3)]),
    "GatedConv2D": (lambda: networks.GatedConv2D(4, 3, strides=2, padding="symmetric"), [(2,) + SHAPE]),
    "ConvStack": (lambda: networks.ConvStack(SHAPE, conv.REFERENCE_PAIR_STACK), [(2,) + SHAPE]),
    "ConvEncoder": (lambda: networks.ConvEncoder(SHAPE, 3, padding="symmetric"), [(2,) + SHAPE]),
    "ConvPair": (lambda: networks.ConvPair(SHAPE, 6, layout=conv.REFERENCE), [(2,) + SHAPE, (2, 3)]),
    "ConvDecoder": (lambda: networks.ConvDecoder(SHAPE, ("logits",), distributions.Constraint("bernoulli"), 6,
                                                 layout=conv.REFERENCE_PADDED), [(2, 3), (2, 3)]),
    "MaskedConv2D": (lambda: networks.MaskedConv2D(4, "A", masked_in_channels=1), [(2,) + SHAPE]),
    "PixelDecoder": (lambda: networks.PixelDecoder(SHAPE, ("loc", "log_scale"), distributions.Constraint(
        "discretized_logistic"), mask_latent_maps=True, head_bias=False), [(2, 3), (2, 3), (2,) + SHAPE]),
}


def _call(layer, shapes):
    inputs = [tf.random.stateless_uniform(s, seed=[i, 7]) for i, s in enumerate(shapes)]
    return tf.nest.flatten(layer(*inputs))


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_rebuilds_from_its_config_with_the_same_function(name):
    make, shapes = LAYERS[name]
    layer = make()
    out = _call(layer, shapes)
    config_dict = layer.get_config()
    json.dumps(config_dict)  # plain JSON
    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"].startswith("vamp_tf>"), serialized["registered_name"]
    twin = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(twin) is type(layer) and twin.get_config() == config_dict
    _call(twin, shapes)  # builds its weights
    twin.set_weights(layer.get_weights())
    for a, b in zip(out, _call(twin, shapes)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


PRIORS = {
    "standard_normal": lambda: priors.StandardNormalPrior(3),
    "uniform_on_the_sphere": lambda: priors.StandardPrior(3, latents.make_family("power_spherical")),
    "mog": lambda: priors.MixtureOfGaussiansPrior(3, 4, seed=2),
    "vamp": lambda: priors.VampPrior(gaussian_encoder(), 3, SHAPE, 4, learn_weights=True),
    "vamp_sphere": lambda: priors.VampPrior(
        networks.Encoder(3, 8, family=latents.make_family("power_spherical")), 3, SHAPE, 4,
        family=latents.make_family("power_spherical")),
}


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_every_prior_rebuilds_from_its_config_as_the_same_distribution(name):
    prior = PRIORS[name]()
    z = prior.distribution().sample(5, seed=[1, 2])
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(prior)))
    twin = keras.saving.deserialize_keras_object(serialized)
    assert type(twin) is type(prior) and twin.get_config() == prior.get_config()
    twin.distribution()  # builds a VampPrior's encoder
    twin.set_weights(prior.get_weights())
    np.testing.assert_array_equal(prior(z).numpy(), twin(z).numpy())


def test_a_vampprior_on_a_plain_callable_names_why_it_cannot_be_serialized():
    encoder = gaussian_encoder()
    prior = priors.VampPrior(lambda u: encoder(u), 3, SHAPE, 4)  # pylint: disable=unnecessary-lambda
    assert prior.distribution().event_shape == [3]  # works as a prior
    with pytest.raises(ValueError, match="not a Keras layer.*vamp_tf.networks.Encoder"):
        prior.get_config()
