"""build_model: the one factory of vamp_tf's models (ModelConfig.model)."""

from __future__ import annotations

import keras

from vamp_tf import networks
from vamp_tf.config import ModelConfig
from vamp_tf.models.base import LatentVariableModel
from vamp_tf.models.hvae import HVAE
from vamp_tf.models.vae import VAE

MODELS = {"vae": VAE, "hvae": HVAE}


def build_model(config: ModelConfig, seed: int = 0, precision: str = "float32") -> LatentVariableModel:
    """The model a ModelConfig describes, with all weights created.

    seed: initialises every weight (sets Keras' global seed, then builds; with
      config.initialization='reference' the networks' weights are then drawn again, the paper's
      code's way, from a generator seeded with it) and seeds the
      noise of fit batches. A VampPrior starts from random pseudo-inputs; for
      pseudo_init='data', call model.prior.initialize_from_data(images, ...) afterwards
      (the trainer does, for a fresh run), or restore a checkpoint.
    precision: the Keras dtype policy of the networks' layers: 'float32', 'mixed_bfloat16'
      or 'mixed_float16'. Variables (pseudo-inputs included) are float32 under every policy,
      and the networks' outputs are cast to float32, so every density, KL and loss is float32;
      models of different precisions share checkpoints. The policy applies to the layers built
      here only (Keras' global policy is restored afterwards).
    """
    keras.utils.set_random_seed(seed)
    # The model itself stays float32 (its inputs are not cast); its networks take the policy.
    model = MODELS[config.model](config, prior_seed=seed, noise_seed=seed, precision=precision, name=config.model)
    model.build_weights()
    if config.initialization == "reference":  # the paper's code's initialisation, drawn again from `seed`
        networks.initialize_like_reference(model, seed)
    return model
