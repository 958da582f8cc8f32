"""Latent families: the kind of distribution q(z | x) is, chosen once per model.

- `gaussian`: the diagonal Gaussian of the paper (latents.gaussian.DiagonalGaussian).
- `power_spherical`: the Power Spherical on the unit sphere (latents.power_spherical.PowerSpherical),
  with the uniform distribution on the sphere as its fixed prior.
`make_family(name)` is the one factory: a family named X lives in vamp_tf/latents/X.py, with
its head (the layer that gives its parameters), and is listed in FAMILIES; models, priors, evaluation and export use it through the
LatentFamily contract (latents.family) only.
"""

from vamp_tf.latents.family import LatentFamily
from vamp_tf.latents.gaussian import (LOG_VARIANCE_RANGE, DiagonalGaussian, DiagonalGaussianMixture, GaussianHead,
                                      gaussian_mixture)
from vamp_tf.latents.power_spherical import PowerSpherical, PowerSphericalMixture, power_spherical_mixture

FAMILIES = {"gaussian": DiagonalGaussian, "power_spherical": PowerSpherical}


def make_family(name: str) -> LatentFamily:
    """The latent family called `name` (ModelConfig.posterior)."""
    if name not in FAMILIES:
        raise ValueError(f"posterior={name!r} is not supported; allowed: {', '.join(FAMILIES)}.")
    return FAMILIES[name]()


def family_from_config(name):
    """The family a layer's Keras config names (serialization writes it by name); None stays None
    (the layer's default, the Gaussian)."""
    return None if name is None else make_family(name)


__all__ = ["LatentFamily", "DiagonalGaussian", "DiagonalGaussianMixture", "GaussianHead", "LOG_VARIANCE_RANGE",
           "gaussian_mixture", "PowerSpherical", "PowerSphericalMixture", "power_spherical_mixture", "FAMILIES",
           "make_family", "family_from_config"]
