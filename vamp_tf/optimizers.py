"""Optimizers of the paper's protocol: Adam, and Adam on per-variable normalised gradients.

The reference implementation of the VampPrior paper trains with "AdamNormGrad": each
variable's gradient is divided by its L2 norm (+ 1e-7) before the Adam update.
"""

import keras
import tensorflow as tf


class AdamNormGrad(keras.optimizers.Adam):
    """Adam applied to g / (||g||_2 + epsilon_norm), per variable.

    The normalisation happens in `update_step`, i.e. after gradients have been summed
    across replicas under tf.distribute, so it sees the same gradient as one device would.
    """

    def __init__(self, learning_rate=5e-4, epsilon_norm=1e-7, name="adam_normgrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.epsilon_norm = epsilon_norm

    def update_step(self, gradient, variable, learning_rate):
        gradient = tf.convert_to_tensor(gradient)
        gradient = gradient / (tf.norm(gradient) + tf.cast(self.epsilon_norm, gradient.dtype))
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "epsilon_norm": self.epsilon_norm}


def make_optimizer(name: str, learning_rate: float, precision: str = "float32") -> keras.optimizers.Optimizer:
    """'adam' or 'adam_normgrad' (see config.OPTIMIZERS); under precision='mixed_float16'
    wrapped in a dynamic LossScaleOptimizer (AdamNormGrad then normalises the unscaled
    gradients)."""
    if name == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    elif name == "adam_normgrad":
        optimizer = AdamNormGrad(learning_rate=learning_rate)
    else:
        raise ValueError(f"optimizer={name!r} is not supported; allowed: adam, adam_normgrad.")
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
