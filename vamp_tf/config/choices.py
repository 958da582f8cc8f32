"""The names a configuration may take, and what an architecture name means (vamp_tf.config).

Each tuple lists the allowed values of one field; `check_choice` / `check_positive` raise the
ValueError that names the field and what is allowed.
"""

from __future__ import annotations

import math

import dataclasses
from typing import Optional

MODELS = ("vae", "hvae")
PRIORS = ("standard", "mog", "vamp")
POSTERIORS = ("gaussian", "power_spherical")  # latent families (vamp_tf.latents): one file each
INITIALIZATIONS = ("he_normal", "reference")
LIKELIHOODS = ("bernoulli", "discretized_logistic")
PSEUDO_INITS = ("random", "data")
COMPONENT_WEIGHTS = ("uniform", "learned")
OPTIMIZERS = ("adam", "adam_normgrad", "adam_normgrad_code")
STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")  # auto: vamp_tf.precision.resolve
GRAY_VALUES = ("grid", "bin_centres")  # a 256-level gray pixel p fed as p / 255, or as (p + 0.5) / 256

# Default initialisation of the VampPrior's pseudo-inputs, N(mean, std), by likelihood
# (binary images: mostly-off pixels; gray images: mid-gray).
PSEUDO_INIT_DEFAULTS = {"bernoulli": (0.05, 0.01), "discretized_logistic": (0.5, 0.02)}


@dataclasses.dataclass(frozen=True)
class Architecture:
    """What an architecture name means to a configuration (its networks: vamp_tf.networks).

    models: the models it builds networks for.
    model_name: the paper's name of the model built with it (None: the model's own, 'VAE' or 'HVAE').
    description: what it is, for the error that refuses another model.
    pixelcnn_decoder: its p(x | z1, z2) is the autoregressive PixelCNN (vamp_tf.networks.pixelcnn),
      which takes one-channel images only (its masks order pixels, not channels within a pixel).
    """
    models: tuple[str, ...]
    model_name: Optional[str]
    description: str
    pixelcnn_decoder: bool = False


ARCHITECTURES = {
    "dense": Architecture(("vae", "hvae"), None, "the paper's gated MLPs"),
    "conv": Architecture(("hvae",), "convHVAE", "the paper's convHVAE networks"),
    "conv_reference": Architecture(("hvae",), "convHVAE (the code's layout)",
                                   "the convHVAE laid out as the paper's published code does (networks.conv.REFERENCE)"),
    "conv_reference_padded": Architecture(("hvae",), "convHVAE (the code's layout and padding)",
                                          "the convHVAE laid out and padded as the paper's published code does "
                                          "(networks.conv.REFERENCE_PADDED: PyTorch's symmetric padding)"),
    "pixelcnn": Architecture(("hvae",), "PixelHVAE", "the paper's PixelHVAE networks (a PixelCNN decoder)",
                             pixelcnn_decoder=True),
    "pixelcnn_reference": Architecture(("hvae",), "PixelHVAE (the code's layout)",
                                       "the PixelHVAE with q(z1 | x, z2) laid out as the paper's published code does "
                                       "(networks.conv.PIXEL_REFERENCE)", pixelcnn_decoder=True),
    "pixelcnn_reference_full": Architecture(("hvae",), "PixelHVAE (the code's layout and decoder)",
                                            "the PixelHVAE as the paper's published code builds it: pixelcnn_reference "
                                            "with the code's decoder (its first masked layer masks the latent maps "
                                            "too; no bias in its output convolution)", pixelcnn_decoder=True),
    "relu_mlp": Architecture(("vae",), "VAE (ReLU MLP)", "the S-VAE's networks"),
}


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not supported; allowed: {', '.join(allowed)}.")


def check_positive(name: str, value, allow_zero: bool = False) -> None:
    """ValueError unless value is a finite number > 0 (>= 0 with allow_zero); inf and NaN are refused."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not (value >= 0 if allow_zero else value > 0):
        bound = ">= 0" if allow_zero else ">= 1" if isinstance(value, int) else "> 0"
        kind = "an integer" if isinstance(value, int) and not isinstance(value, bool) else "a finite number"
        raise ValueError(f"{name}={value!r} is invalid; it must be {kind} {bound}.")

