"""Units of the reported numbers, with numpy only (no TensorFlow): tools that only lay out
results (tools/report.py) import this instead of vamp_tf.evaluation."""

from __future__ import annotations

import math

import numpy as np


def bits_per_dim(log_likelihood_nats, num_dims: int):
    """-log p(x) / (D ln 2): nats per image -> bits per dimension."""
    return -np.asarray(log_likelihood_nats) / (num_dims * math.log(2.0))
