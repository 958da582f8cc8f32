"""The PixelCNN decoder of the paper's PixelHVAE (Tomczak & Welling, AISTATS 2018, section 4).

p(x | z1, z2) = prod_i p(x_i | x_<i, z1, z2) over pixels in raster order: z1 and z2 each
go through a gated dense layer to an image-sized map; the maps and x are stacked as
channels; eight 3x3 masked convolutions of 64 channels (mask A first, then B), each with
batch normalisation and ReLU, and a 1x1 convolution give every pixel's likelihood
parameters. One pass scores an image (teacher forcing); generation runs the network once
per pixel (PixelDecoder.draw).

Masks (van den Oord et al., 2016): mask A hides the centre pixel and every later one, mask
B hides the later ones only, so the output at pixel i depends on x at pixels < i. Unlike
the reference code, the first layer masks only the x channel: the latent maps carry no x,
so every pixel (the first one too) sees z at and around its own position. The code's
decoder (mask_latent_maps=True, head_bias=False) masks the latent maps too, so pixel i sees
z only through the maps' values at earlier pixels (the first pixel not at all), and its 1x1
output convolutions have no bias.

Batch normalisation uses the batch's statistics in training (the Keras `training`
argument, set by `model(x, training=True)` in the train step) and its moving averages
everywhere else (validation, the importance-sampled log-likelihood, generation, export):
with batch statistics an image's log p(x | z) would depend on the other images and
importance samples in its batch, and the estimate would no longer be a density.
Images must have one channel (the datasets of the paper all do).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from vamp_tf import serialization
from vamp_tf.networks.conv import latent_maps
from vamp_tf.networks.decoding import PairDecoder
from vamp_tf.networks.dense import GatedDense
from vamp_tf.fused import side_by_side
from vamp_tf.networks.heads import likelihood_parameters
from vamp_tf.serialization import register

PIXEL_LAYERS = 8
PIXEL_CHANNELS = 64
KERNEL = 3


def causal_mask(kernel_size: int, mask_type: str, in_channels: int, out_channels: int,
                masked_in_channels: int = None) -> np.ndarray:
    """[k, k, in, out] float32 mask of a raster-order masked convolution.

    mask_type 'A' zeroes the centre and every later position; 'B' the later ones only.
    masked_in_channels: the first this many input channels are masked (default all); the
    others see the whole kernel.
    """
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type={mask_type!r} is not supported; allowed: A, B.")
    centre = kernel_size // 2
    spatial = np.ones((kernel_size, kernel_size), np.float32)
    spatial[centre, centre + (mask_type == "B"):] = 0.0
    spatial[centre + 1:, :] = 0.0
    mask = np.ones((kernel_size, kernel_size, in_channels, out_channels), np.float32)
    masked = in_channels if masked_in_channels is None else masked_in_channels
    mask[:, :, :masked, :] *= spatial[:, :, None, None]
    return mask


@register
class MaskedConv2D(keras.layers.Conv2D):
    """A 'same'-padded Conv2D whose kernel is multiplied by `causal_mask` (see there).

    Args: filters, mask_type ('A' or 'B'), kernel_size, masked_in_channels (None: all).
    """

    def __init__(self, filters: int, mask_type: str, kernel_size: int = KERNEL, masked_in_channels=None, **kwargs):
        kwargs.setdefault("kernel_initializer", "he_normal")
        super().__init__(filters, kernel_size, padding="same", **kwargs)
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type={mask_type!r} is not supported; allowed: A, B.")
        self.mask_type = mask_type
        self.masked_in_channels = masked_in_channels

    def build(self, input_shape):
        super().build(input_shape)
        # numpy, not a tensor: Keras may build inside a scratch graph that a tensor would be stuck in
        self._mask = causal_mask(self.kernel_size[0], self.mask_type, int(input_shape[-1]), self.filters,
                                 self.masked_in_channels)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * tf.constant(self._mask, kernel.dtype))

    def get_config(self):
        return {**super().get_config(), "mask_type": self.mask_type, "masked_in_channels": self.masked_in_channels}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("padding", None)  # always 'same'
        config["kernel_size"] = int(config["kernel_size"][0])
        return super().from_config(config)


@register
class PixelDecoder(PairDecoder):
    """p(x | z1, z2) of the PixelHVAE: (z1 [N, L], z2 [N, L], x [N, H, W, 1]) -> {param: [N, H, W, 1]} float32.

    Args:
      image_shape: (height, width, 1).
      param_names, constrain: the likelihood's per-pixel parameters (see dense.LikelihoodHead).
      batch_norm_momentum, batch_norm_epsilon: of the batch normalisation after each masked
        convolution (Keras' convention: the moving averages keep `momentum` of themselves per
        step; the paper's PyTorch code uses PyTorch's defaults, i.e. Keras' 0.9 and 1e-5).
      mask_latent_maps: the first masked convolution masks the latent maps as well as x (the
        paper's code); default False: x only (module docstring).
      head_bias: whether the 1x1 output convolution has a bias (the paper's code: no).
    Methods `latent_maps(z1, z2)` and `from_maps(x, maps)` split the call, so that generation
    (`draw`, `images`) computes the maps once and runs only the masked stack per pixel.
    """

    autoregressive = True

    def __init__(self, image_shape, param_names, constrain, batch_norm_momentum: float = 0.9,
                 batch_norm_epsilon: float = 1e-5, mask_latent_maps: bool = False, head_bias: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        if self.image_shape[-1] != 1:
            raise ValueError(f"the PixelCNN decoder takes one-channel images; image_shape={self.image_shape}.")
        self.param_names = tuple(param_names)
        self.constrain = constrain
        self.batch_norm_momentum, self.batch_norm_epsilon = batch_norm_momentum, batch_norm_epsilon
        self.mask_latent_maps, self.head_bias = mask_latent_maps, head_bias
        height, width, _ = self.image_shape
        self.from_z1 = GatedDense(height * width, name="from_z1")
        self.from_z2 = GatedDense(height * width, name="from_z2")
        for i in range(PIXEL_LAYERS):  # attributes, not a list: tf.train.Checkpoint tracks them
            setattr(self, f"conv_{i}", MaskedConv2D(PIXEL_CHANNELS, "A" if i == 0 else "B", use_bias=False,
                                                    masked_in_channels=1 if i == 0 and not mask_latent_maps else None,
                                                    name=f"conv_{i}"))
            setattr(self, f"norm_{i}", keras.layers.BatchNormalization(
                momentum=batch_norm_momentum, epsilon=batch_norm_epsilon, synchronized=True, name=f"norm_{i}"))
        self.head = keras.layers.Conv2D(len(self.param_names), 1, use_bias=head_bias, kernel_initializer="he_normal",
                                        name="head")

    def latent_maps(self, z1, z2):
        """[N, H, W, 2]: z1 and z2 as image-sized maps."""
        height, width, _ = self.image_shape
        return latent_maps(self.from_z1, self.from_z2, z1, z2, height, width)

    def from_maps(self, x, maps, training=None):
        """Likelihood parameters of every pixel given x at the earlier pixels and the latent maps."""
        h = tf.concat([tf.cast(x, maps.dtype), maps], axis=-1)  # x first: the channel mask A applies to
        for i in range(PIXEL_LAYERS):
            h = getattr(self, f"conv_{i}")(h)
            h = tf.nn.relu(getattr(self, f"norm_{i}")(h, training=training))
        return likelihood_parameters(self.head(h), self.param_names, self.constrain, dtype=self.dtype)

    def get_config(self):
        return {**serialization.base_config(self), "image_shape": list(self.image_shape),
                "param_names": list(self.param_names), "constrain": serialization.constrain_to_config(self.constrain),
                "batch_norm_momentum": self.batch_norm_momentum, "batch_norm_epsilon": self.batch_norm_epsilon,
                "mask_latent_maps": self.mask_latent_maps, "head_bias": self.head_bias}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(constrain=serialization.constrain_from_config(config.pop("constrain")), **config)

    def fused_parts(self):
        """The head's kernel (and bias) hold each likelihood parameter's side by side (vamp_tf.fused)."""
        return side_by_side(self.head, len(self.param_names))

    def call(self, z1, z2, x=None, training=None):
        if x is None:
            raise ValueError("p(x | z1, z2) of the PixelHVAE is autoregressive: it needs the images x it scores "
                             "(decode(z, x)); to generate, call decode_images(z, pixel_uniform) or sample().")
        return self.from_maps(x, self.latent_maps(z1, z2), training=training)

    def images(self, z1, z2, likelihood, pixel_uniform=None):
        """E[x_i | x_<i drawn, z1, z2] at every pixel [N, H, W, 1], the pixels drawn by `draw`."""
        if pixel_uniform is None:
            raise ValueError("the PixelHVAE draws its pixels one by one: pass pixel_uniform [N, H, W, C] in [0, 1).")
        return self.draw(z1, z2, likelihood, pixel_uniform)[1]

    def draw(self, z1, z2, likelihood, pixel_uniform):
        """(drawn, means) [N, H, W, 1] of autoregressive decoding at z1, z2 [N, L]: pixel i is drawn
        from p(x_i | x_<i drawn, z) with pixel_uniform[:, i] (likelihood.from_uniform, the inverse
        CDF), and means holds E[x_i | x_<i drawn, z]. The masked stack runs once per pixel in
        raster order inside a tf.while_loop (so an exported graph holds one copy of it)."""
        pixel_uniform = tf.convert_to_tensor(pixel_uniform, tf.float32)
        z1, z2 = tf.convert_to_tensor(z1, tf.float32), tf.convert_to_tensor(z2, tf.float32)
        if tf.executing_eagerly():  # one traced loop instead of 8 layers' ops dispatched per pixel
            return tf.function(lambda a, b, u: self._draw_loop(a, b, likelihood, u), autograph=False)(
                z1, z2, pixel_uniform)
        return self._draw_loop(z1, z2, likelihood, pixel_uniform)

    def _draw_loop(self, z1, z2, likelihood, pixel_uniform):
        height, width, channels = self.image_shape
        maps = self.latent_maps(z1, z2)
        shape = tf.concat([tf.shape(z1)[:1], [height, width, channels]], 0)

        def body(i, canvas, means):
            row, column = i // width, i % width
            params = {k: v[:, row, column] for k, v in self.from_maps(canvas, maps).items()}  # [N, C]
            drawn = likelihood.from_uniform(params, pixel_uniform[:, row, column])
            mean = likelihood.make(**{k: v[:, tf.newaxis, tf.newaxis] for k, v in params.items()}).mean()
            here = tf.reshape(tf.one_hot(i, height * width, dtype=tf.float32), [1, height, width, 1])
            return i + 1, canvas + here * drawn[:, tf.newaxis, tf.newaxis], means + here * mean

        _, drawn, means = tf.while_loop(lambda i, *_: i < height * width, body,
                                        (tf.constant(0), tf.zeros(shape), tf.zeros(shape)),
                                        maximum_iterations=height * width)
        return drawn, means
