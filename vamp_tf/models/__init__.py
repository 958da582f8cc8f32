"""vamp_tf's models: the VAE and the two-level HVAE of Tomczak & Welling (AISTATS 2018).

- models.base: the contract (LatentVariableModel) that evaluation, export and the trainer use;
- models.vae, models.hvae: the two models, composed of injected parts (likelihood, latent
  family, networks, prior);
- models.fit: Keras compile / fit / evaluate (KLWarmup);
- models.factory: build_model(config), the one factory;
- models.saving: load_model(path), a saved .keras file checked before Keras reads it.

The models train with vamp_tf's trainer (trainers/main.py) or, inside other Keras code,
with `model.compile(optimizer); model.fit(dataset, callbacks=[KLWarmup(100)])`: both run
vamp_tf.step.train_step, the one definition of a step.
"""

from vamp_tf.models.base import LatentVariableModel
from vamp_tf.models.factory import MODELS, build_model
from vamp_tf.models.fit import FIT_TERMS, KLWarmup
from vamp_tf.models.hvae import HVAE
from vamp_tf.models.saving import DamagedModelFile, load_model
from vamp_tf.models.vae import VAE

__all__ = ["LatentVariableModel", "MODELS", "build_model", "FIT_TERMS", "KLWarmup", "HVAE", "VAE", "DamagedModelFile",
           "load_model"]
