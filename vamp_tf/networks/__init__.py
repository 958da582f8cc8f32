"""Networks of the VampPrior paper's models, as interchangeable Keras 3 layers.

dense: the gated MLPs (Tomczak & Welling, AISTATS 2018, section 4) of the VAE and HVAE.
conv: the gated convolutional encoders and decoder of the convHVAE (same interfaces).
pixelcnn: the PixelHVAE's autoregressive decoder (masked convolutions).
Tensors in, tensors out; turning outputs into distributions is the job of
vamp_tf.distributions and vamp_tf.model.
"""

from vamp_tf.networks.dense import (LOG_VARIANCE_RANGE, Decoder, Encoder, GatedDense, GatedMLP, GaussianHead,
                                    LikelihoodHead, PairMLP)

from vamp_tf.networks.conv import ConvDecoder, ConvEncoder, ConvPair, ConvStack, GatedConv2D
from vamp_tf.networks.pixelcnn import MaskedConv2D, PixelDecoder, causal_mask

__all__ = ["MaskedConv2D", "PixelDecoder", "causal_mask", "ConvDecoder", "ConvEncoder", "ConvPair", "ConvStack", "GatedConv2D", "LOG_VARIANCE_RANGE", "Decoder", "Encoder", "GatedDense", "GatedMLP", "GaussianHead", "LikelihoodHead",
           "PairMLP"]
