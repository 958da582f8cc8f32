"""Gated convolutional networks of the paper's convHVAE (Tomczak & Welling, AISTATS 2018, section 4).

The same interfaces as the dense networks (vamp_tf.networks.dense), so the HVAE takes either:
- `ConvEncoder`: q(z | x), images -> (mean, log_variance): five gated convolutions (7x7 32,
  3x3 stride 2 32, 5x5 64, 3x3 stride 2 64, 3x3 6), flattened, then a Gaussian head;
- `ConvPair`: the body of q(z1 | x, z2): the same convolution stack for x, a gated dense layer
  for z2 and a joint gated dense layer (PairMLP's first_features / joint_features);
- `ConvDecoder`: p(x | z1, z2): each latent through a gated dense layer to an image-sized map,
  the two maps stacked as channels, four 3x3 gated convolutions of 64 channels and a 1x1
  convolution to the likelihood's per-pixel parameters.
Gated convolution: h(x) * sigmoid(g(x)), h and g from one convolution with 2x the channels.
Padding: 'same' (TensorFlow's: a stride-2 convolution of an even size pads one row and column,
below and right) or 'symmetric' (kernel // 2 on every side, PyTorch's Conv2d(padding=k // 2), the
paper's code's: the same output size, the kernel's grid one pixel up and left).

Where the paper's published code (jmtomczak/vae_vampprior, models/convHVAE_2level.py) lays its
convHVAE out otherwise, a `ConvLayout` names the difference: OURS is what vamp_tf's 'conv' and
'pixelcnn' architectures build, REFERENCE the code's convHVAE layout ('conv_reference') and
PIXEL_REFERENCE its PixelHVAE's q(z1 | x, z2) ('pixelcnn_reference'; models/PixelHVAE_2level.py,
whose p(x | z1, z2) maps each latent to an image-sized map, as ours does), for measuring what
the layout is worth (docs/paper_code_referee.md).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional

import keras
import tensorflow as tf

from vamp_tf import latents, serialization
from vamp_tf.networks.decoding import PairDecoder
from vamp_tf.networks.dense import GatedDense
from vamp_tf.fused import side_by_side
from vamp_tf.networks.heads import likelihood_parameters, posterior_head
from vamp_tf.serialization import register

# (kernel size, channels, stride) of the encoders' convolution stack (the reference code's).
ENCODER_STACK = ((7, 32, 1), (3, 32, 2), (5, 64, 1), (3, 64, 2), (3, 6, 1))
# The code's q(z1 | x, z2) takes x through 3x3 convolutions only (its q(z2 | x) through ENCODER_STACK).
REFERENCE_PAIR_STACK = ((3, 32, 1), (3, 32, 2), (3, 64, 1), (3, 64, 2), (3, 6, 1))
DECODER_CONVS = 4
DECODER_CHANNELS = 64
PADDINGS = ("same", "symmetric")


@dataclasses.dataclass(frozen=True)
class ConvLayout:
    """How the convHVAE's q(z1 | x, z2) and p(x | z1, z2) are laid out.

    pair_stack: q(z1 | x, z2)'s convolutions of x ((kernel, channels, stride) each).
    z2_as_wide_as_x: q(z1 | x, z2)'s gated z2 layer is as wide as the flattened x features
      (the code: 210 on Frey Faces, joint 420 -> hidden) instead of hidden_units (joint 510 -> hidden).
    joint_decoder: p(x | z1, z2) takes z1 and z2 to hidden_units each and then one gated layer to
      an image of the data's channels (the code), instead of each latent to its own image-sized
      map, stacked as two channels.
    padding: every convolution's padding, 'same' or 'symmetric' (the code's; PADDINGS).
    """

    pair_stack: tuple = ENCODER_STACK
    z2_as_wide_as_x: bool = False
    joint_decoder: bool = False
    padding: str = "same"


OURS = ConvLayout()
REFERENCE = ConvLayout(pair_stack=REFERENCE_PAIR_STACK, z2_as_wide_as_x=True, joint_decoder=True)
REFERENCE_PADDED = dataclasses.replace(REFERENCE, padding="symmetric")  # and padded as the code pads
PIXEL_REFERENCE = ConvLayout(pair_stack=REFERENCE_PAIR_STACK, z2_as_wide_as_x=True)


def _stack_to_config(stack) -> list:
    return [list(layer) for layer in stack]


def _stack_from_config(stack) -> tuple:
    return tuple(tuple(int(v) for v in layer) for layer in stack)


def _layout_to_config(layout: ConvLayout) -> dict:
    return {**dataclasses.asdict(layout), "pair_stack": _stack_to_config(layout.pair_stack)}


def _layout_from_config(config: dict) -> ConvLayout:
    return ConvLayout(**{**config, "pair_stack": _stack_from_config(config["pair_stack"])})


def stack_output_shape(image_shape, stack=ENCODER_STACK) -> tuple[int, int, int]:
    """(height, width, channels) of a convolution stack's output on one image (either padding: with an
    odd kernel both give ceil(size / stride))."""
    height, width, channels = image_shape
    for _, channels, stride in stack:
        height, width = -(-height // stride), -(-width // stride)
    return height, width, channels


@register
class GatedConv2D(keras.layers.Layer):
    """h(x) * sigmoid(g(x)) for 2-D convolutions h, g computed as one convolution.

    Call: x [batch, height, width, channels] -> [batch, ceil(height / stride), ceil(width / stride),
    filters].
    padding: 'same' or 'symmetric' (odd kernels only; see the module docstring).
    """

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, activation: Optional[Callable] = None,
                 padding: str = "same", **kwargs):
        super().__init__(**kwargs)
        if padding not in PADDINGS:
            raise ValueError(f"padding={padding!r} is not supported; allowed: {', '.join(PADDINGS)}.")
        if padding == "symmetric" and kernel_size % 2 == 0:
            raise ValueError(f"padding='symmetric' needs an odd kernel_size (got {kernel_size}): it pads "
                             "kernel_size // 2 on every side; use padding='same'.")
        self.filters = filters
        self.kernel_size, self.strides, self.padding = kernel_size, strides, padding
        self.activation = keras.activations.get(activation)
        self.pad = kernel_size // 2 if padding == "symmetric" else 0
        self.conv = keras.layers.Conv2D(2 * filters, kernel_size, strides=strides,
                                        padding="valid" if self.pad else "same", kernel_initializer="he_normal",
                                        name="conv")

    def call(self, x):
        if self.pad:
            x = tf.pad(x, [[0, 0], [self.pad, self.pad], [self.pad, self.pad], [0, 0]])
        h, g = tf.split(self.conv(x), 2, axis=-1)
        return self.activation(h) * tf.sigmoid(g)

    def fused_parts(self):
        """h's and g's kernels and biases are one variable each: 2 parts (vamp_tf.fused)."""
        return side_by_side(self.conv, 2)

    def get_config(self):
        return {**serialization.base_config(self), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "activation": keras.activations.serialize(self.activation),
                "padding": self.padding}


@register
class ConvStack(keras.layers.Layer):
    """The encoders' gated convolutions (`stack`: (kernel, channels, stride) each), flattened.

    Call: x [batch, H, W, C] (or [batch, H * W * C] with image_shape given) -> [batch, features].
    Layers are attributes conv_0, conv_1, ... (tf.train.Checkpoint does not see Keras 3 lists).
    """

    def __init__(self, image_shape, stack=ENCODER_STACK, padding: str = "same", **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.stack, self.padding = _stack_from_config(stack), padding
        self.num_convs = len(stack)
        for i, (kernel, channels, stride) in enumerate(stack):
            setattr(self, f"conv_{i}", GatedConv2D(channels, kernel, stride, padding=padding, name=f"conv_{i}"))

    def call(self, x):
        x = tf.reshape(x, (-1,) + self.image_shape)
        for i in range(self.num_convs):
            x = getattr(self, f"conv_{i}")(x)
        return tf.reshape(x, [tf.shape(x)[0], -1])

    def get_config(self):
        return {**serialization.base_config(self), "image_shape": list(self.image_shape),
                "stack": _stack_to_config(self.stack), "padding": self.padding}


@register
class ConvEncoder(keras.layers.Layer):
    """q(z | x) with the convolution stack: x [batch, H, W, C] -> the head's parameters [batch, L]
    (family: a latent family, vamp_tf.latents, whose head it uses; None: a GaussianHead,
    (mean, log_variance)); padding: its convolutions' ('same' or 'symmetric')."""

    def __init__(self, image_shape, latent_dim: int, family=None, padding: str = "same", **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.family_name = serialization.family_to_config(family)
        self.body = ConvStack(image_shape, padding=padding, name="body")
        self.head = posterior_head(latent_dim, family)

    def call(self, x):
        return self.head(self.body(x))

    def get_config(self):
        return {**serialization.base_config(self), "image_shape": list(self.body.image_shape),
                "latent_dim": self.latent_dim, "family": self.family_name, "padding": self.body.padding}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(family=latents.family_from_config(config.pop("family")), **config)


@register
class ConvPair(keras.layers.Layer):
    """The body of the convHVAE's q(z1 | x, z2); the interface of dense.PairMLP.

    first_features(x [batch, H, W, C]) -> [batch, features], computed once per image;
    joint_features(features, z2 [batch, L]) -> [batch, hidden_units].
    layout: a ConvLayout (its pair_stack, z2_as_wide_as_x and padding).
    """

    def __init__(self, image_shape, hidden_units: int, layout: ConvLayout = OURS, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.hidden_units, self.layout = tuple(image_shape), hidden_units, layout
        self.first = ConvStack(image_shape, layout.pair_stack, padding=layout.padding, name="first")
        second_units = (math.prod(stack_output_shape(image_shape, layout.pair_stack)) if layout.z2_as_wide_as_x
                        else hidden_units)
        self.second = GatedDense(second_units, name="second")
        self.joint = GatedDense(hidden_units, name="joint")

    def first_features(self, a):
        return self.first(a)

    def joint_features(self, first_features, b):
        return self.joint(tf.concat([first_features, tf.cast(self.second(b), first_features.dtype)], axis=-1))

    def call(self, a, b):
        return self.joint_features(self.first_features(a), b)

    def get_config(self):
        return {**serialization.base_config(self), "image_shape": list(self.image_shape),
                "hidden_units": self.hidden_units, "layout": _layout_to_config(self.layout)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(layout=_layout_from_config(config.pop("layout")), **config)


def latent_maps(from_z1, from_z2, z1, z2, height: int, width: int):
    """[N, height, width, 2]: z1 and z2 each through its gated dense layer (to height * width
    units) as image-sized maps, stacked as channels (the convHVAE's and PixelHVAE's decoders)."""
    return tf.concat([tf.reshape(layer(z), [-1, height, width, 1]) for layer, z in ((from_z1, z1), (from_z2, z2))],
                     axis=-1)


@register
class ConvDecoder(PairDecoder):
    """p(x | z1, z2) of the convHVAE: (z1 [N, L], z2 [N, L]) -> {param: [N, H, W, C]} float32.

    Args:
      image_shape: (height, width, channels).
      param_names, constrain: the likelihood's per-pixel parameters (see dense.LikelihoodHead).
      hidden_units, layout: with layout.joint_decoder, z1 and z2 go to hidden_units each and one
        gated layer (`joint`) maps both to an image of `channels` channels (the code's layout);
        otherwise each goes to its own image-sized map (hidden_units unused).
    """

    def __init__(self, image_shape, param_names, constrain, hidden_units: int = 0, layout: ConvLayout = OURS,
                 **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.param_names = tuple(param_names)
        self.constrain = constrain
        self.hidden_units, self.layout = hidden_units, layout
        self.joint_decoder = layout.joint_decoder
        height, width, channels = self.image_shape
        if self.joint_decoder and hidden_units < 1:
            raise ValueError(f"hidden_units={hidden_units} is invalid for a joint decoder (ConvLayout.joint_decoder); "
                             "pass the width of z1's and z2's layers (>= 1).")
        latent_units = hidden_units if self.joint_decoder else height * width
        self.from_z1 = GatedDense(latent_units, name="from_z1")
        self.from_z2 = GatedDense(latent_units, name="from_z2")
        if self.joint_decoder:
            self.joint = GatedDense(height * width * channels, name="joint")
        for i in range(DECODER_CONVS):
            setattr(self, f"conv_{i}", GatedConv2D(DECODER_CHANNELS, 3, padding=layout.padding, name=f"conv_{i}"))
        self.head = keras.layers.Conv2D(channels * len(self.param_names), 1, kernel_initializer="he_normal",
                                        name="head")

    def call(self, z1, z2, x=None):
        height, width, channels = self.image_shape
        if self.joint_decoder:
            h = self.joint(tf.concat([self.from_z1(z1), self.from_z2(z2)], axis=-1))
            h = tf.reshape(h, [-1, height, width, channels])
        else:
            h = latent_maps(self.from_z1, self.from_z2, z1, z2, height, width)
        for i in range(DECODER_CONVS):
            h = getattr(self, f"conv_{i}")(h)
        return likelihood_parameters(self.head(h), self.param_names, self.constrain, dtype=self.dtype)

    def fused_parts(self):
        """The head's kernel and bias hold each likelihood parameter's side by side (vamp_tf.fused)."""
        return side_by_side(self.head, len(self.param_names))

    def get_config(self):
        return {**serialization.base_config(self), "image_shape": list(self.image_shape),
                "param_names": list(self.param_names), "constrain": serialization.constrain_to_config(self.constrain),
                "hidden_units": self.hidden_units, "layout": _layout_to_config(self.layout)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(constrain=serialization.constrain_from_config(config.pop("constrain")),
                   layout=_layout_from_config(config.pop("layout")), **config)
