"""The one home of the statistics every table and record states: a mean with its standard error over
images, and a paired difference (the same images, the same noise) with its own.

Values are per image: [N], or [N, S] (S draws per image, averaged per image first). The standard error is
the sample standard deviation over images (ddof = 1) over sqrt(N); one image has none (0.0).
"""

from __future__ import annotations

import math

import numpy as np


def standard_error(values) -> float:
    """The standard error of the mean of per-image values [N] (or [N, S], averaged over S first)."""
    values = np.asarray(values, np.float64)
    values = values.reshape(len(values), -1).mean(axis=1)
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0


def mean_and_error(values) -> tuple[float, float]:
    """(mean, standard error) of per-image values [N] (or [N, S], averaged over S first)."""
    values = np.asarray(values, np.float64)
    return float(values.reshape(len(values), -1).mean(axis=1).mean()), standard_error(values)


def paired_difference(a, b) -> tuple[float, float]:
    """(mean, standard error) of b - a over the same images: negative when b is lower."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a paired difference needs the same images: shapes {a.shape} and {b.shape}.")
    return mean_and_error(b - a)
