"""Networks of the VampPrior paper's models, as interchangeable Keras 3 layers.

dense: the gated MLPs (Tomczak & Welling, AISTATS 2018, section 4) of the VAE and HVAE.
heads: features -> q(z | x)'s parameters (the latent family's head; GaussianHead, re-exported from
  vamp_tf.latents) or an image likelihood's (LikelihoodHead).
conv: the gated convolutional encoders and decoder of the convHVAE (same interfaces).
pixelcnn: the PixelHVAE's autoregressive decoder (masked convolutions).
decoding: the one interface of the HVAE's decoders p(x | z1, z2) (PairDecoder).
architectures: the one factory that picks a VAE's or an HVAE's networks by ModelConfig.architecture.
initialization: the paper's code's initialisation (an option).
fused_parts (vamp_tf.fused): which variables hold several of the paper's code's tensors (for its AdamNormGrad).
Keras serialization of every layer: vamp_tf.serialization. Tensors in, tensors out; turning outputs into distributions is the job of
vamp_tf.distributions, vamp_tf.latents and vamp_tf.models.
"""

from vamp_tf.latents import LOG_VARIANCE_RANGE, GaussianHead  # the Gaussian family's head, re-exported
from vamp_tf.fused import fused_parts
from vamp_tf.networks.decoding import PairDecoder
from vamp_tf.networks.heads import LikelihoodHead
from vamp_tf.networks.dense import Decoder, DensePairDecoder, Encoder, GatedDense, GatedMLP, PairMLP, ReluMLP

from vamp_tf.networks.conv import ConvDecoder, ConvEncoder, ConvPair, ConvStack, GatedConv2D
from vamp_tf.networks.pixelcnn import MaskedConv2D, PixelDecoder, causal_mask
from vamp_tf.networks.architectures import (ARCHITECTURES, VAE_ARCHITECTURES, HVAENetworks, VAENetworks,
                                            hvae_networks, vae_networks)
from vamp_tf.networks.initialization import initialize_like_reference

__all__ = ["PairDecoder", "MaskedConv2D", "PixelDecoder", "causal_mask", "ConvDecoder", "ConvEncoder", "ConvPair",
           "ConvStack", "GatedConv2D", "LOG_VARIANCE_RANGE", "Decoder", "DensePairDecoder", "Encoder", "GatedDense",
           "GatedMLP", "GaussianHead", "LikelihoodHead", "PairMLP", "ReluMLP", "ARCHITECTURES", "VAE_ARCHITECTURES",
           "HVAENetworks", "VAENetworks", "hvae_networks", "vae_networks", "fused_parts", "initialize_like_reference"]
