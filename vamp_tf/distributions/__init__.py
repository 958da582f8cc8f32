"""Image likelihoods as TensorFlow Probability distributions (depends on nothing local).

- `DiscretizedLogistic`: a logistic density integrated over the 256 bins of [0, 1],
  the likelihood the VampPrior paper (Tomczak & Welling, AISTATS 2018) uses for gray
  images. Unlike the reference code, the edge bins take the tails, so the bin
  probabilities sum to one.
- `bernoulli_likelihood`, `discretized_logistic_likelihood`: per-image distributions
  (`tfd.Independent` over height, width, channels).
- `LIKELIHOODS` / `get_likelihood(name)`: the one place where a likelihood name is
  turned into parameter names, constraints and a distribution.
"""

from vamp_tf.distributions.discretized_logistic import DiscretizedLogistic
from vamp_tf.distributions.likelihoods import (LIKELIHOODS, LOG_SCALE_RANGE, LOGISTIC_LOC_RANGE, Bernoulli, Constraint,
                                               Likelihood, bernoulli_likelihood, clamped_bernoulli,
                                               discretized_logistic_likelihood, floored_discretized_logistic,
                                               get_likelihood)

__all__ = ["DiscretizedLogistic", "LIKELIHOODS", "LOG_SCALE_RANGE", "LOGISTIC_LOC_RANGE", "Bernoulli", "Constraint",
           "Likelihood", "bernoulli_likelihood", "clamped_bernoulli", "discretized_logistic_likelihood",
           "floored_discretized_logistic", "get_likelihood"]
