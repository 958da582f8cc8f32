"""vamp_tf: the VAE with a VampPrior (Tomczak & Welling, AISTATS 2018) in TF2 / Keras 3 / TFP.

Public API (every submodule is reachable as vamp_tf.<name> after `import vamp_tf`):
  vamp_tf.priors          StandardNormalPrior, MixtureOfGaussiansPrior, VampPrior, gaussian_mixture
  vamp_tf.distributions   DiscretizedLogistic, bernoulli_likelihood, discretized_logistic_likelihood
  vamp_tf.networks        the gated networks (networks.dense)
  vamp_tf.model           VAE, HVAE, build_model, KLWarmup (compile / fit)
  vamp_tf.config          ModelConfig, TrainConfig, Config
  vamp_tf.evaluation      log_likelihood, elbo_terms, active_units, prior_usage, bits_per_dim
  vamp_tf.datasets        load, examples, info
  vamp_tf.train_lib       train_and_evaluate (the paper's protocol)
  vamp_tf.workdir         a run's folder: paths, its lock, config/history/results
  vamp_tf.checkpoints     a run's checkpoints; restore_model (a finished run's model)
  vamp_tf.trainer, vamp_tf.step, vamp_tf.checkpoints, vamp_tf.results, vamp_tf.plots ...
Importing the package changes no global state (no matplotlib backend, no TFDS
registration); the training-side modules are imported on first use.
"""

import importlib

from vamp_tf import config, datasets, distributions, evaluation, model, networks, objectives, priors, step
from vamp_tf.config import Config, ModelConfig, TrainConfig
from vamp_tf.distributions import DiscretizedLogistic
from vamp_tf.model import HVAE, VAE, KLWarmup, build_model
from vamp_tf.priors import MixtureOfGaussiansPrior, StandardNormalPrior, VampPrior

__version__ = "0.1.0"

# Imported on first access (they bring matplotlib, checkpoint and trainer machinery).
_LAZY = ("checkpoints", "files", "history", "optimizers", "plots", "progress", "results", "trainer", "train_lib",
         "workdir")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"vamp_tf.{name}")
    raise AttributeError(f"module 'vamp_tf' has no attribute {name!r}")


__all__ = ["config", "datasets", "distributions", "evaluation", "model", "networks", "objectives", "priors", "step",
           "Config", "ModelConfig", "TrainConfig", "DiscretizedLogistic", "HVAE", "VAE", "KLWarmup", "build_model",
           "MixtureOfGaussiansPrior", "StandardNormalPrior", "VampPrior", *_LAZY]
