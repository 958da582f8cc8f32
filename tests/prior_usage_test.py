"""Tests of experiments/prior_usage.py on a small finished run (copied, never modified)."""

import json
import os
import shutil

import pytest
from absl import app

from experiments import prior_usage, report  # both binaries import together (no flag clash)


def _copy_without_metric(workdir, tmp_path):
    copy = str(tmp_path / "run")
    shutil.copytree(workdir, copy)
    path = os.path.join(copy, "results.json")
    results = json.load(open(path))
    expected = results["metrics"].pop("prior_usage")
    json.dump(results, open(path, "w"))
    return copy, path, expected


def test_adds_the_metric_the_trainer_would_have_written(small_runs, tmp_path):
    copy, path, expected = _copy_without_metric(small_runs["frey_vamp"], tmp_path)
    summary = prior_usage.add_prior_usage(copy)
    assert summary["num_components"] == expected["num_components"] == 5
    assert summary["components_used"] == expected["components_used"]
    assert summary["effective_components"] == pytest.approx(expected["effective_components"], rel=1e-5)
    assert json.load(open(path))["metrics"]["prior_usage"] == summary


def test_refuses_a_run_whose_weights_no_longer_match_its_results(small_runs, tmp_path):
    copy, path, _ = _copy_without_metric(small_runs["mnist_vamp"], tmp_path)
    results = json.load(open(path))
    results["metrics"]["test_elbo"] -= 5.0
    json.dump(results, open(path, "w"))
    with pytest.raises(ValueError, match="changed after its evaluation"):
        prior_usage.add_prior_usage(copy)
    assert "prior_usage" not in json.load(open(path))["metrics"]
    os.remove(path)
    with pytest.raises(ValueError, match="no finished results.json"):
        prior_usage.add_prior_usage(copy)


def test_without_a_runs_directory_it_prints_its_usage(tmp_path):
    assert report.Run  # imported beside prior_usage
    for argv in (["prior_usage"], ["prior_usage", str(tmp_path / "missing")]):
        with pytest.raises(app.UsageError, match="usage: python -m experiments.prior_usage RUNS_DIR"):
            prior_usage.main(argv)
