"""Tests of vamp_tf.objectives."""

import numpy as np
import tensorflow as tf

from vamp_tf import objectives


def test_warmup_is_linear_from_one_over_warmup_to_one():
    assert [objectives.warmup_beta(e, 100) for e in (1, 50, 100, 101, 500)] == [0.01, 0.5, 1.0, 1.0, 1.0]
    assert objectives.warmup_beta(1, 0) == 1.0


def test_negative_elbo_weights_the_kl_per_example():
    terms = {"reconstruction": tf.constant([-10.0, -20.0]), "kl": tf.constant([4.0, 6.0])}
    np.testing.assert_allclose(objectives.negative_elbo(terms, 0.5), [12.0, 23.0])
    np.testing.assert_allclose(objectives.negative_elbo(terms), [14.0, 26.0])


def test_the_warmup_ramps_to_beta_and_is_the_papers_at_one():
    assert [objectives.warmup_beta(e, 100, 0.25) for e in (1, 50, 100, 200)] == [0.0025, 0.125, 0.25, 0.25]
    assert [objectives.warmup_beta(e, 100, 1.0) for e in (1, 37, 100)] == [objectives.warmup_beta(e, 100)
                                                                           for e in (1, 37, 100)]
    assert objectives.warmup_beta(3, 0, 4.0) == 4.0
