"""The one factory of a model's architecture-specific networks (ModelConfig.architecture).

The VAE's two networks, q(z | x) and p(x | z), come from VAE_ARCHITECTURES ('dense': the paper's
gated MLPs; 'relu_mlp': the S-VAE's ReLU MLPs, for like-for-like comparisons with it).

The HVAE (vamp_tf.models.hvae) is the same model for every architecture; three of its
networks differ: the encoder q(z2 | x), the body of q(z1 | x, z2) (`first_features(x)`,
`joint_features(features, z2)`) and the decoder p(x | z1, z2) (networks.decoding.PairDecoder).
A new architecture is one HVAENetworks entry in ARCHITECTURES (and its name in
config.ARCHITECTURES).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from vamp_tf.networks import conv
from vamp_tf.networks.conv import ConvDecoder, ConvEncoder, ConvLayout, ConvPair
from vamp_tf.networks.dense import Decoder, DensePairDecoder, Encoder, PairMLP, ReluMLP
from vamp_tf.networks.pixelcnn import PixelDecoder


@dataclasses.dataclass(frozen=True)
class HVAENetworks:
    """Builders of one architecture's networks, called by the model in this order (the order
    in which layers are built fixes which random numbers initialise which weights).

    encoder(config, family, name): x -> q(z2 | x)'s parameters in `family`.
    q_z1_body(config, name): first_features(x), joint_features(features, z2) -> h.
    p_x(config, likelihood, name): a PairDecoder, (z1, z2[, x]) -> the likelihood's parameters.
    conv_layout: the convolutional architectures' networks.conv.ConvLayout (None for dense ones);
      bench.common counts their operations from it.
    """

    encoder: Callable
    q_z1_body: Callable
    p_x: Callable
    conv_layout: Optional[ConvLayout] = None


def _conv_networks(layout: ConvLayout, p_x: Optional[Callable] = None) -> HVAENetworks:
    """A convolutional architecture laid out as `layout` (networks.conv.ConvLayout), which builds
    q(z1 | x, z2)'s body, the decoder unless `p_x` is given, pads the convolutions, and is what
    bench.common counts."""

    def conv_encoder(config, family, name):
        return ConvEncoder(config.input_shape, config.latent_dim, family=family, padding=layout.padding, name=name)

    def q_z1_body(config, name):
        return ConvPair(config.input_shape, config.hidden_units, layout=layout, name=name)

    def conv_decoder(config, likelihood, name):
        return ConvDecoder(config.input_shape, likelihood.param_names, likelihood.constrain,
                           hidden_units=config.hidden_units, layout=layout, name=name)

    return HVAENetworks(encoder=conv_encoder, q_z1_body=q_z1_body, p_x=p_x or conv_decoder, conv_layout=layout)


def _pixel_decoder(config, likelihood, name, like_the_code=False):
    """The PixelCNN decoder: ours, or (like_the_code) with the code's mask over the latent maps and no
    bias in its output convolution (networks.pixelcnn)."""
    return PixelDecoder(config.input_shape, likelihood.param_names, likelihood.constrain,
                        batch_norm_momentum=config.batch_norm_momentum, batch_norm_epsilon=config.batch_norm_epsilon,
                        mask_latent_maps=like_the_code, head_bias=not like_the_code, name=name)


ARCHITECTURES = {
    "dense": HVAENetworks(
        encoder=lambda config, family, name: Encoder(config.latent_dim, config.hidden_units, family=family, name=name),
        q_z1_body=lambda config, name: PairMLP(config.hidden_units, name=name),
        p_x=lambda config, likelihood, name: DensePairDecoder(config.input_shape, config.hidden_units,
                                                              likelihood.param_names, likelihood.constrain, name=name)),
    "conv": _conv_networks(conv.OURS),  # the paper's convHVAE
    "conv_reference": _conv_networks(conv.REFERENCE),  # the convHVAE as the paper's published code lays it out
    "conv_reference_padded": _conv_networks(conv.REFERENCE_PADDED),  # and pads its convolutions as the code does
    "pixelcnn": _conv_networks(conv.OURS, p_x=_pixel_decoder),  # the paper's PixelHVAE: conv encoders, a PixelCNN
    "pixelcnn_reference": _conv_networks(conv.PIXEL_REFERENCE, p_x=_pixel_decoder),  # its q(z1 | x, z2) as the code's
    "pixelcnn_reference_full": _conv_networks(  # and its decoder as the code's too
        conv.PIXEL_REFERENCE, p_x=lambda config, likelihood, name: _pixel_decoder(config, likelihood, name, True)),
}


@dataclasses.dataclass(frozen=True)
class VAENetworks:
    """Builders of a VAE's networks, called in this order: encoder(config, family, name): x -> q(z | x)'s
    parameters in `family`; decoder(config, likelihood, name): z -> the likelihood's parameters."""

    encoder: Callable
    decoder: Callable


def _dense_decoder(config, likelihood, name, body=None):
    return Decoder(config.input_shape, config.hidden_units, likelihood.param_names, likelihood.constrain, body=body,
                   name=name)


VAE_ARCHITECTURES = {
    "dense": VAENetworks(  # the paper's: two gated layers of hidden_units each way
        encoder=lambda config, family, name: Encoder(config.latent_dim, config.hidden_units, family=family, name=name),
        decoder=_dense_decoder),
    "relu_mlp": VAENetworks(  # the S-VAE's (its examples/mnist.py): ReLU layers of 2h, h in and h, 2h out
        encoder=lambda config, family, name: Encoder(
            config.latent_dim, family=family, body=ReluMLP([2 * config.hidden_units, config.hidden_units], name="body"),
            name=name),
        decoder=lambda config, likelihood, name: _dense_decoder(
            config, likelihood, name, body=ReluMLP([config.hidden_units, 2 * config.hidden_units], name="body"))),
}


def vae_networks(architecture: str) -> VAENetworks:
    """The builders of a VAE's `architecture` ('dense' or 'relu_mlp')."""
    if architecture not in VAE_ARCHITECTURES:
        raise ValueError(f"architecture={architecture!r} is not a VAE's; allowed: {', '.join(VAE_ARCHITECTURES)}.")
    return VAE_ARCHITECTURES[architecture]


def hvae_networks(architecture: str) -> HVAENetworks:
    """The builders of `architecture` ('dense', 'conv', 'conv_reference', 'conv_reference_padded', 'pixelcnn',
    'pixelcnn_reference' or 'pixelcnn_reference_full')."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture={architecture!r} is not an HVAE's; allowed: {', '.join(ARCHITECTURES)}.")
    return ARCHITECTURES[architecture]
