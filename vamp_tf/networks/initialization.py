"""The paper's code's initialisation, as an option (ModelConfig.initialization='reference').

vamp_tf initialises every dense and convolution kernel He-normal (Keras' truncated normal,
std sqrt(2 / fan_in)) with zero biases. The paper's PyTorch code (jmtomczak/vae_vampprior)
applies its `he_init`, N(0, 2 / fan_in) untruncated, to the kernels of its linear layers only,
and keeps PyTorch's defaults elsewhere: convolution kernels and every bias uniform in
[-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform with a = sqrt(5)). Batch normalisation and
the VampPrior's pseudo-inputs keep their own initialisation in both.
"""

from __future__ import annotations

import keras
import numpy as np

from vamp_tf.fused import layers_in


def initialize_like_reference(model, seed: int) -> None:
    """Re-draws the kernels and biases of every Dense and Conv2D layer of a built model as the
    paper's code initialises them (module docstring), from a numpy generator seeded with `seed`."""
    rng = np.random.default_rng(seed)
    for layer in layers_in(model):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            continue
        shape = tuple(layer.kernel.shape)
        fan_in = int(np.prod(shape[:-1]))
        bound = 1.0 / np.sqrt(fan_in)
        if isinstance(layer, keras.layers.Dense):
            kernel = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        else:
            kernel = rng.uniform(-bound, bound, shape)
        layer.kernel.assign(kernel.astype(np.float32))
        if layer.bias is not None:
            layer.bias.assign(rng.uniform(-bound, bound, tuple(layer.bias.shape)).astype(np.float32))
