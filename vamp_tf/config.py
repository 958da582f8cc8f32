"""Frozen, validated configuration for models and training runs.

Every value a run depends on lives here; binaries build these objects from flags and
library code receives them as plain arguments. Validation happens once, in
`__post_init__`, and raises `ValueError` naming the argument and what is allowed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

MODELS = ("vae", "hvae")
PRIORS = ("standard", "mog", "vamp")
POSTERIORS = ("gaussian", "power_spherical")  # latent families (vamp_tf.latents): one file each
INITIALIZATIONS = ("he_normal", "reference")
LIKELIHOODS = ("bernoulli", "discretized_logistic")
PSEUDO_INITS = ("random", "data")
COMPONENT_WEIGHTS = ("uniform", "learned")
OPTIMIZERS = ("adam", "adam_normgrad", "adam_normgrad_code")
STRATEGIES = ("default", "mirrored", "multi_worker")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
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


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not supported; allowed: {', '.join(allowed)}.")


def _check_positive(name: str, value, allow_zero: bool = False) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if isinstance(value, bool) or not low_ok:
        bound = ">= 0" if allow_zero else ">= 1" if isinstance(value, int) else "> 0"
        raise ValueError(f"{name}={value!r} is invalid; it must be {bound}.")


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
        _check_choice("likelihood", self.likelihood, LIKELIHOODS)
        _check_choice("model", self.model, MODELS)
        _check_choice("prior", self.prior, PRIORS)
        _check_choice("pseudo_init", self.pseudo_init, PSEUDO_INITS)
        _check_choice("component_weights", self.component_weights, COMPONENT_WEIGHTS)
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        _check_choice("posterior", self.posterior, POSTERIORS)
        _check_choice("initialization", self.initialization, INITIALIZATIONS)
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
        _check_positive("batch_norm_epsilon", self.batch_norm_epsilon)
        _check_positive("latent_dim", self.latent_dim)
        _check_positive("hidden_units", self.hidden_units)
        _check_positive("num_components", self.num_components)
        mean, std = PSEUDO_INIT_DEFAULTS[self.likelihood]
        if self.pseudo_mean is None:
            object.__setattr__(self, "pseudo_mean", mean)
        if self.pseudo_std is None:
            object.__setattr__(self, "pseudo_std", std)
        if not 0.0 <= self.pseudo_mean <= 1.0:
            raise ValueError(f"pseudo_mean={self.pseudo_mean!r} is invalid; it must be in [0, 1].")
        _check_positive("pseudo_std", self.pseudo_std, allow_zero=True)

    @property
    def input_dim(self) -> int:
        h, w, c = self.input_shape
        return h * w * c

    @property
    def model_name(self) -> str:
        """The paper's name of the model: 'VAE', 'HVAE', 'convHVAE' or 'PixelHVAE' ('VAE (ReLU MLP)' for
        the VAE with the S-VAE's networks)."""
        return ARCHITECTURES[self.architecture].model_name or self.model.upper()


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The training protocol (defaults: the paper's) and the evaluation at the end.

    epochs: maximum number of epochs; early stopping may end the run sooner.
    warmup_epochs: KL warm-up; beta = min(1, epoch / warmup_epochs) for epochs 1, 2, ...
    early_stopping_patience: epochs without a better validation -ELBO (beta = 1) before
      stopping, counted only after the warm-up.
    select_after_warmup: the best (scored) checkpoint is chosen among the epochs at full KL
      weight only (epoch >= warmup_epochs). False (the paper's code, the default): any epoch,
      the warm-up's included; on Caltech 101 that best falls inside the warm-up, and for the
      HVAE VampPrior the first full-KL epoch scored 0.97 and 0.13 nats better for two seeds
      (BUILD.md, the paper's code as referee).
    optimizer: 'adam', or 'adam_normgrad' (Adam on gradients L2-normalised per variable,
      as the paper's reference implementation trains), or 'adam_normgrad_code' (normalised per
      tensor of the code's, where one of ours fuses several, and PyTorch's epsilon 1e-8;
      vamp_tf.optimizers).
    eval_samples: importance samples per test image for the log-likelihood (paper: 5000).
    eval_batch_size: test images per importance-sampling step (memory is bounded by
      eval_batch_size x 500 samples, whatever eval_samples is).
    train_examples / test_examples: optional caps for smoke runs (0 = use all).
    eval_every: validate every this many epochs.
    figure_samples: images in the samples figure at the end (the PixelHVAE draws them
      pixel by pixel: about 3 minutes for 100 Frey Faces on 2 CPU cores).
    figures: draw the figures at the end (samples, reconstructions, pseudo-inputs, the
      log-likelihood histogram, learning curves; 1.5-2.5 s for a dense model); False writes
      every number and file but them.
    precision: 'float32', or a Keras mixed policy for the networks' training computations
      ('mixed_bfloat16': CPUs with AMX / AVX512-BF16 and GPUs; 'mixed_float16': GPUs, with loss
      scaling). Variables, densities, KL and losses stay float32, and validation, the test
      evaluation and export always run in float32 on the float32 weights.
    divergence_factor: stop when an epoch's train -ELBO exceeds this many times the best
      epoch's so far (the loss exploded; the last good checkpoint is kept); 0 never stops.
    keep_last_batch: train on each epoch's last batch too when it is smaller than batch_size
      (its loss the mean over the images it has), as the paper's code does (16 steps an epoch
      on Frey Faces, the last of 65 images); default False: whole batches only (15 steps).
    gray_values: how a 256-level gray pixel p is fed to the model (datasets.pipeline): 'grid'
      p / 255 (the default), or 'bin_centres' (p + 0.5) / 256, as the paper's code feeds Frey
      Faces. Both fall in bin p of the discretized logistic, so the likelihood is the same.
    """

    dataset: str = "mnist"
    data_dir: Optional[str] = None
    split_seed: int = 0
    epochs: int = 2000
    warmup_epochs: int = 100
    early_stopping_patience: int = 50
    select_after_warmup: bool = False
    batch_size: int = 100
    learning_rate: float = 5e-4
    optimizer: str = "adam"
    seed: int = 0
    eval_samples: int = 5000
    eval_batch_size: int = 20
    train_examples: int = 0
    test_examples: int = 0
    eval_every: int = 1
    figure_samples: int = 100
    figures: bool = True
    strategy: str = "default"
    divergence_factor: float = 10.0
    precision: str = "float32"
    keep_last_batch: bool = False
    gray_values: str = "grid"

    def __post_init__(self):
        _check_positive("epochs", self.epochs)
        _check_positive("warmup_epochs", self.warmup_epochs, allow_zero=True)
        _check_positive("early_stopping_patience", self.early_stopping_patience)
        _check_positive("batch_size", self.batch_size)
        _check_positive("learning_rate", self.learning_rate)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_positive("seed", self.seed, allow_zero=True)
        _check_positive("split_seed", self.split_seed, allow_zero=True)
        _check_positive("eval_samples", self.eval_samples)
        _check_positive("eval_batch_size", self.eval_batch_size)
        _check_positive("train_examples", self.train_examples, allow_zero=True)
        _check_positive("test_examples", self.test_examples, allow_zero=True)
        _check_positive("eval_every", self.eval_every)
        if self.select_after_warmup and self.epochs < self.warmup_epochs:
            raise ValueError(f"select_after_warmup=True with epochs={self.epochs} < warmup_epochs={self.warmup_epochs}: "
                             "no epoch would reach full KL weight to be chosen; train at least warmup_epochs epochs "
                             "or drop --select_after_warmup.")
        _check_positive("figure_samples", self.figure_samples)
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("gray_values", self.gray_values, GRAY_VALUES)
        if self.divergence_factor != 0:
            _check_positive("divergence_factor", self.divergence_factor)
            if self.divergence_factor <= 1:
                raise ValueError(f"divergence_factor={self.divergence_factor!r} is invalid; it must be > 1 "
                                 "(or 0 to never stop).")


# Fields that may change between the runs that share one workdir: they decide how long
# to train, where the data is read from, how to evaluate or where to run, not what is
# learned epoch by epoch. Anything else differing means a different experiment.
RESUMABLE_FIELDS = frozenset(
    {"epochs", "data_dir", "eval_samples", "eval_batch_size", "test_examples", "strategy",
     "eval_every", "divergence_factor", "precision", "figure_samples", "figures"})


# What a stored PixelHVAE config without these fields (written before they existed) was trained
# with; other architectures have no batch normalisation, and read back with today's defaults.
LEGACY_MODEL_DEFAULTS = {"pixelcnn": {"batch_norm_momentum": 0.99, "batch_norm_epsilon": 1e-3}}


@dataclasses.dataclass(frozen=True)
class Config:
    model: ModelConfig
    train: TrainConfig

    def __post_init__(self):
        if self.train.gray_values != "grid" and self.model.likelihood != "discretized_logistic":
            raise ValueError(f"gray_values={self.train.gray_values!r} places the pixels of 256-level gray images "
                             f"(the discretized logistic's bins); likelihood={self.model.likelihood!r} models "
                             "binary images: drop --gray_values (or pass grid).")

    def to_dict(self) -> dict[str, Any]:
        return {"model": dataclasses.asdict(self.model), "train": dataclasses.asdict(self.train)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Config":
        model = {**LEGACY_MODEL_DEFAULTS.get(d["model"].get("architecture", "dense"), {}), **d["model"]}
        model["input_shape"] = tuple(model["input_shape"])
        return cls(model=ModelConfig(**model), train=TrainConfig(**d["train"]))

    def differences(self, other: "Config", ignore=RESUMABLE_FIELDS) -> list[str]:
        """Names ('train.seed', ...) of the fields that differ, except those in `ignore`."""
        out = []
        for section in ("model", "train"):
            a, b = self.to_dict()[section], other.to_dict()[section]
            for key in sorted(set(a) | set(b)):
                if key not in ignore and a.get(key) != b.get(key):
                    out.append(f"{section}.{key}: {b.get(key)!r} -> {a.get(key)!r}")
        return out
