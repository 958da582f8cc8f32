"""Prior and latents: p(z) (standard, mixture of Gaussians, VampPrior) and the family of q(z | x)."""

from absl import flags

from trainers.flags._defaults import MODEL
from vamp_tf import config as config_lib

PRIOR = flags.DEFINE_enum("prior", MODEL.prior, list(config_lib.PRIORS),
                          "standard (N(0, I), or uniform on the sphere), mog (learnable mixture), vamp (VampPrior).")
NUM_COMPONENTS = flags.DEFINE_integer("num_components", MODEL.num_components,
                                      "K: pseudo-inputs (vamp) or mixture components (mog).")
PSEUDO_INIT = flags.DEFINE_enum("pseudo_init", MODEL.pseudo_init, list(config_lib.PSEUDO_INITS),
                                "random: N(pseudo_mean, pseudo_std); data: K training images plus noise.")
PSEUDO_MEAN = flags.DEFINE_float("pseudo_mean", None, "Mean of the random pseudo-input init "
                                 "(default 0.05 binary, 0.5 gray).")
PSEUDO_STD = flags.DEFINE_float("pseudo_std", None, "Std of the pseudo-input init / data noise "
                                "(default 0.01 binary, 0.02 gray).")
COMPONENT_WEIGHTS = flags.DEFINE_enum(
    "component_weights", MODEL.component_weights, list(config_lib.COMPONENT_WEIGHTS),
    "VampPrior mixture weights: uniform 1/K (the paper's) or learned (softmax of K trained logits).")
POSTERIOR = flags.DEFINE_enum("posterior", MODEL.posterior, list(config_lib.POSTERIORS),
                              "The latent family of q(z | x) (and of the hvae's p(z1 | z2)): gaussian (the paper's "
                              "diagonal Gaussian) or power_spherical (z on the unit sphere in R^latent_dim; its standard "
                              "prior is the uniform distribution on the sphere).")
