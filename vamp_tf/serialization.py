"""How vamp_tf's layers are written into a Keras config and rebuilt from it (keras.saving).

Every public layer of vamp_tf (networks, heads, priors) and model is registered under the
package 'vamp_tf' and has `get_config` / `from_config`, so `model.save("m.keras")`,
`keras.models.load_model`, `get_config` / `from_config` and `to_json` work as for Keras' own
layers. What a layer is given besides numbers is written by name: a likelihood's parameter
constraint (distributions.Constraint) as its likelihood and clamp, a latent family by its name
(rebuilt by vamp_tf.latents.family_from_config), a sub-layer (a custom body, a VampPrior's encoder) as its own
Keras config.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import keras

from vamp_tf import distributions

PACKAGE = "vamp_tf"


@contextlib.contextmanager
def global_policy(dtype):
    """Keras' global dtype policy set to `dtype` (a name, a DTypePolicy or its config) inside the block."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(keras.dtype_policies.get(dtype))
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def register(cls):
    """Registers a layer class with keras.saving under 'vamp_tf', and makes the sub-layers its __init__
    creates take the dtype it is given (Encoder(..., dtype='float64') is float64 through and through, as
    Keras' own composite layers are); without a dtype they take the global policy, as before."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        if kwargs.get("dtype") is None:
            return init(self, *args, **kwargs)
        with global_policy(kwargs["dtype"]):
            return init(self, *args, **kwargs)

    __init__.__signature__ = inspect.signature(init)  # what Keras reads of __init__ (getfullargspec too)
    cls.__init__ = __init__
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def base_config(layer: keras.layers.Layer) -> dict:
    """What every Keras layer's config holds: name, trainable and dtype policy."""
    return {"name": layer.name, "trainable": layer.trainable,
            "dtype": keras.dtype_policies.serialize(layer.dtype_policy)}


def constrain_to_config(constrain):
    """A likelihood's constraint as config: a distributions.Constraint by its likelihood and clamp, any
    other callable as Keras serializes it (it must then be registered with keras.saving)."""
    if isinstance(constrain, distributions.Constraint):
        return constrain.get_config()
    return keras.saving.serialize_keras_object(constrain)


def constrain_from_config(config):
    if isinstance(config, dict) and "likelihood" in config:
        return distributions.Constraint(**config)
    return keras.saving.deserialize_keras_object(config)


def family_to_config(family):
    """A latent family (vamp_tf.latents) by its name; None stays None (the Gaussian default)."""
    return None if family is None else family.name


def layer_to_config(layer):
    """A sub-layer given to a layer (a custom body, a VampPrior's encoder) as its Keras config; None stays None.
    Its build config is left out: the layer that holds it builds it on its first call, as at construction."""
    if layer is None:
        return None
    config = keras.saving.serialize_keras_object(layer)
    config.pop("build_config", None)
    return config


def layer_from_config(config):
    return None if config is None else keras.saving.deserialize_keras_object(config)
