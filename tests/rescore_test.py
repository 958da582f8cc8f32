"""Tests of tools/rescore.py: a finished run scored again under the reference's clamp (or floor), or with other weights, paired."""

import pytest
from absl import app

from tools import ablation_report, rescore


def test_the_rescore_uses_the_runs_own_noise_so_the_difference_is_the_clamps(small_runs):
    same = rescore.rescore(small_runs["mnist_vamp"], probability_clamp=1e-30)  # a clamp no logit reaches
    assert same["nll_change"] == 0.0 and same["test_log_likelihood"] == same["stored_test_log_likelihood"]
    clamped = rescore.rescore(small_runs["mnist_vamp"], probability_clamp=0.1)  # every pixel in [0.1, 0.9]
    assert clamped["nll_change"] != 0.0 and clamped["num_test_images"] == 50 and clamped["eval_samples"] == 100
    assert clamped["run"] == "mnist_vamp" and clamped["probability_clamp"] == 0.1


def test_the_last_epochs_weights_of_a_one_epoch_run_are_its_best_so_nothing_changes(small_runs):
    latest = rescore.rescore(small_runs["mnist_vamp"], checkpoint="latest")
    assert latest["nll_change"] == 0.0 and latest["test_log_likelihood"] == latest["stored_test_log_likelihood"]
    assert latest["checkpoint"] == "latest" and latest["checkpoint_epoch"] == latest["best_epoch"] == 1
    assert latest["probability_clamp"] == 0.0 and latest["per_image"].shape == (50,)


def test_a_rescore_that_changes_nothing_is_refused(small_runs):
    with pytest.raises(app.UsageError, match="nothing to change: pass --clamp"):
        rescore.rescore(small_runs["mnist_vamp"])


def test_a_run_that_is_not_finished_or_a_clamp_out_of_range_is_refused(small_runs, tmp_path):
    with pytest.raises(app.UsageError, match="holds no finished, evaluated run"):
        rescore.rescore(str(tmp_path), probability_clamp=1e-5)
    with pytest.raises(ValueError, match="probability_clamp"):
        rescore.rescore(small_runs["frey_standard"], probability_clamp=0.7)


def test_a_gray_run_scored_with_the_codes_floor_gains_on_every_image(small_runs):
    """log(P(bin) + c) >= log P(bin) for every importance sample, and the noise is the run's own."""
    floored = rescore.rescore(small_runs["frey_standard"], probability_clamp=1e-7)
    assert floored["likelihood"] == "discretized_logistic" and floored["probability_clamp"] == 1e-7
    assert floored["largest_image_change"] <= floored["nll_change"] <= 0.0
    assert ablation_report.describe_rescore(floored) == "its best-validation weights, each pixel scored as log(P(bin) + 1e-07)"
