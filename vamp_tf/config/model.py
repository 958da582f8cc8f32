"""ModelConfig: the architecture of a VAE / HVAE, frozen and validated once (vamp_tf.config)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from vamp_tf.config.choices import (ARCHITECTURES, COMPONENT_WEIGHTS, INITIALIZATIONS, LIKELIHOODS, MODELS,
                                    POSTERIORS, PRIORS, PSEUDO_INIT_DEFAULTS, PSEUDO_INITS, check_choice,
                                    check_positive)


# What a stored PixelHVAE config without these fields (written before they existed) was trained
# with; other architectures have no batch normalisation, and read back with today's defaults.
LEGACY_MODEL_DEFAULTS = {"pixelcnn": {"batch_norm_momentum": 0.99, "batch_norm_epsilon": 1e-3}}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture of a VAE / HVAE.

    input_shape: (height, width, channels) of the images.
    likelihood: 'bernoulli' for binary images, 'discretized_logistic' for 256-level gray.
    model: 'vae' (one stochastic layer) or 'hvae' (two, the paper's L = 2 model).
    prior: 'standard' N(0, I), 'mog' learnable mixture of Gaussians, 'vamp' VampPrior.
    latent_dim: size of z (for the HVAE, of both z1 and z2).
    hidden_units: width of every gated dense layer.
    num_components: K, the number of pseudo-inputs (vamp) or mixture components (mog).
    pseudo_init: 'random' (N(pseudo_mean, pseudo_std)) or 'data' (K training images + noise).
    component_weights: the VampPrior's mixture weights: 'uniform' 1/K (the paper's) or
      'learned' (softmax of K trained logits; see priors.VampPrior).
    architecture: the HVAE's networks: 'dense' (gated MLPs), 'conv' (the paper's convHVAE:
      gated convolutional encoders and decoder; vamp_tf.networks.conv) or 'pixelcnn' (the
      paper's PixelHVAE: the convHVAE's encoders and an autoregressive PixelCNN decoder;
      vamp_tf.networks.pixelcnn; one-channel images); 'conv_reference' and 'pixelcnn_reference'
      lay them out as the paper's published code does (vamp_tf.networks.conv.ConvLayout),
      'conv_reference_padded' pads the convolutions as it does too (PyTorch's symmetric padding), and
      'pixelcnn_reference_full' takes the code's PixelCNN decoder too (its masks and bias). The
      VAE's: 'dense' (the paper's gated MLPs) or 'relu_mlp' (the S-VAE's networks: ReLU layers of
      2 * hidden_units and hidden_units in the encoder, hidden_units and 2 * hidden_units in the
      decoder; with hidden_units=128 its MNIST model).
    probability_clamp: 0 (exact, the default) or c in (0, 0.5): each pixel's probability is kept
      off zero in training and evaluation as the paper's reference code does: a Bernoulli's
      probabilities clamped to [c, 1 - c] (the code: c = 1e-5; distributions.clamped_bernoulli), a
      discretized logistic's bin probability P scored as P + c (the code: log(P + 1e-7);
      distributions.floored_discretized_logistic).
    initialization: 'he_normal' (vamp_tf's: every kernel He-normal, zero biases) or 'reference' (the
      paper's code's: He-normal on dense kernels only, PyTorch's uniform defaults on convolutions
      and biases; vamp_tf.networks.initialization).
    posterior: the latent family of q(z | x) (and of the HVAE's p(z1 | z2)): 'gaussian', the
      paper's diagonal Gaussian, or 'power_spherical', z on the unit sphere S^(latent_dim - 1)
      (its standard prior is the uniform distribution on the sphere; vamp_tf.latents).
    batch_norm_momentum, batch_norm_epsilon: the PixelCNN decoder's batch normalisation (Keras'
      convention). The defaults are the paper's code's (PyTorch's momentum 0.1 is Keras' 0.9):
      its moving averages follow the weights within a Frey Faces epoch (16 steps). PixelHVAE
      runs configured before these fields existed trained with Keras' 0.99 and 1e-3, and read
      back so (LEGACY_MODEL_DEFAULTS); the other architectures have no batch normalisation.
    """

    input_shape: tuple[int, int, int] = (28, 28, 1)
    likelihood: str = "bernoulli"
    model: str = "vae"
    prior: str = "vamp"
    latent_dim: int = 40
    hidden_units: int = 300
    num_components: int = 500
    pseudo_init: str = "random"
    pseudo_mean: Optional[float] = None
    pseudo_std: Optional[float] = None
    component_weights: str = "uniform"
    architecture: str = "dense"
    probability_clamp: float = 0.0
    batch_norm_momentum: float = 0.9
    batch_norm_epsilon: float = 1e-5
    posterior: str = "gaussian"
    initialization: str = "he_normal"

    def __post_init__(self):
        shape = tuple(self.input_shape)
        if len(shape) != 3 or any((not isinstance(d, int)) or d < 1 for d in shape):
            raise ValueError(
                f"input_shape={self.input_shape!r} is invalid; it must be (height, width, channels) "
                "of positive integers.")
        object.__setattr__(self, "input_shape", shape)
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        check_choice("model", self.model, MODELS)
        check_choice("prior", self.prior, PRIORS)
        check_choice("pseudo_init", self.pseudo_init, PSEUDO_INITS)
        check_choice("component_weights", self.component_weights, COMPONENT_WEIGHTS)
        check_choice("architecture", self.architecture, ARCHITECTURES)
        check_choice("posterior", self.posterior, POSTERIORS)
        check_choice("initialization", self.initialization, INITIALIZATIONS)
        architecture = ARCHITECTURES[self.architecture]
        if self.model not in architecture.models:
            others = [name for name, a in ARCHITECTURES.items() if self.model in a.models]
            raise ValueError(f"architecture={self.architecture!r} ({architecture.description}) builds networks for "
                             f"model={' or '.join(map(repr, architecture.models))}, not model={self.model!r}: pass "
                             f"--model={architecture.models[0]}, or an architecture of the {self.model.upper()}: "
                             f"{', '.join(others)}.")
        if architecture.pixelcnn_decoder and shape[-1] != 1:
            raise ValueError(f"architecture={self.architecture!r} takes one-channel images; input_shape={shape} has "
                             f"{shape[-1]} channels (the masks order pixels, not channels within a pixel).")
        if self.posterior == "power_spherical" and self.prior == "mog":
            raise ValueError("prior='mog' is a mixture of Gaussians; posterior='power_spherical' takes prior='standard' "
                             "(uniform on the sphere) or 'vamp' (the VampPrior on the sphere).")
        if self.posterior == "power_spherical" and self.latent_dim < 2:
            raise ValueError(f"latent_dim={self.latent_dim} is too small for posterior='power_spherical': z lies on "
                             "the sphere S^(latent_dim - 1) in R^latent_dim, which needs latent_dim >= 2.")
        if self.component_weights == "learned" and self.prior != "vamp":
            raise ValueError(f"component_weights='learned' is an option of the VampPrior (prior='vamp'), not of "
                             f"prior={self.prior!r}: the mog prior always learns its weights, the standard prior has none.")
        if self.probability_clamp and not 0.0 < self.probability_clamp < 0.5:
            raise ValueError(f"probability_clamp={self.probability_clamp!r} is invalid: it must be in (0, 0.5) (a "
                             "Bernoulli's probabilities clamped to [c, 1 - c], a discretized logistic's bin "
                             "probability P scored as P + c), or 0 for the exact likelihood.")
        if not 0.0 <= self.batch_norm_momentum < 1.0:
            raise ValueError(f"batch_norm_momentum={self.batch_norm_momentum!r} is invalid; it must be in [0, 1) "
                             "(Keras' convention: the share of the moving average kept at each step).")
        check_positive("batch_norm_epsilon", self.batch_norm_epsilon)
        check_positive("latent_dim", self.latent_dim)
        check_positive("hidden_units", self.hidden_units)
        check_positive("num_components", self.num_components)
        mean, std = PSEUDO_INIT_DEFAULTS[self.likelihood]
        if self.pseudo_mean is None:
            object.__setattr__(self, "pseudo_mean", mean)
        if self.pseudo_std is None:
            object.__setattr__(self, "pseudo_std", std)
        if not 0.0 <= self.pseudo_mean <= 1.0:
            raise ValueError(f"pseudo_mean={self.pseudo_mean!r} is invalid; it must be in [0, 1].")
        check_positive("pseudo_std", self.pseudo_std, allow_zero=True)

    @property
    def input_dim(self) -> int:
        h, w, c = self.input_shape
        return h * w * c

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        """The ModelConfig of a stored dict (config.json, a Keras config): input_shape as a tuple, and the
        fields a stored config predates read back as LEGACY_MODEL_DEFAULTS says it was trained."""
        model = {**LEGACY_MODEL_DEFAULTS.get(d.get("architecture", "dense"), {}), **d}
        model["input_shape"] = tuple(model["input_shape"])
        return cls(**model)

    @property
    def model_name(self) -> str:
        """The paper's name of the model: 'VAE', 'HVAE', 'convHVAE' or 'PixelHVAE' ('VAE (ReLU MLP)' for
        the VAE with the S-VAE's networks)."""
        return ARCHITECTURES[self.architecture].model_name or self.model.upper()

