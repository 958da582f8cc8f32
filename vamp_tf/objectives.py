"""The training objective: the negative ELBO with KL warm-up, per example.

Tomczak & Welling (2018) train with the ELBO E_q[log p(x|z)] - beta * KL, beta rising
linearly from 0 to 1 over the warm-up epochs (Bowman et al., 2016; Sonderby et al., 2016).
Losses stay per example; the caller reduces them (sum / global batch size under
tf.distribute).
"""

import tensorflow as tf


def negative_elbo(terms: dict, beta=1.0):
    """-(reconstruction - beta * kl), per example: [batch].

    terms: the dict returned by a model call ('reconstruction', 'kl', each [batch]).
    beta: scalar (a tensor, so that changing it does not retrace a tf.function).
    """
    return -(terms["reconstruction"] - tf.cast(beta, terms["kl"].dtype) * terms["kl"])


def warmup_beta(epoch: int, warmup_epochs: int, beta: float = 1.0) -> float:
    """The KL weight for 1-based `epoch`: min(1, epoch / warmup_epochs) (1 when there is no warm-up),
    as the reference implementation schedules it, times the final weight `beta` (1: the ELBO; other
    values train D + beta R, a point of the rate-distortion plane: the warm-up ramps to beta)."""
    if warmup_epochs <= 0:
        return 1.0 * beta
    return min(1.0, epoch / warmup_epochs) * beta
