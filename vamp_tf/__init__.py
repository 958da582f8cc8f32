"""vamp_tf: the VAE with a VampPrior (Tomczak & Welling, AISTATS 2018) in TF2 / Keras 3 / TFP.

Public API:
  vamp_tf.priors          StandardNormalPrior, MixtureOfGaussiansPrior, VampPrior, gaussian_mixture
  vamp_tf.distributions   DiscretizedLogistic, bernoulli_likelihood, discretized_logistic_likelihood
  vamp_tf.model           VAE, HVAE, build_model
  vamp_tf.config          ModelConfig, TrainConfig, Config
  vamp_tf.evaluation      log_likelihood, active_units, bits_per_dim
  vamp_tf.datasets        load, info
  vamp_tf.train_lib       train_and_evaluate
Importing the package has no side effects beyond importing TensorFlow.
"""

from vamp_tf import config, datasets, distributions, networks, priors, model
from vamp_tf.config import Config, ModelConfig, TrainConfig
from vamp_tf.distributions import DiscretizedLogistic
from vamp_tf.model import HVAE, VAE, build_model
from vamp_tf.priors import MixtureOfGaussiansPrior, StandardNormalPrior, VampPrior

__version__ = "0.1.0"

__all__ = ["config", "datasets", "distributions", "networks", "priors", "model", "Config", "ModelConfig",
           "TrainConfig", "DiscretizedLogistic", "HVAE", "VAE", "build_model", "MixtureOfGaussiansPrior",
           "StandardNormalPrior", "VampPrior"]
