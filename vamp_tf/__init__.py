"""vamp_tf: the VAE with a VampPrior (Tomczak & Welling, AISTATS 2018) in TF2 / Keras 3 / TFP.

Public API (every submodule is reachable as vamp_tf.<name> after `import vamp_tf`):
  vamp_tf.priors          StandardPrior, StandardNormalPrior, MixtureOfGaussiansPrior, VampPrior
  vamp_tf.latents         latent families of q(z | x): DiagonalGaussian (gaussian_mixture), make_family
  vamp_tf.distributions   DiscretizedLogistic, Constraint, bernoulli_likelihood, discretized_logistic_likelihood
  vamp_tf.networks        the networks: dense, conv, pixelcnn; hvae_networks (the architecture factory)
  vamp_tf.models          VAE, HVAE, build_model, KLWarmup (compile / fit), LatentVariableModel
  vamp_tf.presets         trained models shipped with the package: names(), load(name), info(name)
  vamp_tf.config          ModelConfig, TrainConfig, Config
  vamp_tf.evaluation      log_likelihood, elbo_terms, active_units, prior_usage, bits_per_dim
  vamp_tf.optimal_prior   a trained model scored under its aggregate posterior and other priors
  vamp_tf.datasets        load, examples, info, fit_data, dynamic_binarization
  vamp_tf.train_lib       train_and_evaluate (the paper's protocol)
  vamp_tf.workdir         a run's folder: paths, its lock, config/history/results
  vamp_tf.checkpoints     a run's checkpoints; restore_model (a finished run's model)
  vamp_tf.trainer, vamp_tf.step, vamp_tf.results, vamp_tf.plots, vamp_tf.startup ...
Importing the package imports nothing else and changes no global state (no TensorFlow, no
matplotlib backend, no TFDS registration): every submodule and name is imported on first
use. The first use imports TensorFlow with its C++ start-up lines hidden (vamp_tf.startup;
VAMP_TF_VERBOSE=1 shows them), unless TensorFlow was imported before.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("checkpoints", "config", "datasets", "distributions", "evaluation", "files", "fused", "history",
               "latents", "models", "networks", "objectives", "optimal_prior", "optimizers", "plots", "presets",
               "priors", "progress", "results", "serialization", "startup", "statistics", "step", "surgery",
               "tensorboard", "trainer", "train_lib", "workdir")
_NAMES = {  # name: the submodule that defines it
    "Config": "config", "ModelConfig": "config", "TrainConfig": "config",
    "DiscretizedLogistic": "distributions",
    "HVAE": "models", "VAE": "models", "KLWarmup": "models", "build_model": "models",
    "MixtureOfGaussiansPrior": "priors", "StandardNormalPrior": "priors", "StandardPrior": "priors",
    "VampPrior": "priors",
}


def __getattr__(name):
    if (name in _SUBMODULES or name in _NAMES) and name != "startup":
        # The first submodule imports TensorFlow: without its C++ start-up lines (CUDA probes and
        # the like), which VAMP_TF_VERBOSE=1 shows; nothing once TensorFlow is imported.
        importlib.import_module("vamp_tf.startup").import_tensorflow_quietly(quiet_later_lines=False)
    if name in _SUBMODULES:
        return importlib.import_module(f"vamp_tf.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(f"vamp_tf.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'vamp_tf' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBMODULES, *_NAMES])


__all__ = [*_SUBMODULES, *_NAMES]
