"""Optimizers of the paper's protocol: Adam, and Adam on per-tensor normalised gradients.

The reference implementation of the VampPrior paper trains with "AdamNormGrad": each
parameter tensor's gradient is divided by its L2 norm (+ 1e-7) before the Adam update
(PyTorch's epsilon 1e-8). 'adam_normgrad' divides each vamp_tf variable's gradient by its norm
(Keras' epsilon 1e-7); 'adam_normgrad_code' does exactly what the code does: the pieces of a
variable that fuses several of the code's tensors (vamp_tf.fused: a gated layer's h and g, a
head's mean and log-variance) each by its own norm, and epsilon 1e-8.
"""

import keras
import tensorflow as tf


class AdamNormGrad(keras.optimizers.Adam):
    """Adam applied to g / (||g||_2 + epsilon_norm), per variable, or per piece of a variable.

    parts: {variable path: n}: that variable's gradient is cut into n equal pieces along its
      last axis and each piece divided by its own norm (networks.fused_parts gives a model's);
      a variable not listed is one piece.
    The normalisation happens in `update_step`, i.e. after gradients have been summed
    across replicas under tf.distribute, so it sees the same gradient as one device would.
    """

    def __init__(self, learning_rate=5e-4, epsilon_norm=1e-7, parts=None, name="adam_normgrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.epsilon_norm = epsilon_norm
        self.parts = dict(parts or {})

    def build(self, variables):
        # update_step sees the backend's variable (no Keras path): each variable's number of pieces
        # is looked up here, by its index, from the Keras variables the optimizer is built on.
        unknown = set(self.parts) - {getattr(v, "path", None) for v in variables}
        if unknown:
            raise ValueError(f"parts names {len(unknown)} variable(s) the optimizer is not built on (e.g. "
                             f"{sorted(unknown)[0]!r}): pass networks.fused_parts(model) of the model it trains.")
        self._pieces = [self.parts.get(getattr(v, "path", None), 1) for v in variables]
        super().build(variables)

    def _normalise(self, gradient):
        return gradient / (tf.norm(gradient) + tf.cast(self.epsilon_norm, gradient.dtype))

    def update_step(self, gradient, variable, learning_rate):
        gradient = tf.convert_to_tensor(gradient)
        pieces = self._pieces[self._get_variable_index(variable)]
        if pieces > 1:
            gradient = tf.concat([self._normalise(g) for g in tf.split(gradient, pieces, axis=-1)], axis=-1)
        else:
            gradient = self._normalise(gradient)
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "epsilon_norm": self.epsilon_norm, "parts": self.parts}


# PyTorch's Adam epsilon, which the paper's code's AdamNormGrad keeps (Keras' default: 1e-7).
TORCH_EPSILON = 1e-8


def make_optimizer(name: str, learning_rate: float, precision: str = "float32",
                   parts=None) -> keras.optimizers.Optimizer:
    """'adam', 'adam_normgrad' or 'adam_normgrad_code' (see config.OPTIMIZERS and the module
    docstring; the last needs the model's `parts`, networks.fused_parts(model)); under
    precision='mixed_float16' wrapped in a dynamic LossScaleOptimizer (AdamNormGrad then
    normalises the unscaled gradients)."""
    if name == "adam":
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    elif name == "adam_normgrad":
        optimizer = AdamNormGrad(learning_rate=learning_rate)
    elif name == "adam_normgrad_code":
        if parts is None:
            raise ValueError("optimizer='adam_normgrad_code' normalises each of the paper's code's tensors: pass "
                             "parts=networks.fused_parts(model) (an empty dict if no variable fuses any).")
        optimizer = AdamNormGrad(learning_rate=learning_rate, parts=parts, epsilon=TORCH_EPSILON)
    else:
        raise ValueError(f"optimizer={name!r} is not supported; allowed: adam, adam_normgrad, adam_normgrad_code.")
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
