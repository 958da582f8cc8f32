"""Tests of vamp_tf.statistics against numbers worked by hand."""

import math

import pytest

from vamp_tf import statistics


def test_mean_and_error_of_known_values():
    mean, error = statistics.mean_and_error([1.0, 2.0, 3.0, 6.0])
    assert mean == 3.0
    assert error == pytest.approx(math.sqrt(((4 + 1 + 0 + 9) / 3) / 4))  # s.d. sqrt(14 / 3), over sqrt(4)


def test_draws_per_image_are_averaged_first_and_one_image_has_no_error():
    assert statistics.mean_and_error([[1.0, 3.0], [5.0, 7.0]]) == (4.0, pytest.approx(2.0))  # means 2 and 6
    assert statistics.mean_and_error([5.0]) == (5.0, 0.0)


def test_a_paired_difference_is_of_the_second_minus_the_first_over_the_same_images():
    mean, error = statistics.paired_difference([10.0, 20.0, 30.0], [11.0, 21.0, 32.0])
    assert mean == pytest.approx(4 / 3) and error == pytest.approx(math.sqrt(1 / 3) / math.sqrt(3))
    with pytest.raises(ValueError, match="the same images: shapes \\(3,\\) and \\(2,\\)"):
        statistics.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
