"""The interface of the HVAE's decoders p(x | z1, z2), one for every architecture.

A decoder maps (z1 [N, L], z2 [N, L]) and, if it is autoregressive, the images x [N, H, W, C]
it scores (teacher forcing) to the likelihood's per-pixel parameters {param: [N, H, W, C]}
float32; `images` turns latents into images, E[x | z1, z2] (an autoregressive decoder draws
its pixels one by one from the given noise, see pixelcnn.PixelDecoder). The model wraps
parameters into the likelihood (vamp_tf.distributions) and never asks which decoder it has.
"""

from __future__ import annotations

import keras


class PairDecoder(keras.layers.Layer):
    """Base class of p(x | z1, z2) decoders (see the module docstring).

    Subclasses implement `call(z1, z2, x=None)`; autoregressive ones set `autoregressive`
    and override `images`.
    """

    autoregressive = False

    def images(self, z1, z2, likelihood, pixel_uniform=None):
        """E[x | z1, z2] [N, H, W, C]: the mean of the likelihood (pixel_uniform is ignored)."""
        return likelihood.make(**self(z1, z2)).mean()
